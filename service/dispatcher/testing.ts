// Helpers shared by the dispatcher and control-client specs: polling for a condition, a log
// that records, and a raw WebSocket client on node:net for what undici will not do (stop
// reading, send arbitrary bytes).
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import type { LogFn } from './dispatcher.js'

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export interface LogRecord {
  level: string
  event: string
  fields: Record<string, unknown>
}

export function recordingLog(): { log: LogFn; records: LogRecord[] } {
  const records: LogRecord[] = []
  return { records, log: (level, event, fields = {}) => records.push({ level, event, fields }) }
}

/** A WebSocket client socket after the handshake; frames are sent masked with a zero key. */
export async function rawWebSocket(port: number, path = '/control'): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const key = randomBytes(16).toString('base64')
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )
  await new Promise<void>((resolve, reject) => {
    let head = ''
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      if (head.startsWith('HTTP/1.1 101')) resolve()
      else reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`))
    }
    socket.on('data', onData)
  })
  return socket
}

/** One client-to-server binary frame (mask bit set, zero key, so the payload goes as is). */
export function maskedFrame(payload: Uint8Array, opcode = 2): Buffer {
  const n = payload.length
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10)
  head[0] = 0x80 | opcode
  if (n < 126) head[1] = 0x80 | n
  else if (n < 65536) {
    head[1] = 0x80 | 126
    head.writeUInt16BE(n, 2)
  } else {
    head[1] = 0x80 | 127
    head.writeBigUInt64BE(BigInt(n), 2)
  }
  return Buffer.concat([head, Buffer.alloc(4), payload])
}

/** GET over a fresh connection that is closed after the answer (no keep-alive pool left open). */
export async function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { get } = await import('node:http')
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}
