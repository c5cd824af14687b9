import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { WebSocket } from 'undici'
import { ControlClient } from '../control-client/client.js'
import { DispatcherRefusedError } from '../control-client/errors.js'
import { decodeFrame, encodeAssignInto, encodeMessage, FrameBuffer, VERSION } from '../protocol/codec.js'
import { startDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher.js'
import { httpGet, maskedFrame, rawWebSocket, recordingLog, waitFor } from './testing.js'

const TOKEN = 'test-token'
const IMPL = 'wasm' as const

async function withDispatcher(
  options: Partial<DispatcherOptions>,
  body: (d: Dispatcher, logs: ReturnType<typeof recordingLog>['records']) => Promise<void>,
): Promise<void> {
  const { log, records } = recordingLog()
  const d = await startDispatcher({ policy: 'lard', impl: IMPL, port: 0, token: TOKEN, log, ...options })
  try {
    await body(d, records)
  } finally {
    await d.close()
  }
}

// Clients a test opens, closed after it even when an assertion failed (or the run would hang).
const clients: ControlClient[] = []
test.after.each(async () => {
  for (const c of clients.splice(0)) await c.close()
})

function client(d: Dispatcher, nodeId: number, extra: Partial<ConstructorParameters<typeof ControlClient>[0]> = {}): ControlClient {
  const c = new ControlClient({ url: `ws://127.0.0.1:${d.port}/control`, nodeId, address: `127.0.0.1:${9000 + nodeId}`, token: TOKEN, reconnect: false, ...extra })
  clients.push(c)
  return c
}

test('refuses a start without a token, and an unknown policy', async () => {
  const failure = (options: DispatcherOptions) => startDispatcher(options).then(() => '', (e: Error) => e.message)
  assert.match(await failure({ policy: 'ds', port: 0, token: '' }), 'token is required')
  assert.match(await failure({ policy: 'nope' as 'ds', port: 0, token: 'x' }), 'unknown policy')
})

test('registration: WELCOME carries policy, parameters and membership; a wrong token is refused and logged', async () => {
  await withDispatcher({ params: { tLow: 10, tHigh: 30 } }, async (d, logs) => {
    const a = client(d, 3)
    const welcome = await a.connect()
    assert.is(welcome.policy, 'lard')
    assert.is(welcome.params.tLow, 10)
    assert.equal(welcome.members, [{ id: 3, address: '127.0.0.1:9003', weight: 1, up: true }])

    const intruder = client(d, 4, { token: 'wrong' })
    const err = await intruder.connect().then(() => null, (e: unknown) => e)
    assert.instance(err, DispatcherRefusedError)
    assert.is((err as DispatcherRefusedError).reason, 'BadToken')
    assert.ok(logs.some((r) => r.event === 'refused' && r.fields.reason === 'BadToken' && r.fields.nodeId === 4), 'refusal logged')
    assert.match(d.metricsText(), 'l7_dispatcher_refused_total{reason="BadToken"} 1')
    assert.equal(d.state().nodes.map((n) => n.id), [3], 'the intruder never joined')
    await a.close()
    await intruder.close()
  })
})

test('a node id already connected is refused; the first connection is untouched', async () => {
  await withDispatcher({}, async (d) => {
    const first = client(d, 1)
    await first.connect()
    const second = client(d, 1)
    const err = await second.connect().then(() => null, (e: unknown) => e)
    assert.instance(err, DispatcherRefusedError)
    assert.is((err as DispatcherRefusedError).reason, 'DuplicateNode')
    assert.is(await first.assign(77), 1)
    const outOfRange = client(d, 64)
    const err2 = await outOfRange.connect().then(() => null, (e: unknown) => e)
    assert.is((err2 as DispatcherRefusedError).reason, 'BadNodeId')
    await Promise.all([first.close(), second.close(), outOfRange.close()])
  })
})

test('a node that closes is marked down, every node is told, and its targets move', async () => {
  await withDispatcher({}, async (d) => {
    const n0 = client(d, 0)
    const n1 = client(d, 1)
    await n0.connect()
    await n1.connect()
    const downs: number[] = []
    n1.on('down', (id) => downs.push(id))
    // LARD: a new target goes to the least loaded node, ties to the lower id.
    assert.is(await n1.assign(12345), 0)
    assert.is(d.scheduler.load(0), 1)
    await n0.close()
    await waitFor('membership push', () => downs.length === 1)
    assert.equal(downs, [0])
    assert.equal(n1.members.find((m) => m.id === 0)?.up, false)
    const state = d.state()
    assert.equal(state.nodes.find((n) => n.id === 0), { id: 0, address: '127.0.0.1:9000', weight: 1, up: false, connected: false, load: 0, reportedLoad: -1 })
    assert.is(await n1.assign(12345), 1, 'the target is reassigned on its next request')
    await n1.close()
  })
})

test('a node that stops sending heartbeats is timed out and the others are told', async () => {
  await withDispatcher({ heartbeatIntervalMs: 20 }, async (d, logs) => {
    const quiet = client(d, 0, { sendHeartbeats: false })
    const live = client(d, 1)
    await quiet.connect()
    await live.connect()
    const downs: number[] = []
    live.on('down', (id) => downs.push(id))
    let lost: { code: number } | undefined
    quiet.on('disconnected', (info) => (lost = info))
    await waitFor('heartbeat timeout', () => downs.length > 0, 3000)
    assert.equal(downs, [0])
    await waitFor('the quiet node sees its connection closed', () => lost !== undefined)
    assert.is(lost!.code, 4006)
    assert.ok(logs.some((r) => r.event === 'disconnect' && r.fields.reason === 'HeartbeatTimeout'))
    assert.ok(d.state().nodes.find((n) => n.id === 1)?.up, 'the live node stays up')
    await quiet.close()
    await live.close()
  })
})

test('a bad frame closes that connection with an ERROR, and only that one', async () => {
  await withDispatcher({}, async (d) => {
    const good = client(d, 1)
    await good.connect()
    const bad = new WebSocket(`ws://127.0.0.1:${d.port}/control`)
    bad.binaryType = 'arraybuffer'
    const received: unknown[] = []
    const closed = new Promise<number>((resolve) => bad.addEventListener('close', (e) => resolve(e.code)))
    bad.addEventListener('message', (e) => received.push(decodeFrame(e.data as ArrayBuffer)))
    await new Promise((resolve) => bad.addEventListener('open', resolve))
    bad.send(encodeMessage({ type: 1, nodeId: 2, weight: 1, load: 0, address: 'x', token: TOKEN }))
    bad.send(new Uint8Array([0x4c, 0x37, VERSION, 3, 0xff, 0xff, 0, 0, 0, 0, 0, 0])) // ASSIGN claiming 65535 requests, none present
    assert.is(await closed, 4001)
    const error = received.find((m) => (m as { type: number }).type === 8) as { code: number; text: string }
    assert.is(error.code, 1)
    assert.match(error.text, 'must be')
    assert.is(await good.assign(5), 1, 'the other node is still served')
    assert.match(d.metricsText(), 'l7_dispatcher_frame_errors_total{reason="L7_PROTOCOL_BAD_LENGTH"} 1')
    // A text frame and an ASSIGN before HELLO are refused too.
    const early = new WebSocket(`ws://127.0.0.1:${d.port}/control`)
    const earlyClosed = new Promise<number>((resolve) => early.addEventListener('close', (e) => resolve(e.code)))
    await new Promise((resolve) => early.addEventListener('open', resolve))
    early.send(encodeMessage({ type: 7, load: 0, timeMs: 0 }))
    assert.is(await earlyClosed, 4005)
    await good.close()
  })
})

test('a node that does not read its replies is disconnected (backpressure)', async () => {
  await withDispatcher({ maxBufferedBytes: 64 * 1024 }, async (d, logs) => {
    const socket = await rawWebSocket(d.port)
    socket.write(maskedFrame(encodeMessage({ type: 1, nodeId: 5, weight: 1, load: 0, address: 'slow', token: TOKEN })))
    await waitFor('registration', () => d.state().nodes.some((n) => n.id === 5 && n.up))
    socket.pause() // never read again: replies pile up in the kernel, then in uWS
    const n = 8192
    const ids = new Uint32Array(n)
    const hashes = new Uint32Array(n).map((_, i) => i)
    const frame = maskedFrame(encodeAssignInto(new FrameBuffer(), 5, -1, ids, hashes, n, new Uint32Array(0), new Uint32Array(0), 0))
    for (let i = 0; i < 600 && !logs.some((r) => r.fields.reason === 'Backpressure'); i++) {
      if (!socket.write(frame)) await new Promise((resolve) => setTimeout(resolve, 2))
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await waitFor('backpressure disconnect', () => logs.some((r) => r.event === 'disconnect' && r.fields.reason === 'Backpressure'))
    await waitFor('node marked down', () => d.state().nodes.find((x) => x.id === 5)?.up === false)
    assert.match(d.metricsText(), 'l7_dispatcher_disconnects_total{reason="Backpressure"} 1')
    socket.destroy()
  })
})

test('a connection that never sends HELLO is closed after the registration timeout', async () => {
  await withDispatcher({ heartbeatIntervalMs: 20, helloTimeoutMs: 60 }, async (d, logs) => {
    const socket = await rawWebSocket(d.port)
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.resume()
    await closed
    assert.ok(logs.some((r) => r.event === 'refused' && r.fields.reason === 'HelloTimeout'))
    assert.match(d.metricsText(), 'l7_dispatcher_refused_total{reason="HelloTimeout"} 1')
    assert.equal(d.state().nodes, [])
  })
})

test('a batch larger than the scheduler batch capacity is decided in chunks, answers in order', async () => {
  await withDispatcher({ policy: 'wrr', params: { batchCapacity: 16 } }, async (d) => {
    const a = client(d, 0)
    const b = client(d, 1)
    await a.connect()
    await b.connect()
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => a.assign(i)))
    // Weighted round robin over two equal nodes alternates, across chunk boundaries too.
    assert.equal(answers.filter((n) => n === 0).length, 50)
    assert.ok(answers.every((n, i) => i === 0 || n !== answers[i - 1]))
    assert.is(d.state().decisions, 100)
    assert.is(d.state().batches, 1)
  })
})

