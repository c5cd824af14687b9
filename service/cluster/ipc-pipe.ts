// Node's libuv IPC pipes, reached through its internal bindings: the one way a Node process can
// send a descriptor (SCM_RIGHTS) over a Unix socket other than its child_process channel.
//
// Why the internal binding: Node has no public API for it. child_process does exactly this for
// its IPC channel (lib/internal/child_process.js, setupChannel): a `Pipe` made with
// `constants.IPC` sends a handle with `writeBuffer(req, data, handle)`, and hands one it
// received to JavaScript as `pipe.pendingHandle` just before calling `pipe.onread`. Only a Pipe
// made as IPC can do either: libuv reads an IPC pipe with recvmsg and sends with sendmsg, while
// on any other pipe a handle given to writeBuffer is dropped without an error and a received
// descriptor is discarded by the kernel. Node makes every pipe it accepts or receives as a
// plain one, so an IPC pipe is either one this process connected or one it opened on a
// descriptor it inherited (see fd-mesh.ts for how the cluster arranges that).
//
// Checked on Node 20.20 (the calls below are those of its child_process). `loadIpcPipes()`
// checks every member used and says what is missing, so that a Node without them falls back
// to the route through the `l7 cluster` parent instead of failing at the first handoff.

import { constants } from 'node:os'
import { bindingObject, processBinding, streamWrapFrom, UV_EOF } from '../core/process-binding.js'
import type { ClientHandle } from '../node/client-socket.js'

/** A libuv pipe handle (PipeWrap), as far as this module uses it. */
export interface PipeHandle {
  readonly fd: number
  readonly writeQueueSize: number
  onread: ((arrayBuffer: ArrayBuffer | undefined) => void) | null
  /** A handle received with the bytes of the current onread (IPC pipes only). */
  pendingHandle?: StreamHandle | null
  onconnection: ((status: number, client?: PipeHandle) => void) | null
  open(fd: number): number | undefined
  bind(path: string): number
  listen(backlog: number): number
  connect(req: ConnectRequest, path: string): number
  readStart(): number
  readStop(): number
  writeBuffer(req: WriteRequest, data: Uint8Array, sendHandle?: StreamHandle): number
  close(callback?: () => void): void
  ref(): void
  unref(): void
}

/** Any libuv stream handle (a client's TCPWrap): what travels over an IPC pipe. */
export type StreamHandle = ClientHandle

export interface WriteRequest {
  handle: PipeHandle | null
  oncomplete: (status: number) => void
  async: boolean
  buffer: Uint8Array | null
}

export interface ConnectRequest {
  oncomplete: (status: number) => void
}

export interface IpcPipes {
  /** A new pipe handle: `ipc` for one that sends and receives descriptors. */
  pipe(kind: 'ipc' | 'server' | 'socket'): PipeHandle
  connectRequest(): ConnectRequest
  writeRequest(): WriteRequest
  /** After a read: its length or a negative libuv error (UV_EOF at the end). */
  readLength(): number
  /** After a read: where its bytes start in the ArrayBuffer onread was given. */
  readOffset(): number
  /** After writeBuffer: true if the write was queued (completion comes through oncomplete). */
  lastWriteWasAsync(): boolean
}

export { UV_EOF }
/** libuv's UV_ECONNRESET (on Unix, minus the errno): a peer that closed with bytes of ours unread. */
export const UV_ECONNRESET = -constants.errno.ECONNRESET

let loaded: IpcPipes | string | undefined

/** Node's IPC pipes, or why they cannot be used in this Node (a sentence for the log). */
export function loadIpcPipes(): IpcPipes | string {
  if (loaded === undefined) loaded = ipcPipesFrom(processBinding)
  return loaded
}

/** The IPC pipes from `binding` (process.binding, or a stand-in in specs), or what is missing. */
export function ipcPipesFrom(binding: (name: string) => unknown): IpcPipes | string {
  const why = (what: string) => `Node ${process.version} lacks ${what}; fd handoffs go through the cluster parent`
  const pipeWrap = bindingObject(binding, 'pipe_wrap')
  if (!pipeWrap) return why("process.binding('pipe_wrap')")
  const stream = streamWrapFrom(binding)
  if (typeof stream === 'string') return why(stream)
  const Pipe = pipeWrap.Pipe as (new (type: number) => PipeHandle) | undefined
  const PipeConnectWrap = pipeWrap.PipeConnectWrap as (new () => ConnectRequest) | undefined
  const constants = pipeWrap.constants as { IPC?: number; SERVER?: number; SOCKET?: number } | undefined
  if (typeof Pipe !== 'function' || typeof PipeConnectWrap !== 'function') return why('Pipe or PipeConnectWrap')
  if (typeof constants?.IPC !== 'number' || typeof constants.SERVER !== 'number' || typeof constants.SOCKET !== 'number') return why('pipe_wrap.constants')
  for (const method of ['open', 'bind', 'listen', 'connect', 'readStart', 'readStop', 'writeBuffer', 'close']) {
    if (typeof (Pipe.prototype as unknown as Record<string, unknown>)[method] !== 'function') return why(`Pipe.prototype.${method}`)
  }
  const types = { ipc: constants.IPC, server: constants.SERVER, socket: constants.SOCKET }
  return {
    pipe: (kind) => new Pipe(types[kind]),
    connectRequest: () => new PipeConnectWrap(),
    writeRequest: () => new stream.WriteWrap() as WriteRequest,
    readLength: () => stream.state[stream.kReadBytesOrError],
    readOffset: () => stream.state[stream.kArrayBufferOffset],
    lastWriteWasAsync: () => stream.state[stream.kLastWriteWasAsync] !== 0,
  }
}

/**
 * Connects a new pipe of `kind` to the Unix socket at `path`. Rejects (the pipe closed) with
 * the reason, `libuv error N` or `no connection within T ms`, when it fails or takes too long.
 */
export function connectPipe(pipes: IpcPipes, kind: 'ipc' | 'socket', path: string, timeoutMs: number): Promise<PipeHandle> {
  return new Promise((resolve, reject) => {
    const pipe = pipes.pipe(kind)
    const req = pipes.connectRequest()
    const timer = setTimeout(() => settle(`no connection within ${timeoutMs} ms`), timeoutMs)
    const settle = (error: string | null) => {
      clearTimeout(timer)
      req.oncomplete = () => {}
      if (error === null) return resolve(pipe)
      pipe.close()
      reject(new Error(error))
    }
    req.oncomplete = (status) => settle(status === 0 ? null : `libuv error ${status}`)
    const err = pipe.connect(req, path)
    if (err !== 0) settle(`libuv error ${err}`)
  })
}
