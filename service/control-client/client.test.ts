import { fork } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startDispatcher, type Dispatcher } from '../dispatcher/dispatcher.js'
import { freePort } from '../cluster/ports.js'
import { recordingLog, waitFor } from '../dispatcher/testing.js'
import { loadUws } from '../core/uws.js'
import { DEFAULT_PARAMS } from '../policy/types.js'
import { encodeMessage } from '../protocol/codec.js'
import { ControlClient, type ControlClientOptions } from './client.js'
import { DispatcherUnavailableError } from './errors.js'
import { stopChild, waitForMessage } from '../core/child-process.js'
import { CHILD_CONFIG_ENV, type ChildMessage, type DispatcherChildConfig } from '../cluster/messages.js'

const TOKEN = 'client-test'

// Everything a test opens, closed after it even when an assertion failed (or the run would hang).
const opened: { close(): Promise<void> }[] = []
test.after.each(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close()
})

async function dispatcher(port = 0): Promise<Dispatcher> {
  return track(await startDispatcher({ policy: 'ds', port, token: TOKEN, log: recordingLog().log, heartbeatIntervalMs: 50 }))
}

function track<T extends { close(): Promise<void> }>(thing: T): T {
  opened.push(thing)
  return thing
}

function client(d: Dispatcher, nodeId: number, extra: Partial<ControlClientOptions> = {}): ControlClient {
  return track(new ControlClient({ url: `ws://127.0.0.1:${d.port}/control`, nodeId, address: `n${nodeId}`, token: TOKEN, ...extra }))
}

/** Keeps `concurrency` assigns outstanding until `total` are answered (a closed loop). */
async function closedLoop(c: ControlClient, concurrency: number, total: number): Promise<void> {
  let issued = 0
  const worker = async () => {
    while (issued < total) {
      issued++
      const hash = (issued * 2654435761) >>> 0
      const node = await c.assign(hash)
      c.done(hash, node)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

test('adaptive batching: batches grow with the number of requests outstanding', async () => {
  const d = await dispatcher()
  const c = client(d, 0)
  await c.connect()
  const meanBatch = async (concurrency: number) => {
    const before = { ...c.counters }
    await closedLoop(c, concurrency, 4000)
    return (c.counters.requests - before.requests) / (c.counters.batches - before.batches)
  }
  const light = await meanBatch(1)
  const heavy = await meanBatch(500)
  assert.is(light, 1, 'one request outstanding: one per batch')
  assert.ok(heavy > 100, `500 outstanding: batches of ${heavy.toFixed(1)} on average`)
  // The dispatcher saw the same batches (its histogram counts them).
  assert.ok(d.state().meanBatchSize > 1)
  await c.close()
  await d.close()
})

test('batching off: one request per frame, many in flight, answers in order', async () => {
  const d = await dispatcher()
  const c = client(d, 0, { batching: false })
  await c.connect()
  const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => c.assign(i)))
  assert.equal(answers, new Array(300).fill(0))
  assert.is(c.counters.batches, 300)
  assert.is(d.state().batches, 300)
  await c.close()
  await d.close()
})

test('assign rejects with DispatcherUnavailableError when not connected, and when the link drops', async () => {
  const d = await dispatcher()
  const c = client(d, 0, { reconnect: false })
  const before = await c.assign(1).then(() => null, (e: unknown) => e)
  assert.instance(before, DispatcherUnavailableError)
  await c.connect()
  const inFlight = Array.from({ length: 50 }, (_, i) => c.assign(i).then(() => 'ok', (e: unknown) => e))
  await d.close() // closes every node with SHUTTING_DOWN before answering the next batch
  const results = await Promise.all(inFlight)
  assert.ok(results.every((r) => r === 'ok' || r instanceof DispatcherUnavailableError), 'answered or rejected, never left hanging')
  assert.not.ok(c.connected)
  await c.close()
})

test('reconnects with backoff after a dispatcher restart and resends its load', async () => {
  const port = await freePort()
  let d = await dispatcher(port)
  const c = client(d, 2, { backoffInitialMs: 20, backoffMaxMs: 100 })
  try {
    let welcomes = 0
    c.on('welcome', () => welcomes++)
    await c.connect()
    assert.is(await c.assign(42, 5), 2)
    await d.close()
    await waitFor('the client notices', () => !c.connected)
    const failed = await c.assign(42).then(() => null, (e: unknown) => e)
    assert.instance(failed, DispatcherUnavailableError, 'the node falls back to local decisions meanwhile')
    c.setLoad(9)
    d = await dispatcher(port)
    await waitFor('reconnect', () => welcomes === 2, 5000)
    assert.ok(c.counters.reconnects >= 1)
    const node = d.state().nodes.find((n) => n.id === 2)!
    assert.is(node.reportedLoad, 9, 'HELLO carried the load')
    assert.is(d.scheduler.load(2), 9)
    assert.is(await c.assign(42), 2)
  } finally {
    await c.close()
    await d.close()
  }
})

test('a node that comes up is announced to the others with its address', async () => {
  const d = await dispatcher()
  const a = client(d, 0)
  await a.connect()
  const ups: [number, string][] = []
  a.on('up', (id, member) => ups.push([id, member.address]))
  const b = client(d, 7, { weight: 3 })
  await b.connect()
  await waitFor('up event', () => ups.length === 1)
  assert.equal(ups, [[7, 'n7']])
  assert.equal(a.members.map((m) => [m.id, m.weight, m.up]), [
    [0, 1, true],
    [7, 3, true],
  ])
  await Promise.all([a.close(), b.close()])
  await d.close()
})

/** A fake dispatcher: WELCOME on HELLO, then whatever `after` does (nothing = silence). */
async function fakeDispatcher(after: (send: (bytes: Uint8Array) => void) => void): Promise<{ port: number; close(): Promise<void> }> {
  const { uws } = loadUws()
  const app = uws.App()
  let welcomed = false
  app.ws('/control', {
    message: (ws) => {
      if (welcomed) return // HEARTBEATs from the client go unanswered
      welcomed = true
      ws.send(encodeMessage({ type: 2, nodeId: 0, heartbeatIntervalMs: 20, policy: 'ds', impl: 'ts', params: { ...DEFAULT_PARAMS }, members: [] }), true)
      after((bytes) => ws.send(bytes, true))
    },
  })
  const listen = await new Promise<import('uWebSockets.js').us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) => (socket ? resolve(socket) : reject(new Error('listen failed')))),
  )
  return {
    port: uws.us_socket_local_port(listen),
    close: async () => {
      uws.us_listen_socket_close(listen)
    },
  }
}

