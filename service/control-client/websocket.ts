// The control channel's transport: a small RFC 6455 client on a raw TCP socket, with the
// subset of the WHATWG WebSocket interface the control client uses (open, message, error,
// close; send, close) plus the socket itself, so that a silent peer can be cut off at once.
//
// Why not undici's WebSocket: profiled on a node under load, its send path (a masked frame
// built per message, each its own write) and message events took about a quarter of the
// node's CPU. Here every frame sent in one turn of the event loop leaves in one write
// (the socket is corked until the next tick), and frames are parsed straight off the
// socket's buffers. Only binary messages matter to the protocol; text, ping, pong, close
// and fragmented messages are handled as the RFC says.

import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024
const MAX_HANDSHAKE_BYTES = 16 * 1024
/** Bytes one read takes at most (the buffer is reused for every read). */
const READ_BYTES = 64 * 1024

export interface MessageEventLike {
  data: ArrayBuffer | string
}
export interface CloseEventLike {
  code: number
  reason: string
}
type Listener<E> = (event: E) => void
interface Listeners {
  open: Listener<void>[]
  message: Listener<MessageEventLike>[]
  error: Listener<Error>[]
  close: Listener<CloseEventLike>[]
}

// Masking exists to stop a client's bytes from being read as something else by proxies in
// between (RFC 6455 section 10.3); the control channel goes from our node to our dispatcher,
// so keys come from a fast generator (xorshift32, seeded from the system's random source)
// rather than a system call.
let maskState = randomBytes(4).readUInt32LE(0) | 1
const maskBytes = Buffer.alloc(4)

function maskKey(): Buffer {
  maskState ^= maskState << 13
  maskState ^= maskState >>> 17
  maskState ^= maskState << 5
  maskBytes.writeInt32LE(maskState | 0, 0)
  return maskBytes
}

/** One client frame (FIN set, masked). */
export function encodeClientFrame(opcode: number, payload: Uint8Array, key: Uint8Array = maskKey()): Buffer {
  const length = payload.length
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8
  const out = Buffer.allocUnsafe(2 + lengthBytes + 4 + length)
  out[0] = 0x80 | opcode
  let at = 2
  if (lengthBytes === 0) out[1] = 0x80 | length
  else if (lengthBytes === 2) {
    out[1] = 0x80 | 126
    out.writeUInt16BE(length, 2)
    at = 4
  } else {
    out[1] = 0x80 | 127
    out.writeBigUInt64BE(BigInt(length), 2)
    at = 10
  }
  out[at] = key[0]
  out[at + 1] = key[1]
  out[at + 2] = key[2]
  out[at + 3] = key[3]
  at += 4
  for (let i = 0; i < length; i++) out[at + i] = payload[i] ^ key[i & 3]
  return out
}

export class RawWebSocket {
  /** The TCP socket (for cutting a silent peer off). */
  readonly socket: net.Socket
  private readonly listeners: Listeners = { open: [], message: [], error: [], close: [] }
  private handshakeDone = false
  private buffered: Buffer | null = null
  private fragments: Buffer[] = []
  private fragmentOpcode = 0
  private fragmentBytes = 0
  private closeCode = 1006
  private closeReason = ''
  private closeSent = false
  private closed = false
  private corked = false
  private readonly key = randomBytes(16).toString('base64')
  /** Kept for interface compatibility: messages are always ArrayBuffers. */
  binaryType: 'arraybuffer' = 'arraybuffer'

