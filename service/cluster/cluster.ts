// `l7 cluster`: a dispatcher and N nodes on this machine, each its own process, started and
// watched by this (parent) process. The parent relays socket handoffs between sibling nodes
// (file-descriptor passing: a child cannot send to a sibling directly), restarts nothing on
// its own, and stops every child when closed. Children exit by themselves when the parent
// dies (they watch their IPC channel), so there are no orphans.

import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type net from 'node:net'
import { fileURLToPath } from 'node:url'
import { stopChild, waitForMessage } from '../core/child-process.js'
import { InvalidArgumentError, L7Error } from '../core/errors.js'
import { POLICY_NAMES, type PolicyName, type PolicyParams } from '../policy/types.js'
import type { DiskModel } from '../node/disk.js'
import { DEFAULT_CACHE_BYTES } from '../node/node.js'
import { generateFileSizes, resolveSurgeParams, SURGE_PRESETS } from '../surge/generate.js'
import { materialize } from '../surge/materialize.js'
import { freePort } from './ports.js'
import { CHILD_CONFIG_ENV, type ChildConfig, type ChildMessage, type ParentMessage } from './messages.js'

const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url))
const READY_TIMEOUT_MS = 20_000

export interface ClusterOptions {
  nodes?: number
  policy?: PolicyName
  /** Policy parameters for the dispatcher (nodes receive them in its WELCOME). */
  params?: Partial<PolicyParams>
  /** Serve this directory; without it, `files` SURGE files are generated in a temp dir. */
  docroot?: string
  files?: number
  /** Seed of the generated file set (default: the seed paper's preset, hong-noh-2005). */
  seed?: number
  host?: string
  /** Dispatcher port; nodes listen on port+1 .. port+N. 0 = every port ephemeral. */
  port?: number
  cacheBytes?: number
  disk?: DiskModel | null
  handoff?: 'relay' | 'fd'
  token?: string
  /** false = no dispatcher: nodes route by chbl over the static membership. */
  dispatcher?: boolean
  /** Benchmarks only: every node sends every request to this node (measures handoff cost). */
  forwardAllTo?: number
  /** Node options added for the node processes only, e.g. --cpu-prof (they inherit this process's too). */
  nodeExecArgv?: string[]
}

export interface ClusterChild {
  role: 'node' | 'dispatcher'
  id: number
  process: ChildProcess
  url: string
  port: number
  adminPort: number | null
}

export interface RunningCluster {
  /** ws:// URL of the dispatcher, or null when started without one. */
  dispatcher: string | null
  nodes: string[]
  admin: string[]
  docroot: string
  children: ClusterChild[]
  /** The ready line's JSON. */
  readyInfo(): { dispatcher: string | null; nodes: string[]; admin: string[]; docroot: string }
  /** Kill one node's process (tests: a node failing). */
  killNode(id: number, signal?: NodeJS.Signals): Promise<void>
  /** Kill the dispatcher's process (tests: the dispatcher failing). */
  killDispatcher(signal?: NodeJS.Signals): Promise<void>
  /** Start the dispatcher again on the same port. */
  restartDispatcher(): Promise<void>
  close(): Promise<void>
}

function waitReady(child: ChildProcess, what: string): Promise<ChildMessage & { type: 'ready' }> {
  return waitForMessage<ChildMessage, 'ready'>(child, 'ready', READY_TIMEOUT_MS, (failure) => {
    if (failure.kind === 'timeout') return new L7Error('L7_CLUSTER_START', `${what} did not start within ${READY_TIMEOUT_MS / 1000} s`)
    if (failure.kind === 'failed') return new L7Error('L7_CLUSTER_START', `${what} failed to start: ${failure.message}`)
    return new L7Error('L7_CLUSTER_START', `${what} exited during start-up (${failure.signal ?? `code ${failure.code}`})`)
  })
}

/** The seed paper's file set (2000 files, about 50 MB, 77 B to 3.1 MB) or a SURGE set of another size. */
export async function writeSurgeFileSet(docroot: string, files: number, seed?: number): Promise<void> {
  const preset = SURGE_PRESETS['hong-noh-2005']
  const params = resolveSurgeParams({ ...preset, files, seed: seed ?? preset.seed })
  const sizes = generateFileSizes(params)
  await materialize(sizes.map((size) => ({ size })), params.seed, { docroot })
}

function stopReading(socket: net.Socket): void {
  const handle = (socket as unknown as { _handle?: { readStop?(): number } })._handle
  handle?.readStop?.()
  socket.pause()
}

