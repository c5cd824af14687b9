// Handoff by relay: the receiving node forwards the request to the chosen peer over a
// persistent raw connection and streams the peer's response back to the client.
//
// The request head goes out as received (plus the credential line) whenever it can; only a
// head that carries fields a proxy must not forward (Connection, Expect, ...) or HTTP/1.0 is
// rebuilt, as HTTP/1.1 keep-alive. Peers are l7 nodes, so the response is framed by its
// Content-Length and forwarded byte for byte, its Connection line rewritten only when the
// client's connection closes. No header maps, no async iterators: one read callback per
// peer connection, backpressure by pausing the peer while the client drains.
//
// A peer connection reads into a buffer of its own (net's `onread`, as client-socket.ts does
// for clients), and the response bytes go to the client straight from it. A write the kernel
// does not take at once keeps referring to those bytes, so after such a write the connection
// reads into a fresh buffer and leaves the old one to the write.

import net from 'node:net'
import { NOT_FORWARDED, type RequestHead } from './http.js'
import { bodyLength, parseResponseHead, type ResponseHead } from './response.js'
import { parseListen } from './address.js'
import type { ClientStream } from './client-stream.js'

export interface RelayOptions {
  /** Connections kept per peer at most; further requests wait for one. */
  maxConnectionsPerPeer?: number
  connectTimeoutMs?: number
  /** Longest silence from a peer while it owes a response (head or body). */
  responseTimeoutMs?: number
  /** An idle connection is closed after this long. */
  idleTimeoutMs?: number
}

/** The peer failed; `beforeResponse` = nothing reached the client, so the request may be retried. */
export class RelayError extends Error {
  constructor(
    message: string,
    readonly beforeResponse: boolean,
    /** Failed on a reused connection before any byte came back: the peer closed it while idle. */
    readonly stale: boolean,
  ) {
    super(message)
  }
}

/** How the client connection goes on after a relayed response. */
export type RelayOutcome = 'next' | 'drain' | 'close'

interface Exchange {
  client: ClientStream
  method: string
  clientKeepAlive: boolean
  /** Response bytes gathered until the head is complete. */
  pending: Buffer | null
  /** Body bytes still owed; -1 until the head has been parsed. */
  remaining: number
  peerKeepAlive: boolean
  wroteToClient: boolean
  lastWriteOk: boolean
  resolve: (outcome: RelayOutcome) => void
  reject: (err: RelayError) => void
}

/** The credential line for a request; `connectionTrusted`: the peer has accepted a full credential on this connection. */
export type CredentialLine = (connectionTrusted: boolean) => string

/** A peer connection's read buffer: a response of up to this size arrives in one read. */
const READ_BYTES = 64 * 1024

class PeerConnection {
  readonly socket: net.Socket
  private readBuffer = Buffer.allocUnsafe(READ_BYTES)
  /** Bytes of the last read may still be queued on the client socket: read into a new buffer next. */
  private lent = false
  exchange: Exchange | null = null
  /** Exchanges completed on this connection. */
  used = 0
  /** The peer accepted this connection's signed credential: later requests carry the decision only. */
  trusted = false
  connected = false