test('a dispatcher that goes silent is dropped after 2 heartbeat intervals; a bad frame from it too', async () => {
  for (const [name, after, code] of [
    ['silent', () => {}, 4006],
    ['bad frame', (send: (b: Uint8Array) => void) => send(new Uint8Array([1, 2, 3])), 4001],
  ] as const) {
    const fake = track(await fakeDispatcher(after))
    const c = track(new ControlClient({ url: `ws://127.0.0.1:${fake.port}/control`, nodeId: 0, address: 'n0', token: TOKEN, reconnect: false }))
    let lost: { code: number } | undefined
    c.on('disconnected', (info) => (lost = info))
    await c.connect()
    await waitFor(`${name}: disconnect`, () => lost !== undefined, 3000)
    assert.is(lost!.code, code, name)
    const err = await c.assign(1).then(() => null, (e: unknown) => e)
    assert.instance(err, DispatcherUnavailableError)
  }
})

/**
 * A dispatcher on node:net that WELCOMEs and then never sends another byte, and never answers
 * a close frame either: only a destroyed socket ends its connections (`closedAt`).
 */
async function mutePeer(heartbeatIntervalMs: number): Promise<{ port: number; closedAt: number[]; closeFrames: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const state = { closedAt: [] as number[], closeFrames: 0 }
  const server = createServer((socket) => {
    sockets.add(socket)
    let head = ''
    let upgraded = false
    socket.on('data', (chunk) => {
      if (upgraded) {
        // The first byte of a client frame: 0x88 is a close frame (FIN + opcode 8).
        if (chunk[0] === 0x88) state.closeFrames++
        return
      }
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      upgraded = true
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
      const welcome = encodeMessage({ type: 2, nodeId: 0, heartbeatIntervalMs, policy: 'ds', impl: 'ts', params: { ...DEFAULT_PARAMS }, members: [] })
      const frameHead = welcome.length < 126 ? Buffer.from([0x82, welcome.length]) : Buffer.from([0x82, 126, welcome.length >> 8, welcome.length & 255])
      socket.write(Buffer.concat([frameHead, welcome]))
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets.delete(socket)
      state.closedAt.push(performance.now())
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return {
    port: (server.address() as import('node:net').AddressInfo).port,
    get closedAt() {
      return state.closedAt
    },
    get closeFrames() {
      return state.closeFrames
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

test('a silent dispatcher: the batch deadline makes the link suspect, pending and new assigns fail at once, the socket is destroyed', async () => {
  const peer = track(await mutePeer(60_000)) // heartbeats would come only every minute: the deadline must act
  const c = track(new ControlClient({ url: `ws://127.0.0.1:${peer.port}/control`, nodeId: 0, address: 'n0', token: TOKEN, assignDeadlineMinMs: 50, assignDeadlineMaxMs: 200, backoffInitialMs: 5000 }))
  await c.connect()
  assert.is(c.state, 'connected')
  const started = performance.now()
  const pending = Array.from({ length: 20 }, (_, i) => c.assign(i).then(() => null, (e: unknown) => [e, performance.now() - started] as const))
  const results = await Promise.all(pending)
  for (const r of results) {
    assert.instance(r![0], DispatcherUnavailableError)
    // No answer seen yet: the deadline is its upper bound (200 ms); slack for a busy machine.
    assert.ok(r![1] < 200 + 150, `rejected after ${r![1].toFixed(0)} ms`)
    assert.ok(r![1] >= 195, `not before the deadline: ${r![1].toFixed(0)} ms`)
  }
  assert.is(c.state, 'suspect')
  assert.is(c.counters.deadlineMisses, 1)
  const t = performance.now()
  const next = await c.assign(99).then(() => null, (e: unknown) => e)
  assert.instance(next, DispatcherUnavailableError)
  assert.ok(performance.now() - t < 20, 'a new assign while suspect fails at once')
  // Terminated, not politely closed: the peer never answers a close frame, yet its socket ends.
  await waitFor('the peer sees its socket end', () => peer.closedAt.length === 1, 1000)
  assert.ok(peer.closedAt[0] - started < 200 + 250, `socket ended ${(peer.closedAt[0] - started).toFixed(0)} ms after the request`)
  assert.is(peer.closeFrames, 0, 'no close handshake was waited for')
  assert.ok(c.timeInState().suspect > 0)
})

test('a silent dispatcher with no traffic: a missed heartbeat makes the link suspect', async () => {
  const peer = track(await mutePeer(50))
  const c = track(new ControlClient({ url: `ws://127.0.0.1:${peer.port}/control`, nodeId: 0, address: 'n0', token: TOKEN, backoffInitialMs: 5000 }))
  const states: string[] = []
  c.on('state', (s) => states.push(s))
  await c.connect()
  const started = performance.now()
  await waitFor('suspect', () => c.state === 'suspect', 1000)
  // Checked every interval, suspect past 2 intervals of silence: within 3 intervals plus slack.
  assert.ok(performance.now() - started < 3 * 50 + 150, `suspect after ${(performance.now() - started).toFixed(0)} ms`)
  assert.is(c.counters.heartbeatMisses, 1)
  assert.equal(states, ['connected', 'suspect'])
  await waitFor('the peer sees its socket end', () => peer.closedAt.length === 1, 1000)
})

test('a SIGSTOPped dispatcher process: suspect within the deadline, back to connected within 3 s of SIGCONT', async () => {
  const port = await freePort()
  const config: DispatcherChildConfig = { role: 'dispatcher', host: '127.0.0.1', port, policy: 'chbl', params: {}, token: TOKEN, adminPort: 0 }
  const child = fork(fileURLToPath(new URL('../cluster/child.js', import.meta.url)), [], {
    env: { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify(config) },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const c = new ControlClient({ url: `ws://127.0.0.1:${port}/control`, nodeId: 0, address: 'n0', token: TOKEN, assignDeadlineMaxMs: 300 })
  try {
    await waitForMessage<ChildMessage, 'ready'>(child, 'ready', 20_000, (f) => new Error(`dispatcher did not start: ${JSON.stringify(f)}`))
    await c.connect()
    for (let i = 0; i < 50; i++) assert.is(await c.assign(i), 0)
    const deadline = c.assignDeadlineMs
    assert.ok(deadline >= 100 && deadline <= 300, `deadline ${deadline} within its bounds`)
    child.kill('SIGSTOP')
    const started = performance.now()
    const err = await c.assign(1).then(() => null, (e: unknown) => e)
    const waited = performance.now() - started
    assert.instance(err, DispatcherUnavailableError)
    assert.ok(waited < deadline + 150, `rejected after ${waited.toFixed(0)} ms, deadline ${deadline.toFixed(0)} ms`)
    assert.is(c.state, 'suspect')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.is(c.state, 'suspect', 'still suspect while the dispatcher is stopped')
    child.kill('SIGCONT')
    const woke = performance.now()
    await waitFor('connected again', () => c.state === 'connected', 3000)
    assert.is(await c.assign(7), 0)
    assert.ok(performance.now() - woke < 3000)
  } finally {
    child.kill('SIGCONT')
    await c.close()
    await stopChild(child, 'SIGKILL')
  }
})

test.run()