  constructor(url: string) {
    const u = new URL(url)
    if (u.protocol !== 'ws:') throw new Error(`only ws:// URLs are supported, got ${url}`)
    const port = Number(u.port || 80)
    const host = u.hostname.replace(/^\[|\]$/g, '')
    // Reads land in a buffer of this connection's own (net's `onread`: no allocation and no
    // stream event per read); onData copies what it keeps, and deliver() copies each message.
    const readBuffer = Buffer.allocUnsafe(READ_BYTES)
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (count: number) => {
          this.onData(readBuffer.subarray(0, count))
          return true
        },
      },
    })
    this.socket.on('connect', () => {
      this.socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        'latin1',
      )
    })
    this.socket.on('error', (err) => this.emit('error', err))
    this.socket.on('close', () => this.onSocketClose())
  }

  addEventListener<K extends keyof Listeners>(type: K, listener: Listeners[K][number], options?: { once?: boolean }): void {
    const list = this.listeners[type] as Array<Listeners[K][number]>
    if (options?.once) {
      const once = ((event: never) => {
        const at = list.indexOf(once)
        if (at >= 0) list.splice(at, 1)
        ;(listener as (e: never) => void)(event)
      }) as Listeners[K][number]
      list.push(once)
    } else list.push(listener)
  }

  private emit<K extends keyof Listeners>(type: K, event: Parameters<Listeners[K][number]>[0]): void {
    for (const listener of [...this.listeners[type]]) (listener as (e: typeof event) => void)(event)
  }

  /** Sends one binary message. Frames sent in the same tick leave in one write. */
  send(data: Uint8Array | ArrayBuffer): void {
    if (!this.handshakeDone || this.closeSent || this.socket.destroyed) return
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data
    this.write(encodeClientFrame(0x2, bytes))
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return
    if (!this.handshakeDone) {
      this.closeCode = code
      this.closeReason = reason
      this.socket.destroy()
      return
    }
    if (this.closeSent) return
    this.closeSent = true
    const reasonBytes = Buffer.from(reason.slice(0, 120))
    const payload = Buffer.allocUnsafe(2 + reasonBytes.length)
    payload.writeUInt16BE(code, 0)
    reasonBytes.copy(payload, 2)
    this.write(encodeClientFrame(0x8, payload))
    // The peer answers with its close and then ends the TCP connection; do not wait forever.
    const timer = setTimeout(() => this.socket.destroy(), 2000)
    timer.unref()
  }

  private write(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true
      this.socket.cork()
      process.nextTick(this.uncork)
    }
    this.socket.write(frame)
  }

  private readonly uncork = (): void => {
    this.corked = false
    this.socket.uncork()
  }

  private onData(chunk: Buffer): void {
    let buf = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk
    this.buffered = null
    if (!this.handshakeDone) {
      const end = buf.indexOf('\r\n\r\n', 0, 'latin1')
      if (end < 0) {
        if (buf.length > MAX_HANDSHAKE_BYTES) this.fail('handshake response too large')
        else this.buffered = Buffer.from(buf)
        return
      }
      const problem = this.checkHandshake(buf.toString('latin1', 0, end))
      if (problem) {
        this.fail(problem)
        return
      }
      this.handshakeDone = true
      buf = buf.subarray(end + 4)
      this.emit('open', undefined)
      if (this.socket.destroyed) return
    }
    let at = 0
    while (!this.closed && !this.socket.destroyed) {
      if (buf.length - at < 2) break
      const b0 = buf[at]
      const b1 = buf[at + 1]
      if (b1 & 0x80) {
        this.fail('masked frame from the server', 1002)
        return
      }
      let length = b1 & 0x7f
      let header = 2
      if (length === 126) {
        if (buf.length - at < 4) break
        length = buf.readUInt16BE(at + 2)
        header = 4
      } else if (length === 127) {
        if (buf.length - at < 10) break
        const big = buf.readBigUInt64BE(at + 2)
        if (big > BigInt(MAX_MESSAGE_BYTES)) {
          this.fail('frame too large', 1009)
          return
        }
        length = Number(big)
        header = 10
      }
      if (length > MAX_MESSAGE_BYTES) {
        this.fail('frame too large', 1009)
        return
      }
      if (buf.length - at < header + length) break
      const payload = buf.subarray(at + header, at + header + length)
      at += header + length
      this.onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload)
    }
    if (at < buf.length) this.buffered = Buffer.from(buf.subarray(at))
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= 0x8) {
      if (!fin || payload.length > 125) {
        this.fail('bad control frame', 1002)
        return
      }
      if (opcode === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
        this.closeReason = payload.length > 2 ? payload.toString('utf8', 2) : ''
        if (!this.closeSent) {
          this.closeSent = true
          this.write(encodeClientFrame(0x8, payload.subarray(0, 2)))
        }
        this.socket.end()
      } else if (opcode === 0x9) this.write(encodeClientFrame(0xa, payload))
      return
    }
    if (opcode === 0x0) {
      if (this.fragmentOpcode === 0) {
        this.fail('continuation without a first frame', 1002)
        return
      }
      this.fragments.push(Buffer.from(payload))
      this.fragmentBytes += payload.length
      if (this.fragmentBytes > MAX_MESSAGE_BYTES) {
        this.fail('message too large', 1009)
        return
      }
      if (fin) {
        const whole = Buffer.concat(this.fragments)
        const first = this.fragmentOpcode
        this.fragments = []
        this.fragmentOpcode = this.fragmentBytes = 0
        this.deliver(first, whole)
      }
      return
    }
    if (opcode !== 0x1 && opcode !== 0x2) {
      this.fail(`unknown opcode ${opcode}`, 1002)
      return
    }
    if (!fin) {
      this.fragmentOpcode = opcode
      this.fragments = [Buffer.from(payload)]
      this.fragmentBytes = payload.length
      return
    }
    this.deliver(opcode, payload)
  }

  private deliver(opcode: number, payload: Buffer): void {
    const data: ArrayBuffer | string =
      opcode === 0x1 ? payload.toString('utf8') : (payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.length) as ArrayBuffer)
    this.emit('message', { data })
  }

  private checkHandshake(head: string): string | null {
    const lines = head.split('\r\n')
    if (!/^HTTP\/1\.1 101 /.test(lines[0])) return `upgrade refused: ${lines[0]}`
    let accept = ''
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'sec-websocket-accept') accept = line.slice(colon + 1).trim()
    }
    const expected = createHash('sha1').update(this.key + GUID).digest('base64')
    return accept === expected ? null : 'bad Sec-WebSocket-Accept'
  }

  private fail(reason: string, code = 1006): void {
    this.closeCode = code
    this.closeReason = reason
    this.emit('error', new Error(reason))
    this.socket.destroy()
  }

  private onSocketClose(): void {
    if (this.closed) return
    this.closed = true
    this.emit('close', { code: this.closeCode, reason: this.closeReason })
  }
}