  constructor(
    private readonly pool: PeerPool,
    host: string,
    port: number,
  ) {
    const options = pool.options
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: () => this.nextBuffer(),
        callback: (count: number) => {
          this.onData(this.readBuffer.subarray(0, count))
          return true
        },
      },
    })
    this.socket.setTimeout(options.connectTimeoutMs)
    this.socket.on('connect', () => {
      this.connected = true
      this.socket.setTimeout(this.exchange ? options.responseTimeoutMs : options.idleTimeoutMs)
    })
    this.socket.on('timeout', () => this.fail(this.connected ? 'peer did not answer in time' : 'peer connection timed out'))
    this.socket.on('error', (err) => this.fail(err.message))
    this.socket.on('close', () => this.fail('peer closed the connection'))
  }

  begin(exchange: Exchange, bytes: Buffer, head: RequestHead, credential: CredentialLine): void {
    this.exchange = exchange
    if (this.connected) this.socket.setTimeout(this.pool.options.responseTimeoutMs)
    const request = forwardedRequest(bytes, head, credential(this.trusted))
    if (typeof request === 'string') this.socket.write(request, 'latin1')
    else this.socket.write(request)
  }

  /** Called by net after every read (and once before the first): where the next read goes. */
  private nextBuffer(): Buffer {
    if (this.lent) {
      this.lent = false
      this.readBuffer = Buffer.allocUnsafe(READ_BYTES)
    }
    return this.readBuffer
  }

  /** `chunk` is a view of this connection's read buffer: kept bytes are copied, written ones lent (above). */
  private onData(chunk: Buffer): void {
    const ex = this.exchange
    if (!ex) {
      // A peer speaking without being asked has broken the framing: drop the connection.
      this.socket.destroy()
      return
    }
    if (ex.client.destroyed) {
      this.fail('client went away', true)
      return
    }
    let body: Buffer = chunk
    if (ex.remaining < 0) {
      const buf = ex.pending ? Buffer.concat([ex.pending, chunk]) : chunk
      const head = parseResponseHead(buf)
      if (head === 'incomplete') {
        ex.pending = buf === chunk ? Buffer.from(chunk) : buf
        return
      }
      if ('error' in head) {
        this.fail(`bad response from peer: ${head.error}`)
        return
      }
      ex.pending = null
      ex.peerKeepAlive = head.keepAlive
      // A refused credential is answered 403 by the peer; anything else means it was taken.
      if (head.status !== 403) this.trusted = true
      ex.remaining = bodyLength(head, ex.method)
      body = buf.subarray(head.headEnd)
      if (body.length > ex.remaining) {
        this.fail('peer sent more than its Content-Length')
        return
      }
      ex.wroteToClient = true
      ex.lastWriteOk = writeHead(ex, buf, head, body)
    } else {
      if (body.length > ex.remaining) {
        this.fail('peer sent more than its Content-Length')
        return
      }
      ex.lastWriteOk = ex.client.write(body)
    }
    if (ex.client.queuedBytes > 0) this.lent = true
    ex.remaining -= body.length
    if (ex.remaining === 0) {
      this.finish(ex)
      return
    }
    if (!ex.lastWriteOk) this.waitForClient(ex)
  }

  /** The client's buffer is full: stop reading the peer until it drains (or goes away). */
  private waitForClient(ex: Exchange): void {
    this.socket.pause()
    ex.client.whenWritable(() => {
      if (ex.client.destroyed) this.fail('client went away', true)
      else this.socket.resume()
    })
  }

  private finish(ex: Exchange): void {
    this.exchange = null
    this.used++
    const outcome: RelayOutcome = !ex.clientKeepAlive ? 'close' : ex.lastWriteOk ? 'next' : 'drain'
    if (ex.peerKeepAlive && this.connected) {
      this.socket.setTimeout(this.pool.options.idleTimeoutMs)
      this.pool.release(this)
    } else this.drop()
    ex.resolve(outcome)
  }

  /** The connection failed or was abandoned: drop it and fail the exchange in progress. */
  fail(reason: string, clientGone = false): void {
    const ex = this.exchange
    this.exchange = null
    this.drop()
    if (!ex) return
    if (ex.wroteToClient || clientGone) {
      // Part of the response went out: it cannot be redone, the client sees the connection
      // close short of Content-Length (as with any proxy).
      ex.client.destroy()
      ex.reject(new RelayError(reason, false, false))
    } else {
      ex.reject(new RelayError(reason, true, this.used > 0 && ex.pending === null))
    }
  }

  private dropped = false
  private drop(): void {
    if (this.dropped) return
    this.dropped = true
    this.socket.destroy()
    this.pool.discard(this)
  }
}

/** Writes the response head (its Connection line rewritten if the client closes) and the first body bytes. */
function writeHead(ex: Exchange, buf: Buffer, head: ResponseHead, body: Buffer): boolean {
  const client = ex.client
  if (ex.clientKeepAlive === head.keepAlive || head.connectionStart < 0) {
    return client.write(body.length > 0 ? buf : buf.subarray(0, head.headEnd))
  }
  // Only the head is rebuilt; the body bytes go out as they came, in the same writev.
  const connection = ex.clientKeepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n'
  const out = Buffer.allocUnsafe(head.headEnd - (head.connectionEnd - head.connectionStart) + connection.length)
  let at = buf.copy(out, 0, 0, head.connectionStart)
  at += out.write(connection, at, 'latin1')
  buf.copy(out, at, head.connectionEnd, head.headEnd)
  return body.length === 0 ? client.write(out) : client.writeHeadAndBody(out, body)
}

class PeerPool {
  private readonly idle: PeerConnection[] = []
  private readonly waiting: Array<(conn: PeerConnection) => void> = []
  private total = 0
  private closed = false
  readonly host: string
  readonly port: number

