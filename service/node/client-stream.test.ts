import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { once } from 'node:events'
import net from 'node:net'
import { acceptHandles, type ClientHandle } from './client-socket.js'
import { ClientStream, HIGH_WATER_BYTES, type ClientStreamEvents } from './client-stream.js'

/** Runs `body` with a client connected over loopback and the handle this side accepted for it, then closes both. */
async function withConnection(body: (client: net.Socket, handle: ClientHandle) => Promise<void>): Promise<void> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = new Promise<ClientHandle>((resolve) => acceptHandles(server, resolve, () => false, () => {}))
  // allowHalfOpen: the client sends its FIN only when a test says so.
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true })
  client.on('error', () => {})
  try {
    await body(client, await accepted)
  } finally {
    client.destroy()
    server.close()
  }
}

/** Waits until `condition` holds, failing after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

function events(overrides: Partial<ClientStreamEvents> = {}): ClientStreamEvents {
  return { data: () => {}, end: () => {}, close: () => {}, ...overrides }
}

/** Everything the client receives until the server's FIN. */
function receivedUntilEnd(client: net.Socket): Promise<Buffer> {
  const got: Buffer[] = []
  client.on('data', (chunk) => got.push(chunk))
  return once(client, 'end').then(() => Buffer.concat(got))
}

test('a response larger than the kernel takes: false at the high-water mark, whenWritable once the client reads, every byte in order', async () => {
  await withConnection(async (client, handle) => {
    const stream = new ClientStream(handle, events())
    client.pause()
    const body = Buffer.alloc(8 << 20)
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i)
    const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`
    assert.is(stream.writeHeadAndBody(head, body), false, 'over the high-water mark')
    assert.ok(stream.queuedBytes >= HIGH_WATER_BYTES)
    let writable = 0
    stream.whenWritable(() => writable++)
    await new Promise((r) => setTimeout(r, 50))
    assert.is(writable, 0, 'not while the client reads nothing')
    const all = receivedUntilEnd(client)
    client.resume()
    await until(() => writable > 0, 'whenWritable')
    assert.is(writable, 1)
    stream.end()
    const got = await all
    assert.is(got.length, Buffer.byteLength(head) + body.length)
    assert.is(got.subarray(0, Buffer.byteLength(head)).toString('latin1'), head)
    assert.ok(got.subarray(Buffer.byteLength(head)).equals(body), 'the body, byte for byte')
  })
})

test('a small write is taken at once: true, nothing queued, whenWritable runs soon', async () => {
  await withConnection(async (client, handle) => {
    const stream = new ClientStream(handle, events())
    assert.is(stream.writeLatin1('HTTP/1.1 204 No Content\r\n\r\n'), true)
    assert.is(stream.queuedBytes, 0)
    let writable = false
    stream.whenWritable(() => (writable = true))
    await new Promise((r) => setImmediate(r))
    assert.ok(writable)
    const [chunk] = (await once(client, 'data')) as [Buffer]
    assert.is(chunk.toString('latin1'), 'HTTP/1.1 204 No Content\r\n\r\n')
  })
})

test("end(): the queued bytes, then FIN; the stream closes once the client's FIN comes", async () => {
  await withConnection(async (client, handle) => {
    let closed = 0
    const stream = new ClientStream(handle, events({ close: () => closed++ }))
    const body = Buffer.alloc(2 << 20, 7)
    client.pause()
    stream.write(body)
    stream.end()
    const all = receivedUntilEnd(client)
    client.resume()
    assert.is((await all).length, body.length, 'every byte before the FIN')
    await new Promise((r) => setTimeout(r, 20))
    assert.is(closed, 0, 'half-closed: waits for the client')
    client.end()
    await until(() => closed > 0, 'the close event')
    assert.ok(stream.destroyed)
    assert.is(closed, 1)
  })
})

test("the client's FIN: end event after its bytes, and what is written then still reaches it", async () => {
  await withConnection(async (client, handle) => {
    const seen: string[] = []
    const stream: ClientStream = new ClientStream(
      handle,
      events({
        data: (bytes) => seen.push(Buffer.from(bytes).toString()),
        end: () => {
          seen.push('<end>')
          stream.writeLatin1('answered after the FIN')
          stream.end()
        },
      }),
    )
    const all = receivedUntilEnd(client)
    client.end('request')
    assert.is((await all).toString(), 'answered after the FIN')
    assert.equal(seen, ['request', '<end>'])
    assert.ok(stream.ended)
  })
})

test('destroy: one close event, waiting callbacks run, later writes are ignored', async () => {
  await withConnection(async (client, handle) => {
    let closed = 0
    const stream = new ClientStream(handle, events({ close: () => closed++ }))
    client.pause()
    stream.write(Buffer.alloc(8 << 20))
    let woken = 0
    stream.whenWritable(() => woken++)
    stream.destroy()
    stream.destroy()
    assert.is(stream.write(Buffer.from('x')), true, 'nothing to wait for')
    client.resume()
    await once(client, 'end')
    await until(() => closed > 0, 'the close event')
    assert.is(closed, 1)
    assert.is(woken, 1)
    assert.is(stream.queuedBytes, 0)
  })
})

test('release: the stream lets go of its handle, which another stream reads from where it stopped', async () => {
  await withConnection(async (client, handle) => {
    const first: string[] = []
    const stream = new ClientStream(handle, events({ data: (b) => first.push(Buffer.from(b).toString()) }))
    client.write('before')
    await until(() => first.length > 0, 'the first read')
    const released = stream.release()
    assert.ok(released)
    assert.ok(stream.destroyed)
    assert.is(stream.release(), null, 'nothing left to release')
    client.write('after')
    await new Promise((r) => setTimeout(r, 30))
    assert.equal(first, ['before'], 'a released stream reads nothing more')
    const second: string[] = []
    new ClientStream(released!, events({ data: (b) => second.push(Buffer.from(b).toString()) }))
    await until(() => second.length > 0, 'the read after the release')
    assert.equal(second, ['after'])
  })
})

test.run()
