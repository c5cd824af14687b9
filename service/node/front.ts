// Front-end stage: one client connection, its bytes, and the order of its requests.
//
// Bytes are gathered until a request head parses, the head goes to the request handler, and
// the next head is parsed only when the handler is done with this one (HTTP/1.x answers in
// order, so pipelined requests wait in the buffer). Every wait has a bound: a request head
// must arrive within the head deadline from its first byte (a timer, so a client that sends
// part of a head and stops is answered 408 on time), a silent connection closes after the
// idle time-out (the front end's sweep, not a timer per connection), and a client pipelining
// faster than it reads is paused. A client that half-closes after its requests still gets
// their responses, then the connection closes.

import type { ClientHandle } from './client-socket.js'
import { ClientStream } from './client-stream.js'
import type { HandoffRoute } from './credential.js'
import { parseRequestHead, type RequestHead } from './http.js'

/** What the connection does after a request: parse the next, wait for drain, close, or let go (handed to another process). */
export type Outcome = 'next' | 'drain' | 'close' | 'gone'

export interface RequestHandler {
  /**
   * Handles the request whose head was parsed from the start of `bytes` (which also holds
   * whatever followed it when it was parsed). `adopted` is set for the first request of a
   * connection a sibling passed to this node.
   */
  handle(conn: ClientConnection, head: RequestHead, bytes: Buffer, adopted: HandoffRoute | null): Outcome | Promise<Outcome>
  /** Answers a request that cannot be handled (bad head, deadline); the connection then closes. */
  refuse(socket: ClientStream, status: number, reason: string): void
}

export interface FrontOptions {
  headerTimeoutMs: number
  /** A connection with no read or write for this long is closed (to within a quarter of it, at most 1 s more). */
  idleTimeoutMs: number
  /** Bytes buffered behind a request in progress before the client is paused. */
  maxBufferedPipeline: number
}

export const DEFAULT_FRONT_OPTIONS: FrontOptions = { headerTimeoutMs: 10_000, idleTimeoutMs: 30_000, maxBufferedPipeline: 64 * 1024 }

export class ClientConnection {
  readonly socket: ClientStream
  /**
   * A peer node opened this connection to relay requests: its first request carried a valid
   * credential, so later ones carry only the decision (request-path.ts).
   */
  trustedPeer = false
  /** Bytes read and not yet parsed (behind the request in progress, if any). */
  private buf: Buffer | null
  /** The head bytes of the request in progress (fd passing hands them over with the rest). */
  private current: Buffer | null = null
  private busy = false
  private ended = false
  private detached = false
  private headTimer: NodeJS.Timeout | null = null
  private adopted: HandoffRoute | null

  constructor(
    handle: ClientHandle,
    private readonly handler: RequestHandler,
    private readonly options: FrontOptions,
    private readonly onClose: (conn: ClientConnection) => void,
    initial: Buffer | null,
    adopted: HandoffRoute | null,
  ) {
    this.buf = initial && initial.length > 0 ? initial : null
    this.adopted = adopted
    this.socket = new ClientStream(handle, {
      data: (bytes) => this.onData(bytes),
      end: () => {
        if (!this.busy) this.pump()
      },
      close: () => {
        this.clearHeadTimer()
        this.onClose(this)
      },
    })
    if (this.buf) this.pump()
  }

  /** Nothing read or written for the idle time-out (FrontEnd's sweep). */
  idleTimeout(): void {
    if (!this.busy && this.buf) this.refuse(408, 'request head not received in time')
    this.socket.destroy()
  }

