// Direct channels between two processes: this one is node 0 (it passes clients), a child
// started from this same file is node 1 (it takes them and echoes them back, after a line that
// says who served and by which route). The channel is made as for a restarted node
// (fd-mesh.ts rejoin): node 0 connects, node 1 inherits the accepted end as descriptor 4.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stopReading, takeHandle } from '../node/client-socket.js'
import { ClientStream } from '../node/client-stream.js'
import type { HandoffRoute } from '../node/credential.js'
import { SiblingChannels } from './fd-channel.js'
import { FdMesh, releaseEnds } from './fd-mesh.js'
import type { StreamHandle } from './ipc-pipe.js'

const SIBLING_ENV = 'L7_FD_CHANNEL_TEST_SIBLING'

/** Serves a client by echo: `node <id> <route>\n`, the bytes it came with, then whatever it sends. */
function echo(id: number, handle: StreamHandle, bytes: Buffer, route: HandoffRoute): void {
  // As the node's front end does: a stream reading into the shared buffer, which a write must copy.
  const stream = new ClientStream(handle, { data: (chunk) => stream.write(Buffer.from(chunk)), end: () => stream.end(), close: () => {} })
  stream.writeLatin1(`node ${id} ${route}\n`)
  stream.write(bytes)
}

function channelsOrThrow(options: Parameters<typeof SiblingChannels.create>[0]): SiblingChannels {
  const made = SiblingChannels.create(options)
  if (typeof made === 'string') throw new Error(made)
  return made
}