test('property: mutated frames from a registered node never raise an internal error', async () => {
  await withDispatcher({}, async (d, logs) => {
    const good = client(d, 1)
    await good.connect()
    const n = 4
    const assign = encodeAssignInto(new FrameBuffer(), 2, 3, Uint32Array.of(1, 2, 3, 4), Uint32Array.of(5, 6, 7, 8), n, Uint32Array.of(9), Uint32Array.of(2), 1).slice()
    const done = encodeMessage({ type: 5, count: 2, node: Int32Array.of(1, 2), hash: Uint32Array.of(5, 6) })
    const heartbeat = encodeMessage({ type: 7, load: 1, timeMs: 0 })
    const mutated = fc.record({
      base: fc.constantFrom(assign, done, heartbeat),
      flips: fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      cut: fc.option(fc.nat(200)),
    })
    await fc.assert(
      fc.asyncProperty(mutated, async ({ base, flips, cut }) => {
        const bytes = base.slice()
        for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value
        const socket = await rawWebSocket(d.port)
        socket.resume()
        socket.write(maskedFrame(encodeMessage({ type: 1, nodeId: 2, weight: 1, load: 0, address: 'fuzz', token: TOKEN })))
        socket.write(maskedFrame(cut === null ? bytes : bytes.subarray(0, cut)))
        const closed = new Promise((resolve) => socket.once('close', resolve))
        socket.end()
        await closed
        await waitFor('node 2 gone', () => !d.state().nodes.some((x) => x.id === 2 && x.up))
      }),
      { numRuns: 40 },
    )
    assert.equal(logs.filter((r) => r.event === 'internal-error'), [])
    assert.is(await good.assign(3), 1, 'the good node is still served')
  })
})

