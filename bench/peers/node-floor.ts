// The platform floor: N processes of the least Node.js web server (node-floor-server.ts:
// files in memory, a fixed head, no routing, on the client streams l7's nodes use), reached the way l7's nodes are
// (each on its own port behind a proxy, or all on one shared listening socket). Measured in
// the same rounds as l7 and the peer, it splits l7's distance from HAProxy + nginx into what
// any Node.js process pays here (event loop, system calls, wake-ups) and what l7's own work adds.

import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { childExecArgv, stopChild, waitForMessage } from '../../service/core/child-process.js'
import { L7Error } from '../../service/core/errors.js'
import { bindSharedFront, type SharedFront } from '../../service/cluster/front.js'

const SERVER_SCRIPT = fileURLToPath(new URL('./node-floor-server.js', import.meta.url))
const START_TIMEOUT_MS = 20_000

type FloorMessage = { type: 'loaded'; files: number } | { type: 'listening'; port: number }

export interface RunningNodeFloor {
  /** Each process's own port (for a proxy in front). */
  ports: number[]
  /** The port every process also accepts on (one shared listening socket). */
  sharedPort: number
  pids: number[]
  stop(): Promise<void>
}

export async function startNodeFloor(docroot: string, count: number): Promise<RunningNodeFloor> {
  const children: ChildProcess[] = []
  let shared: SharedFront | null = null
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)))
    shared?.close()
  }
  try {
    shared = bindSharedFront('127.0.0.1', 0)
    const ports: number[] = []
    for (let i = 0; i < count; i++) {
      const child = fork(SERVER_SCRIPT, [docroot], { execArgv: childExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      children.push(child)
      const failed = (what: string) => (f: { kind: string }) => new L7Error('L7_BENCH', `node floor process ${i}: ${what} (${f.kind})`)
      await waitForMessage<FloorMessage, 'loaded'>(child, 'loaded', START_TIMEOUT_MS, failed('did not load the files'))
      // Its own port first, then the shared one (each listen answers once, in order).
      let listening = waitForMessage<FloorMessage, 'listening'>(child, 'listening', START_TIMEOUT_MS, failed('did not listen'))
      child.send({ type: 'listen' })
      ports.push((await listening).port)
      listening = waitForMessage<FloorMessage, 'listening'>(child, 'listening', START_TIMEOUT_MS, failed('did not accept on the shared port'))
      child.send({ type: 'listen' }, shared.handle as never)
      await listening
    }
    return { ports, sharedPort: shared.port, pids: children.map((c) => c.pid!), stop }
  } catch (err) {
    await stop()
    throw err
  }
}
