import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { once } from 'node:events'
import net from 'node:net'
import { acceptHandles, destroyAfterWrites, readingSocket, takeHandle, type ClientHandle } from './client-socket.js'

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

test('accepted clients arrive as handles; a reading socket on one delivers its bytes and writes back', async () => {
  const { server, port } = await listening()
  const handles: ClientHandle[] = []
  let drops = 0
  acceptHandles(server, (h) => handles.push(h), () => false, () => drops++)
  let connectionEvents = 0
  server.on('connection', () => connectionEvents++)
  const client = net.connect(port, '127.0.0.1')
  const handle = await nextHandle(handles)
  const seen: string[] = []
  const socket = readingSocket(handle, (bytes) => {
    // A view of the shared buffer: copied before it is kept.
    seen.push(Buffer.from(bytes).toString())
    socket.write(Buffer.from(bytes))
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

test('takeHandle: the socket lets go of its handle, which a new reading socket reads from where it stopped', async () => {
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
  readingSocket(handle!, (bytes) => got.push(Buffer.from(bytes)))
  client.write('after the move')
  const deadline = Date.now() + 2000
  while (Buffer.concat(got).length < 'after the move'.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  assert.is(Buffer.concat(got).toString(), 'after the move')
  client.destroy()
  server.close()
})

test('destroyAfterWrites: the writes already made complete on a live socket, then it is destroyed and the peer sees the bytes and the end', async () => {
  const { server, port } = await listening()
  const client = net.connect(port, '127.0.0.1')
  const [accepted] = (await once(server, 'connection')) as [net.Socket]
  const received: Buffer[] = []
  client.on('data', (chunk) => received.push(chunk))
  const ended = once(client, 'close')
  // A write the kernel takes at once still completes on the next tick; destroying before it
  // runs is what made Node build an ERR_STREAM_DESTROYED error per connection.
  let destroyedAtCompletion: boolean | null = null
  accepted.write('the response', () => (destroyedAtCompletion = accepted.destroyed))
  destroyAfterWrites(accepted)
  assert.not.ok(accepted.destroyed, 'not yet: in the same tick')
  await once(accepted, 'close')
  assert.is(destroyedAtCompletion, false, 'the write completed before the socket was destroyed')
  await ended
  assert.is(Buffer.concat(received).toString(), 'the response')
  server.close()
})

test.run()
