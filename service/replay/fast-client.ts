// A lean HTTP/1.x client for the replay's hot path (`client: 'fast'`, the default): one request
// at a time per keep-alive connection, or one connection per request (`http10`, as SURGE's
// HTTP/1.0 client), the request line written as one string, the response parsed just
// enough to count it (status, length or chunked or until close, X-L7-* values), the body never
// kept. undici does far more per request (request validation, queues, streams, llhttp through
// Wasm); measured on this project's machine the lean client costs about half the CPU.
import net from 'node:net'

/** What the client reports to (the replay's Exchange). */
export interface FastExchange {
  status: number
  bytes: number
  headerKeys: string[] | undefined
  onConnect(): void
  onComplete(): void
  onError(error: Error): void
}

interface Pending {
  head: string
  exchange: FastExchange
  method: string
}

class ResponseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const enum State {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

const CRLF_CRLF = Buffer.from('\r\n\r\n')

class Connection {
  private readonly socket: net.Socket
  private state = State.Idle
  private current: Pending | undefined
  private headParts: Buffer[] = []
  private remaining = 0
  private keepAlive = true
  private line = ''
  startedMs = 0
  closed = false

  constructor(
    private readonly pool: FastPool,
    port: number,
    host: string,
  ) {
    this.socket = net.connect({ port, host, noDelay: true })
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.socket.on('error', (error) => this.onClose(error))
    this.socket.on('close', () => this.onClose(undefined))
  }

  get busy(): boolean {
    return this.current !== undefined
  }

  send(pending: Pending): void {
    this.current = pending
    this.state = State.Head
    this.headParts = []
    this.startedMs = performance.now()
    pending.exchange.onConnect()
    this.socket.write(pending.head, 'latin1')
  }

  destroy(error: Error): void {
    this.socket.destroy()
    this.onClose(error)
  }

  private onData(chunk: Buffer): void {
    let at = 0
    while (at < chunk.length && this.current) {
      switch (this.state) {
        case State.Head: {
          const parts = this.headParts
          parts.push(at === 0 ? chunk : chunk.subarray(at))
          const joined = parts.length === 1 ? parts[0] : Buffer.concat(parts)
          const end = joined.indexOf(CRLF_CRLF)
          if (end < 0) {
            this.headParts = [joined]
            if (joined.length > 65_536) return this.destroy(new ResponseError('UND_ERR_HEADERS_OVERFLOW', 'response head over 64 KiB'))
            return
          }
          this.headParts = []
          if (!this.parseHead(joined.toString('latin1', 0, end))) return
          // The rest of `joined` is body; continue on it as the chunk.
          chunk = joined
          at = end + 4
          if ((this.state as State) === State.Idle) this.finish()
          break
        }
        case State.Length: {
          const take = Math.min(chunk.length - at, this.remaining)
          this.remaining -= take
          this.current.exchange.bytes += take
          at += take
          if (this.remaining === 0) this.finish()
          break
        }
        case State.UntilClose:
          this.current.exchange.bytes += chunk.length - at
          return
        case State.ChunkData: {
          const take = Math.min(chunk.length - at, this.remaining)
          this.remaining -= take
          this.current.exchange.bytes += take
          at += take
          if (this.remaining === 0) this.state = State.ChunkEnd
          break
        }
        default: {
          // Line-oriented states: chunk sizes, the CRLF after a chunk, trailers.
          const nl = chunk.indexOf(10, at)
          const piece = chunk.toString('latin1', at, nl < 0 ? chunk.length : nl)
          if (nl < 0) {
            this.line += piece
            return
          }
          at = nl + 1
          const line = (this.line + piece).replace(/\r$/, '')
          this.line = ''
          if (this.state === State.ChunkEnd) {
            this.state = State.ChunkSize
          } else if (this.state === State.ChunkSize) {
            const size = parseInt(line, 16)
            if (!(size >= 0)) return this.destroy(new ResponseError('UND_ERR_INVALID_CHUNK', `bad chunk size ${JSON.stringify(line)}`))
            if (size === 0) this.state = State.Trailers
            else {
              this.state = State.ChunkData
              this.remaining = size
            }
          } else if (line === '') {
            this.finish()
          }
        }
      }
    }
  }