if (process.env[SIBLING_ENV]) {
  // Node 1, in the child.
  const send = (message: object) => process.send?.(message)
  const channels = channelsOrThrow({ self: 1, adopt: (socket, bytes, route) => echo(1, socket, bytes, route), log: (message) => send({ log: message }) })
  channels.open(0, 4)
  void channels.whenUp([0], 5000).then((missing) => send({ up: missing.length === 0 }))
  process.on('disconnect', () => process.exit(0))
} else {
  let root = ''
  let child: ChildProcess | null = null
  let channels: SiblingChannels | null = null
  let server: net.Server | null = null
  const logs: string[] = []

  /** Node 0's channels (ackTimeoutMs as given) and node 1 started with the other end; `port` is node 0's front door. */
  async function start(ackTimeoutMs = 5000): Promise<{ port: number; channels: SiblingChannels; child: ChildProcess }> {
    const mesh = FdMesh.create({ tmpRoot: root })
    if (typeof mesh === 'string') throw new Error(mesh)
    const node0 = channelsOrThrow({ self: 0, adopt: (socket, bytes, route) => echo(0, socket, bytes, route), log: (m) => logs.push(m), ackTimeoutMs })
    channels = node0
    let connected: Promise<void> | null = null
    const ends = await mesh.rejoin([0], (_sibling, path) => (connected = node0.connect(1, path, 2000)))
    assert.is(ends.length, 1)
    child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, [SIBLING_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ends[0].handle.fd],
    })
    releaseEnds(ends)
    child.on('message', (m: { log?: string }) => m.log && logs.push(`node 1: ${m.log}`))
    await connected
    const [ready] = (await once(child, 'message')) as [{ up: boolean }]
    assert.ok(ready.up, 'node 1 heard HELLO')
    assert.equal(await node0.whenUp([1], 2000), [])
    // Node 0's front end, reduced to what fd passing needs: read the first bytes, stop reading, pass.
    server = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        stopReading(socket)
        const unread = Buffer.concat([chunk, ...(socket as unknown as { readableBuffer: Buffer[] }).readableBuffer])
        const handle = takeHandle(socket)
        if (!handle) return
        const stream = new ClientStream(handle, { data: () => {}, end: () => {}, close: () => {} })
        if (node0.pass(1, stream, unread, 'dispatched')) return
        const kept = stream.release()
        if (kept) echo(0, kept, unread, 'no-channel' as HandoffRoute)
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return { port: (server.address() as net.AddressInfo).port, channels: node0, child }
  }

  /** A client: sends each part after its delay, ends, and resolves with everything it received before the close. */
  function client(port: number, parts: Array<{ data: Buffer | string; afterMs?: number }>, timeoutMs = 5000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.setNoDelay(true)
      const received: Buffer[] = []
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Error(`no close within ${timeoutMs} ms; got ${Buffer.concat(received).toString('latin1').slice(0, 80)}`))
      }, timeoutMs)
      socket.on('data', (chunk) => received.push(chunk))
      socket.on('error', () => {})
      socket.on('close', () => {
        clearTimeout(timer)
        resolve(Buffer.concat(received))
      })
      void (async () => {
        for (const part of parts) {
          if (part.afterMs) await new Promise((r) => setTimeout(r, part.afterMs))
          if (socket.destroyed) return
          socket.write(part.data)
        }
        socket.end()
      })()
    })
  }

  async function waitFor(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (!condition()) {
      if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  test.before.each(async () => {
    root = await mkdtemp(join(tmpdir(), 'l7-fd-channel-test-'))
    logs.length = 0
  })

  test.after.each(async () => {
    server?.close()
    server = null
    channels?.close()
    channels = null
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
    child = null
    // Every socket and directory the channels were made with is gone.
    assert.equal(await readdir(root), [])
    await rm(root, { recursive: true, force: true })
  })

  test('a passed client gets the sibling: the bytes it came with, then everything it sends after, in order, byte for byte', async () => {
    const { port, channels } = await start()
    const later = randomBytes(200_000)
    const got = await client(port, [{ data: 'GET /a HTTP/1.1\r\n\r\n' }, { data: 'GET /b', afterMs: 30 }, { data: ' HTTP/1.1\r\n\r\n' }, { data: later, afterMs: 5 }])
    assert.ok(got.equals(Buffer.concat([Buffer.from('node 1 dispatched\nGET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n'), later])), got.subarray(0, 60).toString('latin1'))
    assert.equal(channels.stats, { passed: 1, received: 0, takenBack: 0, ackTimeouts: 0 })
  })

  test('many clients passed at once: each gets its own bytes back (every descriptor went with its own frame)', async () => {
    const { port, channels } = await start()
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        client(port, [{ data: `client ${i} first\n` }, { data: `client ${i} second\n`, afterMs: 20 }]).then((got) => [i, got.toString()] as const),
      ),
    )
    for (const [i, got] of results) assert.is(got, `node 1 dispatched\nclient ${i} first\nclient ${i} second\n`)
    assert.is(channels.stats.passed, 60)
    assert.is(channels.stats.takenBack, 0)
  })

  test('the sibling dies with clients passed and not taken: each comes back and is served here, nothing lost', async () => {
    const { port, channels, child } = await start()
    child.kill('SIGSTOP')
    const answers = Array.from({ length: 3 }, (_, i) => client(port, [{ data: `request ${i}\n` }, { data: `more ${i}\n`, afterMs: 100 }]))
    await waitFor('three passes', () => channels.stats.passed === 3)
    child.kill('SIGKILL')
    const got = await Promise.all(answers)
    got.forEach((g, i) => assert.is(g.toString(), `node 0 fallback\nrequest ${i}\nmore ${i}\n`))
    assert.is(channels.stats.takenBack, 3)
    assert.not.ok(channels.canPass(1), 'no channel to a dead sibling')
    assert.ok(logs.some((l) => /channel to node 1 closed: closed by the sibling; 3 passed client\(s\) not taken/.test(l)), logs.join('\n'))
  })

  test('a sibling that stops reading: the passed client is closed cleanly after the ACK timeout, never left hanging', async () => {
    const { port, channels, child } = await start(300)
    child.kill('SIGSTOP')
    const started = performance.now()
    const got = await client(port, [{ data: 'GET /stuck HTTP/1.1\r\n\r\n' }], 3000)
    const took = performance.now() - started
    assert.is(got.length, 0)
    assert.ok(took >= 250 && took < 2500, `${took} ms`)
    assert.is(channels.stats.ackTimeouts, 1)
    assert.not.ok(channels.canPass(1), 'the channel is dropped')
    // Back to life, node 1 finds the client closed; this process has moved on.
    child.kill('SIGCONT')
  })

  test('no channel yet or any more: canPass is false and pass leaves the socket alone', async () => {
    const node0 = channelsOrThrow({ self: 0, adopt: () => {}, log: () => {} })
    try {
      assert.not.ok(node0.canPass(1))
      let released = 0
      const stream = { release: () => (released++, null) } as unknown as ClientStream
      assert.not.ok(node0.pass(1, stream, Buffer.from('x'), 'dispatched'))
      assert.is(released, 0, 'the stream keeps its handle')
      assert.not.ok(node0.open(1, 999_999), 'a descriptor that is not open')
      const failed = await node0.connect(1, join(root, 'nobody.sock'), 500).then(
        () => null,
        (e: Error) => e,
      )
      assert.instance(failed, Error)
    } finally {
      node0.close()
    }
  })

  test.run()
}