function spawnChild(config: ChildConfig, extraExecArgv: string[] = []): ChildProcess {
  return fork(CHILD_SCRIPT, [], {
    execArgv: [...process.execArgv, ...extraExecArgv],
    env: { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify(config) },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  const count = options.nodes ?? 4
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new InvalidArgumentError(`--nodes must be 1..64, got ${count}`)
  const policy = options.policy ?? 'ds'
  if (!POLICY_NAMES.includes(policy)) throw new InvalidArgumentError(`unknown policy ${policy} (one of ${POLICY_NAMES.join(', ')})`)
  const basePort = options.port ?? 8080
  if (!Number.isInteger(basePort) || basePort < 0 || (basePort > 0 && basePort + count > 65535)) {
    throw new InvalidArgumentError(`--port must leave room for ${count} nodes below 65536, got ${basePort}`)
  }
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? randomBytes(16).toString('hex')
  const withDispatcher = options.dispatcher !== false

  let docroot: string
  let generated: string | null = null
  if (options.docroot) {
    const info = await stat(options.docroot).catch(() => null)
    if (!info?.isDirectory()) throw new InvalidArgumentError(`--docroot ${options.docroot} is not a directory`)
    docroot = options.docroot
  } else {
    generated = await mkdtemp(join(tmpdir(), 'l7-cluster-'))
    docroot = generated
    await writeSurgeFileSet(docroot, options.files ?? 2000, options.seed)
  }

  const children: ClusterChild[] = []
  let dispatcherChild: ClusterChild | null = null
  let dispatcherConfig: ChildConfig | null = null
  const nodesById = new Map<number, ClusterChild>()
  let closed = false

  async function cleanup(): Promise<void> {
    closed = true
    await Promise.all(children.map((c) => stopChild(c.process)))
    if (generated) await rm(generated, { recursive: true, force: true })
  }

  // If this process dies for any reason, take the children along (they also watch 'disconnect').
  const onExit = () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL')
  }
  process.on('exit', onExit)

  try {
    if (withDispatcher) {
      dispatcherConfig = { role: 'dispatcher', host, port: basePort === 0 ? await freePort(host) : basePort, policy, params: options.params ?? {}, token }
      const proc = spawnChild(dispatcherConfig)
      const ready = await waitReady(proc, 'the dispatcher')
      dispatcherChild = { role: 'dispatcher', id: -1, process: proc, url: ready.url, port: ready.port, adminPort: null }
      children.push(dispatcherChild)
    }
    const started = await Promise.all(
      Array.from({ length: count }, async (_, id) => {
        const proc = spawnChild({
          role: 'node',
          id,
          docroot,
          host,
          port: basePort === 0 ? 0 : basePort + 1 + id,
          cacheBytes: options.cacheBytes ?? DEFAULT_CACHE_BYTES,
          disk: options.disk ?? null,
          token,
          dispatcher: dispatcherChild?.url ?? null,
          handoff: options.handoff ?? 'relay',
          forwardAllTo: options.forwardAllTo,
        }, options.nodeExecArgv)
        const entry: ClusterChild = { role: 'node', id, process: proc, url: '', port: 0, adminPort: null }
        children.push(entry)
        const ready = await waitReady(proc, `node ${id}`)
        if (ready.role !== 'node') throw new L7Error('L7_CLUSTER_START', `node ${id} reported as ${ready.role}`)
        Object.assign(entry, { url: ready.url, port: ready.port, adminPort: ready.adminPort })
        return entry
      }),
    )
    for (const n of started) nodesById.set(n.id, n)
  } catch (err) {
    process.off('exit', onExit)
    await cleanup()
    throw err
  }

  // Static membership for nodes without a dispatcher (with one, membership comes from it).
  if (!withDispatcher) {
    const peers: Record<number, string> = {}
    for (const n of nodesById.values()) peers[n.id] = n.url.replace('http://', '')
    for (const n of nodesById.values()) n.process.send({ type: 'peers', peers } satisfies ParentMessage)
  }

  // Relay fd handoffs between siblings. If the chosen node is gone, the socket goes back to
  // the sender marked fallback: it serves the request itself, and the client gets an answer.
  for (const node of nodesById.values()) {
    node.process.on('message', (m: ChildMessage, handle?: net.Socket) => {
      if (m.type !== 'handoff' || !handle) return
      // Node starts reading a socket it receives; bytes read here would be lost when the
      // handle moves on, so stop at once: the client's next bytes wait in the kernel.
      stopReading(handle)
      const to = nodesById.get(m.to)
      const adopt: ParentMessage = { type: 'adopt', route: m.route, bytes: m.bytes }
      const deliver = (target: ClusterChild, message: ParentMessage): boolean => {
        if (!target.process.connected) return false
        try {
          target.process.send(message, handle, { keepOpen: false })
          return true
        } catch {
          return false
        }
      }
      if (to && deliver(to, adopt)) return
      const back = nodesById.get(m.from)
      if (back && deliver(back, { type: 'adopt', route: 'fallback', bytes: m.bytes })) return
      handle.destroy()
    })
    node.process.on('exit', () => {
      if (!closed) nodesById.delete(node.id)
    })
  }

  const nodes = [...nodesById.values()].sort((a, b) => a.id - b.id)
  const info = {
    dispatcher: dispatcherChild?.url ?? null,
    nodes: nodes.map((n) => n.url),
    admin: nodes.map((n) => (n.adminPort === null ? '' : `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${n.adminPort}`)),
    docroot,
  }

  return {
    ...info,
    children,
    readyInfo: () => info,
    async killNode(id, signal = 'SIGKILL') {
      const n = children.find((c) => c.role === 'node' && c.id === id)
      if (n) await stopChild(n.process, signal)
    },
    async killDispatcher(signal = 'SIGKILL') {
      if (dispatcherChild) await stopChild(dispatcherChild.process, signal)
    },
    async restartDispatcher() {
      if (!dispatcherChild || !dispatcherConfig || dispatcherConfig.role !== 'dispatcher') return
      await stopChild(dispatcherChild.process)
      const proc = spawnChild({ ...dispatcherConfig, port: dispatcherChild.port })
      await waitReady(proc, 'the dispatcher')
      const index = children.indexOf(dispatcherChild)
      dispatcherChild = { ...dispatcherChild, process: proc }
      children[index] = dispatcherChild
    },
    async close() {
      if (closed) return
      process.off('exit', onExit)
      await cleanup()
    },
  }
}
