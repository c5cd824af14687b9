// The platform floor's server process (see node-floor.ts): every file of a document root in
// memory, GET answered with the file and a fixed head, on the client streams l7's nodes use
// (libuv handles without a net.Socket: service/node/client-stream.ts). No routing, no cache
// policy, no checks beyond what wrk's requests need: the least a Node.js process does to answer
// such a request, to hold l7's node against. Started by startNodeFloor over IPC.

import net from 'node:net'
import { acceptHandles, type ClientHandle } from '../../service/node/client-socket.js'
import { ClientStream } from '../../service/node/client-stream.js'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = process.argv[2]
const files = new Map<string, Buffer>()
function walk(dir: string, prefix: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path, `${prefix}/${name}`)
    else files.set(`${prefix}/${name}`, readFileSync(path))
  }
}
walk(root, '')

const HEAD_END = Buffer.from('\r\n\r\n')
const CLOSE = Buffer.from('onnection: close')

function answer(stream: ClientStream, request: Buffer): boolean {
  const close = request.includes(CLOSE)
  const afterMethod = request.indexOf(32) + 1
  const path = request.toString('latin1', afterMethod, request.indexOf(32, afterMethod))
  const body = files.get(path)
  const status = body ? '200 OK' : '404 Not Found'
  const length = body ? body.length : 0
  const head = `HTTP/1.1 ${status}\r\nServer: floor\r\nContent-Length: ${length}\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`
  if (body) stream.writeHeadAndBody(head, body)
  else stream.writeLatin1(head)
  if (close) {
    if (stream.queuedBytes === 0) stream.destroy()
    else stream.end()
  }
  return !close
}

function serve(handle: ClientHandle): void {
  let pending: Buffer | null = null
  const stream: ClientStream = new ClientStream(handle, {
    // A view of the shared read buffer: what is kept past this call is copied.
    data: (chunk) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk
      let end: number
      while ((end = buf.indexOf(HEAD_END)) >= 0) {
        const open = answer(stream, buf.subarray(0, end))
        buf = buf.subarray(end + 4)
        if (!open) return
      }
      pending = buf.length > 0 ? Buffer.from(buf) : null
    },
    end: () => stream.end(),
    close: () => {},
  })
}

process.on('message', (message: { type: string; port?: number }, handle?: object) => {
  if (message.type !== 'listen') return
  const server = net.createServer()
  const listening = () => {
    acceptHandles(server, serve, () => false, () => {})
    process.send!({ type: 'listening', port: (server.address() as net.AddressInfo).port })
  }
  if (handle) server.listen(handle, listening)
  else server.listen(0, '127.0.0.1', listening)
})
process.on('disconnect', () => process.exit(0))
process.send!({ type: 'loaded', files: files.size })