test('/healthz, /metrics and /state', async () => {
  await withDispatcher({ policy: 'ds' }, async (d) => {
    const n0 = client(d, 0)
    const n1 = client(d, 1)
    await n0.connect()
    await n1.connect()
    const chosen = await Promise.all(Array.from({ length: 100 }, (_, i) => n0.assign(i, 7)))
    n1.reportLocal(3)
    await n1.assign(3)
    n0.done(0, chosen[0])
    await new Promise((resolve) => setTimeout(resolve, 20))
    const base = `http://127.0.0.1:${d.port}`
    const health = await httpGet(`${base}/healthz`)
    assert.is(health.status, 200)
    assert.is(health.body, 'ok\n')
    const unauthorized = await httpGet(`${base}/metrics`)
    assert.is(unauthorized.status, 401, '/metrics shows node addresses and loads: token only')
    assert.is((await httpGet(`${base}/state`)).status, 401)
    assert.is((await httpGet(`${base}/state`, { authorization: 'Bearer wrong' })).status, 401)
    const auth = { authorization: `Bearer ${TOKEN}` }
    const metrics = (await httpGet(`${base}/metrics`, auth)).body
    assert.match(metrics, 'l7_dispatcher_decisions_total{policy="ds",impl="wasm"} 101')
    assert.match(metrics, 'l7_dispatcher_batch_size_count 2')
    assert.match(metrics, 'l7_dispatcher_batch_size_bucket{le="128"} 2')
    assert.match(metrics, 'l7_dispatcher_nodes_up 2')
    assert.match(metrics, /l7_dispatcher_node_load\{node="0"\} \d+/)
    assert.match(metrics, 'l7_dispatcher_done_records_total 1')
    assert.match(metrics, 'l7_dispatcher_local_served_total 1')
    assert.match(metrics, '# TYPE l7_dispatcher_frame_errors_total counter')
    const state = JSON.parse((await httpGet(`${base}/state`, auth)).body) as ReturnType<Dispatcher['state']>
    assert.is(state.policy, 'ds')
    assert.is(state.nodes.length, 2)
    assert.is(state.nodes[0].reportedLoad, 7)
    // Node 0 reported load 7 before its batch of 100; node 1 asked once; one connection finished.
    assert.is(state.nodes[0].load + state.nodes[1].load, 7 + 100 + 1 - 1, 'loads follow assignments, dones and the reported load')
    assert.ok(state.table.targets >= 100 && state.table.capacity > 0)
    assert.ok(Array.isArray(state.hotTargets))
    assert.is((await httpGet(`${base}/nope`)).status, 404)
    await Promise.all([n0.close(), n1.close()])
  })
})

