// A client connection on its libuv handle, without a net.Socket.
//
// With `Connection: close`, every request is a new connection, and making a net.Socket for it
// (a Duplex with its readable and writable states, an EventEmitter, a timer) and taking it
// down again was about a tenth of a node's busy time (`--cpu-prof`: Socket, Duplex,
// ReadableState, Writable's write path, destroy, nextTick). The front end needs little of it:
// reads into one shared buffer, writes of whole responses, a drain signal, a half-close, and
// an idle clock (kept by the front end's sweep, not a timer per connection). So it talks to the
// handle the way net itself does (lib/net.js and internal/stream_base_commons.js, Node 20.20):
// WriteWrap / ShutdownWrap requests and the stream state shared with C++.
//
// Reads go into READ_BUFFER, shared by every client of the process: a read callback gets a
// view of it, valid until it returns (front.ts copies what it keeps). A write the kernel does
// not take at once keeps its buffer referenced on its request until libuv completes it.

import { streamWrapFrom, UV_EOF } from '../core/process-binding.js'
import type { ClientHandle } from './client-socket.js'

interface WriteRequest {
  handle: ClientHandle
  oncomplete: (status: number) => void
  /** Keeps the bytes of a queued write alive until it completes. */
  buffer: unknown
}

interface ShutdownRequest {
  handle: ClientHandle
  oncomplete: (status: number) => void
}

/** The stream members of a libuv handle (LibuvStreamWrap) this module uses. */
interface LibuvStream extends ClientHandle {
  readStart(): number
  readStop(): number
  useUserBuffer(buffer: Uint8Array): void
  writeBuffer(req: WriteRequest, data: Uint8Array): number
  writeLatin1String(req: WriteRequest, data: string): number
  writev(req: WriteRequest, chunks: unknown[], allBuffers: boolean): number
  shutdown(req: ShutdownRequest): number
  readonly writeQueueSize: number
}

