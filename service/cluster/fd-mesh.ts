// The `l7 cluster` parent's part in the nodes' direct channels (fd-channel.ts): it makes the
// Unix stream sockets the nodes talk over, and takes no part in a handoff afterwards.
//
// A channel must be an IPC pipe at both ends (ipc-pipe.ts), and Node makes every pipe it
// accepts as a plain one, so a node cannot simply listen for its siblings. A node's end is
// therefore either a descriptor it inherited when it was started (nothing else in that process
// owns it, so it can be opened as an IPC pipe) or a connection it made itself:
//   - nodes started together: the parent makes one connected pair per pair of nodes and each
//     node inherits its ends (stdio descriptors 4, 5, ...);
//   - a restarted node: each running sibling connects to a listener the parent made for it,
//     and the restarted node inherits the accepted ends.
// The listeners live in a private directory (mkdtemp: mode 0700) made for one operation and
// removed when it ends, whatever happens; the parent closes its copies of the descriptors as
// soon as the nodes are started.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectPipe, loadIpcPipes, type IpcPipes, type PipeHandle } from './ipc-pipe.js'

/** One node's end of its channel to `peer`, held by the parent until the node is started. */
export interface MeshEnd {
  peer: number
  handle: PipeHandle
}

export const DEFAULT_MESH_TIMEOUT_MS = 2000

export interface FdMeshOptions {
  /** Where the private directories are made (default: the OS temp dir). */
  tmpRoot?: string
  /** Bound of each wait for a connection (ms). */
  timeoutMs?: number
  log?: (message: string) => void
}

/** Closes the parent's copies of descriptors given to a node (or never given). */
export function releaseEnds(ends: Iterable<MeshEnd>): void {
  for (const end of ends) end.handle.close()
}

/** A connection nobody waits for (late, or unexpected) is closed at once. */
const refuse = (_status: number, client?: PipeHandle) => client?.close()

export class FdMesh {
  private readonly tmpRoot: string
  private readonly timeoutMs: number
  /** Directories of operations under way (removed synchronously if the process exits meanwhile). */
  private readonly dirs = new Set<string>()

  /** The mesh maker, or why this Node cannot have direct channels (a sentence for the log). */
  static create(options: FdMeshOptions = {}): FdMesh | string {
    const pipes = loadIpcPipes()
    return typeof pipes === 'string' ? pipes : new FdMesh(pipes, options)
  }

  private constructor(
    private readonly pipes: IpcPipes,
    private readonly options: FdMeshOptions,
  ) {
    this.tmpRoot = options.tmpRoot ?? tmpdir()
    this.timeoutMs = options.timeoutMs ?? DEFAULT_MESH_TIMEOUT_MS
  }

  /**
   * One connected pair of sockets for every pair of `ids`: the ends each node inherits, by node.
   * Rejects (having closed everything it made) if a pair cannot be made in time.
   */
  async pairs(ids: number[]): Promise<Map<number, MeshEnd[]>> {
    const ends = new Map<number, MeshEnd[]>(ids.map((id) => [id, []]))
    if (ids.length < 2) return ends
    await this.inPrivateDir(async (dir) => {
      const path = join(dir, 'pairs.sock')
      const server = this.listen(path, ids.length)
      try {
        // One pair at a time, so that each accepted connection is the one just made.
        for (let a = 0; a < ids.length; a++) {
          for (let b = a + 1; b < ids.length; b++) {
            const accepted = this.accept(server, `a pair for nodes ${ids[a]} and ${ids[b]}`)
            const connected = this.connect(path)
            const [acceptedEnd, connectedEnd] = await Promise.all([accepted, connected]).catch(async (err) => {
              // Whichever end was made is closed.
              for (const p of [accepted, connected]) (await p.catch(() => null))?.close()
              throw err
            })
            ends.get(ids[a])!.push({ peer: ids[b], handle: acceptedEnd })
            ends.get(ids[b])!.push({ peer: ids[a], handle: connectedEnd })
          }
        }
      } catch (err) {
        for (const list of ends.values()) releaseEnds(list)
        throw err
      } finally {
        server.close()
      }
    })
    return ends
  }

  /**
   * The ends a restarted node inherits: `ask(sibling, path)` tells each running sibling to
   * connect to its own listener at `path`; siblings that do not connect in time are left out
   * (their pair falls back to the parent's route).
   */
  async rejoin(siblings: number[], ask: (sibling: number, path: string) => void): Promise<MeshEnd[]> {
    if (siblings.length === 0) return []
    return this.inPrivateDir(async (dir) => {
      const settled = await Promise.allSettled(
        siblings.map(async (sibling) => {
          const path = join(dir, `${sibling}.sock`)
          const server = this.listen(path, 1)
          try {
            const accepted = this.accept(server, `node ${sibling}'s connection`)
            ask(sibling, path)
            return { peer: sibling, handle: await accepted }
          } finally {
            server.close()
          }
        }),
      )
      const ends: MeshEnd[] = []
      for (const result of settled) {
        if (result.status === 'fulfilled') ends.push(result.value)
        else this.options.log?.(`fd channel: ${(result.reason as Error).message}`)
      }
      return ends
    })
  }

  /** Removes any directory still there (for process exit; operations remove their own). */
  removeDirs(): void {
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true })
    this.dirs.clear()
  }

  private async inPrivateDir<T>(operation: (dir: string) => Promise<T>): Promise<T> {
    // mkdtemp makes the directory 0700: only this user can reach the listeners in it.
    const dir = mkdtempSync(join(this.tmpRoot, 'l7-fd-'))
    this.dirs.add(dir)
    try {
      return await operation(dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
      this.dirs.delete(dir)
    }
  }

  private listen(path: string, backlog: number): PipeHandle {
    const server = this.pipes.pipe('server')
    server.onconnection = refuse
    const err = server.bind(path) || server.listen(backlog)
    if (err !== 0) {
      server.close()
      throw new Error(`cannot listen on ${path} (libuv error ${err})`)
    }
    return server
  }

  /** The next connection the server accepts, within the timeout. */
  private accept(server: PipeHandle, what: string): Promise<PipeHandle> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        server.onconnection = refuse
        reject(new Error(`${what} did not arrive within ${this.timeoutMs} ms`))
      }, this.timeoutMs)
      server.onconnection = (status, client) => {
        clearTimeout(timer)
        server.onconnection = refuse
        if (status === 0 && client) resolve(client)
        else reject(new Error(`${what}: accept failed (libuv error ${status})`))
      }
    })
  }

  private connect(path: string): Promise<PipeHandle> {
    return connectPipe(this.pipes, 'socket', path, this.timeoutMs).catch((err: Error) => {
      throw new Error(`connecting to ${path}: ${err.message}`)
    })
  }
}
