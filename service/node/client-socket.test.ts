import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { once } from 'node:events'
import net from 'node:net'
import { acceptHandles, takeHandle, type ClientHandle } from './client-socket.js'
import { ClientStream } from './client-stream.js'

async function listening(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as net.AddressInfo).port }
}

function nextHandle(handles: ClientHandle[]): Promise<ClientHandle> {
  return new Promise((resolve) => {
    const poll = () => (handles.length > 0 ? resolve(handles.shift()!) : setTimeout(poll, 5))
    poll()
  })
}

test('accepted clients arrive as handles; a client stream on one delivers its bytes and writes back', async () => {
  const { server, port } = await listening()
  const handles: ClientHandle[] = []
  let drops = 0
  acceptHandles(server, (h) => handles.push(h), () => false, () => drops++)
  let connectionEvents = 0
  server.on('connection', () => connectionEvents++)
  const client = net.connect(port, '127.0.0.1')
  const handle = await nextHandle(handles)
  const seen: string[] = []
  const socket = new ClientStream(handle, {
    data: (bytes) => {
      // A view of the shared buffer: copied before it is kept.
      seen.push(Buffer.from(bytes).toString())
      socket.write(Buffer.from(bytes))
    },
    end: () => {},
    close: () => {},
  })
  client.write('hello')
  const [echo] = (await once(client, 'data')) as [Buffer]
  assert.is(echo.toString(), 'hello')
  assert.equal(seen, ['hello'])
  assert.is(connectionEvents, 0, 'net does not make a socket of its own')
  assert.is(drops, 0)
  client.destroy()
  socket.destroy()
  server.close()
})

test('past the limit a client is closed at once and counted as dropped', async () => {
  const { server, port } = await listening()
  let drops = 0
  acceptHandles(server, () => assert.unreachable('accepted'), () => true, () => drops++)
  const client = net.connect(port, '127.0.0.1')
  client.on('error', () => {})
  await once(client, 'close')
  assert.is(drops, 1)
  server.close()
})

test('takeHandle: the socket lets go of its handle, which a client stream reads from where it stopped', async () => {
  const { server, port } = await listening()
  const handles: ClientHandle[] = []
  acceptHandles(server, (h) => handles.push(h), () => false, () => {})
  const client = net.connect(port, '127.0.0.1')
  // A socket net made and that is reading, as one received from the parent is.
  const first = new net.Socket({ handle: await nextHandle(handles), readable: true, writable: true } as net.SocketConstructorOpts)
  const handle = takeHandle(first)
  assert.ok(handle)
  assert.ok(first.destroyed)
  assert.is(takeHandle(first), null, 'nothing left to take')
  const got: Buffer[] = []
  new ClientStream(handle!, { data: (bytes) => got.push(Buffer.from(bytes)), end: () => {}, close: () => {} })
  client.write('after the move')
  const deadline = Date.now() + 2000
  while (Buffer.concat(got).length < 'after the move'.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  assert.is(Buffer.concat(got).toString(), 'after the move')
  client.destroy()
  server.close()
})

test.run()