  constructor(
    readonly address: string,
    readonly options: Required<RelayOptions>,
  ) {
    const { host, port } = parseListen(address)
    this.host = host
    this.port = port
  }

  acquire(fresh: boolean): PeerConnection | Promise<PeerConnection> {
    if (!fresh) {
      const conn = this.idle.pop()
      if (conn) return conn
    }
    if (this.total < this.options.maxConnectionsPerPeer || fresh) return this.open()
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  private open(): PeerConnection {
    this.total++
    return new PeerConnection(this, this.host, this.port)
  }

  release(conn: PeerConnection): void {
    const next = this.waiting.shift()
    if (next) next(conn)
    else if (this.closed) conn.fail('relay closed')
    else this.idle.push(conn)
  }

  discard(conn: PeerConnection): void {
    this.total--
    const at = this.idle.indexOf(conn)
    if (at >= 0) this.idle.splice(at, 1)
    if (!this.closed && this.waiting.length > 0 && this.total < this.options.maxConnectionsPerPeer) this.waiting.shift()!(this.open())
  }

  close(): void {
    this.closed = true
    for (const conn of [...this.idle]) conn.fail('relay closed')
  }
}

/** The request as it goes to the peer: as received, or rebuilt as HTTP/1.1 keep-alive. */
export function forwardedRequest(bytes: Buffer, head: RequestHead, credentialLine: string): Buffer | string {
  if (head.forwardable) {
    // Everything up to the blank line, the credential, the blank line.
    const headLength = head.headEnd - 2
    const out = Buffer.allocUnsafe(headLength + credentialLine.length + 2)
    bytes.copy(out, 0, 0, headLength)
    out.write(credentialLine, headLength, 'latin1')
    out[out.length - 2] = 13
    out[out.length - 1] = 10
    return out
  }
  let text = `${head.method} ${head.target} HTTP/1.1\r\n`
  for (const [name, value] of head.headers) if (!NOT_FORWARDED.has(name)) text += `${name}: ${value}\r\n`
  return text + credentialLine + '\r\n'
}

export class PeerRelay {
  private readonly pools = new Map<number, PeerPool>()
  private readonly options: Required<RelayOptions>

  constructor(options: RelayOptions = {}) {
    this.options = {
      maxConnectionsPerPeer: options.maxConnectionsPerPeer ?? 64,
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      responseTimeoutMs: options.responseTimeoutMs ?? 30_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 20_000,
    }
  }

  /** Peers' addresses by node id; pools of peers that left or moved are closed. */
  setPeers(peers: ReadonlyMap<number, string>): void {
    for (const [id, pool] of this.pools) {
      if (peers.get(id) !== pool.address) {
        pool.close()
        this.pools.delete(id)
      }
    }
    for (const [id, address] of peers) if (!this.pools.has(id)) this.pools.set(id, new PeerPool(address, this.options))
  }

  /**
   * Sends the request to peer `to` and streams its response to `client`. Rejects with a
   * RelayError; when `beforeResponse` is set, nothing reached the client.
   */
  async relay(client: ClientStream, head: RequestHead, bytes: Buffer, to: number, credential: CredentialLine): Promise<RelayOutcome> {
    const pool = this.pools.get(to)
    if (!pool) throw new RelayError(`no address for node ${to}`, true, false)
    try {
      return await this.exchange(pool, client, head, bytes, credential, false)
    } catch (err) {
      // A kept-alive connection the peer closed while idle: once more on a new connection.
      if (err instanceof RelayError && err.stale && !client.destroyed) return this.exchange(pool, client, head, bytes, credential, true)
      throw err
    }
  }

  private async exchange(pool: PeerPool, client: ClientStream, head: RequestHead, bytes: Buffer, credential: CredentialLine, fresh: boolean): Promise<RelayOutcome> {
    const acquired = pool.acquire(fresh)
    const conn = acquired instanceof PeerConnection ? acquired : await acquired
    return new Promise<RelayOutcome>((resolve, reject) => {
      conn.begin(
        {
          client,
          method: head.method,
          clientKeepAlive: head.keepAlive,
          pending: null,
          remaining: -1,
          peerKeepAlive: false,
          wroteToClient: false,
          lastWriteOk: true,
          resolve,
          reject,
        },
        bytes,
        head,
        credential,
      )
    })
  }

  close(): void {
    for (const pool of this.pools.values()) pool.close()
    this.pools.clear()
  }
}