const streamWrap = streamWrapFrom()
if (typeof streamWrap === 'string') throw new Error(`l7's node needs Node's ${streamWrap}, as Node 20 has; Node ${process.version} lacks it`)
const WriteWrap = streamWrap.WriteWrap as new () => WriteRequest
const ShutdownWrap = streamWrap.ShutdownWrap as new () => ShutdownRequest
const { state: streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = streamWrap
/** shutdown() finished at once (nothing was left to flush: libuv's return for that case, as net checks). */
const SHUTDOWN_DONE = 1

/** Shared by every client of the process; valid only inside a read callback. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)

/**
 * A write returns false (the caller waits for whenWritable) once this many bytes are queued
 * in libuv, as a net.Socket does at its default high-water mark.
 */
export const HIGH_WATER_BYTES = 16 * 1024

export interface ClientStreamEvents {
  /** Bytes read: a view of the shared read buffer, valid until this returns. */
  data(bytes: Buffer): void
  /** The client has sent its FIN: no more bytes will come. */
  end(): void
  /** The handle is closed (after destroy(), or an error). */
  close(): void
}

function noop(): void {}

export class ClientStream {
  destroyed = false
  /** The client sent its FIN. */
  ended = false
  /** Sweeps of the front end's idle clock since the last read or write (front.ts). */
  idleSweeps = 0
  private paused = false
  private shuttingDown = false
  /** Called once when the queue falls below the high-water mark, or the stream closes. */
  private waiters: Array<() => void> | null = null

  private handle: LibuvStream | null

  /** Reads and writes `handle`, an accepted client's (or one a sibling passed). */
  constructor(
    handle: ClientHandle,
    private readonly events: ClientStreamEvents,
  ) {
    const stream = (this.handle = handle as LibuvStream)
    stream.useUserBuffer(READ_BUFFER)
    stream.onread = () => this.onRead()
    if (stream.readStart() !== 0) this.destroy()
  }

  /** Bytes written and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.handle?.writeQueueSize ?? 0
  }

  get isPaused(): boolean {
    return this.paused
  }

  private onRead(): void {
    const nread = streamBaseState[kReadBytesOrError]
    if (this.destroyed) return
    if (nread > 0) {
      this.idleSweeps = 0
      this.events.data(READ_BUFFER.subarray(0, nread))
    } else if (nread === UV_EOF) {
      this.ended = true
      this.handle?.readStop()
      // After our own FIN (end()), the exchange is over.
      if (this.shuttingDown) this.destroy()
      else this.events.end()
    } else if (nread < 0) this.destroy()
  }

  /** Writes bytes; false once the queue is at the high-water mark (wait for whenWritable). */
  write(bytes: Uint8Array): boolean {
    if (!this.handle || this.destroyed) return true
    const req = this.request()
    return this.dispatched(req, this.handle.writeBuffer(req, bytes), bytes)
  }

  /** Writes a string as latin1 (a response head without a body). */
  writeLatin1(text: string): boolean {
    if (!this.handle || this.destroyed) return true
    const req = this.request()
    return this.dispatched(req, this.handle.writeLatin1String(req, text), null)
  }

  /** Writes a head and a body in one system call (writev). */
  writeHeadAndBody(head: string | Uint8Array, body: Uint8Array): boolean {
    if (!this.handle || this.destroyed) return true
    const req = this.request()
    const chunks = typeof head === 'string' ? [head, 'latin1', body, 'buffer'] : [head, body]
    return this.dispatched(req, this.handle.writev(req, chunks, typeof head !== 'string'), chunks)
  }

  private request(): WriteRequest {
    const req = new WriteWrap()
    req.handle = this.handle as LibuvStream
    req.oncomplete = (status) => this.afterWrite(status)
    req.buffer = null
    return req
  }

  private dispatched(req: WriteRequest, err: number, keep: unknown): boolean {
    if (err !== 0) {
      // The client is gone (EPIPE, ECONNRESET): nothing to answer any more.
      this.destroy()
      return true
    }
    this.idleSweeps = 0
    // A string's bytes were copied by the write itself; a buffer must outlive a queued write.
    if (streamBaseState[kLastWriteWasAsync] !== 0) req.buffer = keep
    return (this.handle as LibuvStream).writeQueueSize < HIGH_WATER_BYTES
  }

  /** A queued write completed (or was cancelled by a close). */
  private afterWrite(status: number): void {
    if (this.destroyed) return
    if (status < 0) {
      this.destroy()
      return
    }
    this.idleSweeps = 0
    if (this.waiters && (this.handle as LibuvStream).writeQueueSize < HIGH_WATER_BYTES) this.wake()
  }

  /** Calls `callback` once, when the queue is below the high-water mark (now, if it is) or the stream closes. */
  whenWritable(callback: () => void): void {
    if (this.destroyed || this.queuedBytes < HIGH_WATER_BYTES) {
      queueMicrotask(callback)
      return
    }
    ;(this.waiters ??= []).push(callback)
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = null
    if (waiters) for (const waiter of waiters) waiter()
  }

  /** Stops reading: what the client sends waits in the kernel. */
  pause(): void {
    if (this.paused || !this.handle || this.destroyed) return
    this.paused = true
    this.handle.readStop()
  }

  resume(): void {
    if (!this.paused || !this.handle || this.destroyed) return
    this.paused = false
    if (!this.ended && this.handle.readStart() !== 0) this.destroy()
  }

  /**
   * Half-closes: FIN after every queued write, then closes when the client's FIN arrives
   * (at once if it has). Bytes the client sends meanwhile are read and dropped by the caller.
   */
  end(): void {
    if (!this.handle || this.destroyed || this.shuttingDown) return
    this.shuttingDown = true
    if (this.paused) this.resume()
    const req = new ShutdownWrap()
    req.handle = this.handle
    req.oncomplete = (status) => {
      if (status < 0 || this.ended) this.destroy()
    }
    const err = this.handle.shutdown(req)
    if (err === SHUTDOWN_DONE) req.oncomplete(0)
    else if (err !== 0) this.destroy()
  }

  /** Closes the connection now; writes still queued are dropped. */
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    const handle = this.handle
    this.handle = null
    if (handle) {
      handle.onread = noop
      handle.close(() => this.closed())
    } else queueMicrotask(() => this.closed())
  }

  private closed(): void {
    this.wake()
    this.events.close()
  }

  /**
   * Stops reading and lets go of the handle, to pass it to another process; the caller owns
   * it then. Null if the stream is already closed. No close event follows.
   */
  release(): ClientHandle | null {
    const handle = this.handle
    if (!handle || this.destroyed) return null
    handle.readStop()
    handle.onread = noop
    this.handle = null
    this.destroyed = true
    this.waiters = null
    return handle
  }
}