  /** `chunk` is a view of the shared read buffer (client-stream.ts): what is kept is copied. */
  private onData(chunk: Buffer): void {
    if (this.ended || this.detached) return
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk)
    if (this.busy) {
      if (this.buf.length > this.options.maxBufferedPipeline) this.socket.pause()
      return
    }
    this.pump()
  }

  private pump(): void {
    while (this.buf && !this.busy && !this.socket.destroyed) {
      const bytes = this.buf
      const parsed = parseRequestHead(bytes)
      if ('incomplete' in parsed) {
        // After the client's FIN, the rest of this head will never come.
        if (this.socket.ended) this.end()
        else this.armHeadTimer()
        return
      }
      this.clearHeadTimer()
      if ('error' in parsed) {
        this.refuse(parsed.error.status, parsed.error.reason)
        return
      }
      const head = parsed.head
      this.buf = head.headEnd < bytes.length ? bytes.subarray(head.headEnd) : null
      this.current = bytes.subarray(0, head.headEnd)
      const adopted = this.adopted
      this.adopted = null
      let outcome: Outcome | Promise<Outcome>
      try {
        outcome = this.handler.handle(this, head, bytes, adopted)
      } catch (err) {
        this.refuse(500, (err as Error).message)
        return
      }
      if (outcome instanceof Promise) {
        this.busy = true
        outcome.then(
          (o) => this.proceed(o, head),
          (err) => {
            this.refuse(500, (err as Error).message)
          },
        )
        return
      }
      if (!this.settle(outcome, head)) return
    }
    // Every request the client sent before its FIN is answered: now close.
    if (this.socket.ended && !this.busy && !this.ended && !this.detached) this.end()
  }

  /** Applies an outcome; true = go on parsing. */
  private settle(outcome: Outcome, head: RequestHead): boolean {
    this.current = null
    if (outcome === 'gone') {
      this.detached = true
      this.buf = null
      this.clearHeadTimer()
      this.onClose(this)
      return false
    }
    if (outcome === 'close' || !head.keepAlive) {
      this.end()
      return false
    }
    if (outcome === 'drain') {
      this.busy = true
      this.socket.whenWritable(() => this.proceed('next', head))
      return false
    }
    return true
  }

  private proceed(outcome: Outcome, head: RequestHead): void {
    this.busy = false
    if (this.settle(outcome, head)) {
      if (this.socket.isPaused) this.socket.resume()
      this.pump()
    }
  }

  /** The deadline for the head now being received counts from when this connection began waiting for it. */
  private armHeadTimer(): void {
    if (this.headTimer) return
    this.headTimer = setTimeout(() => {
      this.headTimer = null
      if (!this.busy && this.buf && !this.ended) this.refuse(408, 'request head not received in time')
    }, this.options.headerTimeoutMs)
    this.headTimer.unref()
  }

  private clearHeadTimer(): void {
    if (this.headTimer) {
      clearTimeout(this.headTimer)
      this.headTimer = null
    }
  }

  private refuse(status: number, reason: string): void {
    if (this.ended || this.socket.destroyed) return
    this.handler.refuse(this.socket, status, reason)
    this.end()
  }

  /**
   * No more requests: answer what was answered, then close. When the response is all in the
   * kernel and the client sent nothing past its request, the socket closes at once (the FIN
   * follows the response), as nginx does. Otherwise it half-closes and waits for the client's
   * FIN (RFC 9112 section 9.6): a full close with client bytes unread, or arriving later, sends
   * a reset that can erase the response at the client. The immediate close spares a wake-up
   * and two system calls per short connection.
   */
  private end(): void {
    this.ended = true
    const more = this.buf !== null
    this.buf = null
    this.clearHeadTimer()
    if (!more && !this.writing) this.socket.destroy()
    else this.socket.end()
  }

  /** True while responses already written are still on their way out of this process. */
  get writing(): boolean {
    return this.socket.queuedBytes > 0
  }

  /**
   * For fd passing: stops reading and returns every byte of this connection not yet
   * answered, from the start of the request in progress (pipelined requests included), or
   * null when the connection cannot be handed over now (responses still being written, or
   * no handle). After a non-null return the connection must be passed or destroyed.
   */
  detach(): Buffer | null {
    if (this.writing || !this.current) return null
    // Stop reading in this process first: bytes the kernel still holds travel with the
    // socket; bytes already read are all here (reads are delivered as they happen:
    // client-stream.ts) and travel with the message.
    if (this.socket.destroyed) return null
    this.socket.pause()
    const parts: Buffer[] = [this.current]
    if (this.buf) parts.push(this.buf)
    this.buf = null
    this.current = null
    this.clearHeadTimer()
    return parts.length === 1 ? parts[0] : Buffer.concat(parts)
  }
}

/**
 * Every client connection of a node, and their idle clock: one sweep every quarter of the
 * idle time-out (at most every second) counts each connection's sweeps since its last read or
 * write, instead of a timer per connection re-armed on every read and write.
 */
export class FrontEnd {
  readonly connections = new Set<ClientConnection>()
  private sweeper: NodeJS.Timeout | null = null
  private readonly sweepMs: number
  private readonly idleSweeps: number

  constructor(
    private readonly handler: RequestHandler,
    private readonly options: FrontOptions = DEFAULT_FRONT_OPTIONS,
  ) {
    this.sweepMs = Math.max(1, Math.min(1000, Math.floor(options.idleTimeoutMs / 4)))
    this.idleSweeps = Math.max(1, Math.ceil(options.idleTimeoutMs / this.sweepMs))
  }

  /** A client on `handle`: accepted here, or passed by a sibling with the bytes it had read (`initial`). */
  accept(handle: ClientHandle, initial: Buffer | null = null, adopted: HandoffRoute | null = null): ClientConnection {
    const conn = new ClientConnection(handle, this.handler, this.options, (c) => this.connections.delete(c), initial, adopted)
    this.connections.add(conn)
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepMs)
      this.sweeper.unref()
    }
    return conn
  }

  private sweep(): void {
    for (const conn of this.connections) if (++conn.socket.idleSweeps > this.idleSweeps) conn.idleTimeout()
    if (this.connections.size === 0) this.stopSweeping()
  }

  private stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
  }

  destroyAll(): void {
    this.stopSweeping()
    for (const conn of this.connections) conn.socket.destroy()
    this.connections.clear()
  }
}
