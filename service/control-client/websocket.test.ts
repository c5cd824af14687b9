// The transport against uWebSockets.js (the dispatcher's server) and against hand-made frames.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import net from 'node:net'
import { createHash } from 'node:crypto'
import { loadUws } from '../core/uws.js'
import { RawWebSocket, encodeClientFrame } from './websocket.js'

function opened(ws: RawWebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true })
    ws.addEventListener('close', (e) => reject(new Error(`closed ${e.code} ${e.reason}`)), { once: true })
  })
}

test('echo through uWebSockets.js: small, 126+ and 64 KiB+ messages, in order, byte for byte', async () => {
  const { uws } = loadUws()
  const app = uws.App()
  app.ws('/control', { maxPayloadLength: 1 << 20, message: (ws, message) => void ws.send(message, true) })
  let listenSocket: unknown = null
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (token) => {
      listenSocket = token
      resolve(uws.us_socket_local_port(token as never))
    }),
  )
  const ws = new RawWebSocket(`ws://127.0.0.1:${port}/control`)
  try {
    await opened(ws)
    const sizes = [0, 1, 125, 126, 1000, 65535, 65536, 200_000]
    const got: Buffer[] = []
    const all = new Promise<void>((resolve) => ws.addEventListener('message', (e) => (got.push(Buffer.from(e.data as ArrayBuffer)), got.length === sizes.length && resolve())))
    // Sent in one tick: they leave corked together and come back as separate messages.
    for (const size of sizes) ws.send(new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff))
    await all
    sizes.forEach((size, k) => assert.ok(got[k].equals(Buffer.from(new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff))), `message ${k} (${size} B)`))
    const closed = new Promise<{ code: number }>((resolve) => ws.addEventListener('close', (e) => resolve(e)))
    ws.close(1000, 'bye')
    assert.is((await closed).code, 1000)
  } finally {
    ws.socket.destroy()
    uws.us_listen_socket_close(listenSocket as never)
  }
})

test('a server that refuses the upgrade, sends a masked frame or a ping: error and close, or pong', async () => {
  let mode = 'refuse'
  let pong: Buffer | null = null
  const server = net.createServer((socket) => {
    socket.once('data', (req) => {
      const key = /Sec-WebSocket-Key: (\S+)/i.exec(req.toString())![1]
      if (mode === 'refuse') return void socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
      if (mode === 'masked') socket.write(encodeClientFrame(0x2, Buffer.from('x')))
      else {
        socket.write(Buffer.from([0x89, 0x02, 0x68, 0x69])) // ping "hi"
        socket.on('data', (d) => (pong = d))
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as net.AddressInfo).port
  try {
    const refused = new RawWebSocket(`ws://127.0.0.1:${port}/`)
    const code = await new Promise<number>((resolve) => refused.addEventListener('close', (e) => resolve(e.code)))
    assert.is(code, 1006)
    mode = 'masked'
    const masked = new RawWebSocket(`ws://127.0.0.1:${port}/`)
    const e = await new Promise<{ code: number; reason: string }>((resolve) => masked.addEventListener('close', resolve))
    assert.is(e.code, 1002)
    mode = 'ping'
    const pinged = new RawWebSocket(`ws://127.0.0.1:${port}/`)
    await opened(pinged)
    for (let i = 0; i < 50 && !pong; i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(pong, 'a pong came back')
    assert.is(pong![0], 0x8a)
    pinged.socket.destroy()
  } finally {
    server.close()
  }
})

test.run()