test('an admin listener on loopback serves /metrics and /state without the token; none unless asked', async () => {
  await withDispatcher({ adminPort: 0 }, async (d) => {
    assert.ok(d.adminPort !== null && d.adminPort !== d.port)
    const admin = `http://127.0.0.1:${d.adminPort}`
    assert.match((await httpGet(`${admin}/metrics`)).body, 'l7_dispatcher_nodes_up 0')
    assert.is(JSON.parse((await httpGet(`${admin}/state`)).body).policy, 'lard')
    assert.is((await httpGet(`${admin}/healthz`)).body, 'ok\n')
    assert.is((await httpGet(`${admin}/control`)).status, 404, 'no control channel on the admin listener')
  })
  await withDispatcher({}, async (d) => assert.is(d.adminPort, null))
})

test('a flood of refused connections: counted, logged once plus a summary per interval', async () => {
  await withDispatcher({ refusedLogIntervalMs: 100 }, async (d, logs) => {
    const intruders = Array.from({ length: 40 }, (_, i) => client(d, i % 8, { token: 'wrong' }))
    const errors = await Promise.all(intruders.map((c) => c.connect().then(() => null, (e: unknown) => e)))
    assert.ok(errors.every((e) => e instanceof DispatcherRefusedError))
    assert.match(d.metricsText(), 'l7_dispatcher_refused_total{reason="BadToken"} 40')
    assert.is(logs.filter((r) => r.event === 'refused').length, 1, 'one full line')
    await waitFor('the summary', () => logs.some((r) => r.event === 'refused-summary'), 1000)
    const summary = logs.find((r) => r.event === 'refused-summary')!
    assert.equal(summary.fields.suppressed, 39)
    assert.equal(summary.fields.reasons, { BadToken: 39 })
  })
})

test('unregistered connections are capped: upgrades beyond the cap get 503, a node registers once one goes', async () => {
  await withDispatcher({ maxUnregistered: 3, refusedLogIntervalMs: 60_000 }, async (d, logs) => {
    const held = await Promise.all([0, 1, 2].map(() => rawWebSocket(d.port)))
    try {
      const refused = await rawWebSocket(d.port).then(() => 'accepted', (e: Error) => e.message)
      assert.match(refused, '503')
      assert.match(d.metricsText(), 'l7_dispatcher_refused_total{reason="TooManyUnregistered"} 1')
      assert.is(logs.filter((r) => r.event === 'refused').length, 1)
      held[0].destroy()
      await waitFor('a slot frees', () => !d.metricsText().includes('l7_dispatcher_connections 3'), 1000)
      const node = client(d, 0)
      await node.connect()
      assert.is(await node.assign(5), 0)
      // A registered node no longer counts against the cap: two more unregistered ones fit.
      const more = await rawWebSocket(d.port)
      more.destroy()
    } finally {
      for (const s of held) s.destroy()
    }
  })
})

test.run()