  /** Reads the status line and headers; false when the connection was given up. */
  private parseHead(head: string): boolean {
    const exchange = this.current!.exchange
    const lines = head.split('\r\n')
    const status = Number(lines[0].slice(9, 12))
    if (!lines[0].startsWith('HTTP/1.') || !(status >= 100)) {
      this.destroy(new ResponseError('UND_ERR_SOCKET', `not an HTTP/1 response: ${JSON.stringify(lines[0].slice(0, 40))}`))
      return false
    }
    if (status < 200) {
      // An interim 1xx: the real response follows.
      this.state = State.Head
      return true
    }
    exchange.status = status
    let length = -1
    let chunked = false
    this.keepAlive = !lines[0].startsWith('HTTP/1.0')
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]
      const colon = line.indexOf(':')
      if (colon <= 0) continue
      const name = line.slice(0, colon).toLowerCase()
      if (name === 'content-length') length = Number(line.slice(colon + 1))
      else if (name === 'transfer-encoding') chunked = /chunked/i.test(line)
      else if (name === 'connection') this.keepAlive = !/close/i.test(line) && (this.keepAlive || /keep-alive/i.test(line))
      else if (name === 'x-l7-node' || name === 'x-l7-route' || name === 'x-l7-cache') {
        ;(exchange.headerKeys ??= []).push(`${name}=${line.slice(colon + 1).trim()}`)
      }
    }
    const noBody = this.current!.method === 'HEAD' || status === 204 || status === 304
    if (noBody || length === 0) this.state = State.Idle
    else if (chunked) this.state = State.ChunkSize
    else if (length > 0) {
      this.state = State.Length
      this.remaining = length
    } else {
      this.state = State.UntilClose
      this.keepAlive = false
    }
    return true
  }

  private finish(): void {
    const done = this.current!
    this.current = undefined
    this.state = State.Idle
    if (!this.keepAlive || this.pool.http10) {
      this.closed = true
      this.socket.destroy()
    }
    done.exchange.onComplete()
    this.pool.released(this)
  }

  private onClose(error: Error | undefined): void {
    if (this.closed && !this.current) return
    this.closed = true
    const pending = this.current
    this.current = undefined
    if (pending) {
      if (this.state === State.UntilClose && !error) pending.exchange.onComplete()
      else pending.exchange.onError(error ?? new ResponseError('UND_ERR_SOCKET', 'other side closed'))
    }
    this.pool.released(this)
  }
}

/** A fixed-size set of keep-alive connections to one origin, with a queue in front. */
export class FastPool {
  private readonly connections = new Set<Connection>()
  private readonly idle: Connection[] = []
  private readonly queue: Pending[] = []
  private queueHead = 0
  private readonly sweeper: NodeJS.Timeout
  private destroyed = false

  constructor(
    private readonly origin: URL,
    private readonly size: number,
    private readonly timeoutMs: number,
    /** HTTP/1.0 with `Connection: close`: a new connection per request, at most `size` at once. */
    readonly http10 = false,
  ) {
    // One timer for every connection's timeout, not one per request.
    this.sweeper = setInterval(() => this.sweep(), Math.min(250, Math.max(10, timeoutMs / 4)))
  }

  dispatch(path: string, method: string, exchange: FastExchange): void {
    const version = this.http10 ? 'HTTP/1.0\r\nconnection: close' : 'HTTP/1.1'
    const pending = { head: `${method} ${path} ${version}\r\nhost: ${this.origin.host}\r\n\r\n`, exchange, method }
    const connection = this.idle.pop() ?? this.open()
    if (connection) connection.send(pending)
    else this.queue.push(pending)
  }

  private open(): Connection | undefined {
    if (this.destroyed || this.connections.size >= this.size) return undefined
    const connection = new Connection(this, Number(this.origin.port || 80), this.origin.hostname)
    this.connections.add(connection)
    return connection
  }

  /** A connection finished a request (or closed): give it the next one. */
  released(connection: Connection): void {
    if (connection.closed) this.connections.delete(connection)
    const next = this.queueHead < this.queue.length ? this.queue[this.queueHead] : undefined
    if (next === undefined) {
      if (!connection.closed) this.idle.push(connection)
      return
    }
    const target = connection.closed ? this.open() : connection
    if (!target) return
    this.queue[this.queueHead++] = undefined as unknown as Pending
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead)
      this.queueHead = 0
    }
    target.send(next)
  }

  private sweep(): void {
    const nowMs = performance.now()
    for (const connection of this.connections) {
      if (connection.busy && nowMs - connection.startedMs > this.timeoutMs) {
        connection.destroy(new ResponseError('UND_ERR_HEADERS_TIMEOUT', `no complete response within ${this.timeoutMs} ms`))
      }
    }
  }

  /** Closes every connection; requests still queued or in flight fail. */
  destroy(): void {
    this.destroyed = true
    clearInterval(this.sweeper)
    const error = new ResponseError('UND_ERR_DESTROYED', 'the replay stopped')
    for (const connection of [...this.connections]) connection.destroy(error)
    for (let i = this.queueHead; i < this.queue.length; i++) this.queue[i].exchange.onError(error)
    this.queue.length = 0
    this.queueHead = 0
  }
}
