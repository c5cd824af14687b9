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

test('a dispatcher that goes silent is dropped after 3 heartbeat intervals; a bad frame from it too', async () => {
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

test.run()
