// What clients saw during a fault, from replay timelines: seconds aligned on the fault across
// client machines that started at different times, failures before and after, the last failure.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ReplayResult } from '../replay/types.js'
import { alignTimelines, runFaults, summarizeFault } from './faults.js'
import { listNamespaces, testbedUnavailable } from './network.js'

function replay(startedAtMs: number, points: [number, number][]): ReplayResult {
  return { startedAt: new Date(startedAtMs).toISOString(), timeline: points.map(([responses, errors], second) => ({ second, responses, errors, sendLagMaxMs: 0 })) } as unknown as ReplayResult
}

test('timelines of two clients line up on the fault; failures after it and the last one are counted', () => {
  const fault = 1_000_000
  // Client a started 3 s before the fault, client b 2 s before (its second 0 is the fault's -2).
  const a = replay(fault - 3000, [[10, 0], [10, 0], [10, 1], [4, 0], [3, 2], [6, 0], [9, 0], [9, 0]])
  const b = replay(fault - 2000, [[5, 0], [5, 0], [2, 1], [2, 0], [4, 0], [5, 0], [5, 0]])
  const timeline = alignTimelines([a, b], fault)
  assert.equal(timeline.map((p) => p.second), [-3, -2, -1, 0, 1, 2, 3, 4])
  assert.equal(timeline.find((p) => p.second === -1), { second: -1, responses: 15, errors: 1 })
  assert.equal(timeline.find((p) => p.second === 0), { second: 0, responses: 6, errors: 1 })
  const o = summarizeFault('node-kill', timeline)
  assert.is(o.failedBefore, 1)
  assert.is(o.failedAfter, 3) // seconds 0 and 1; second 4 (the last, partial) is dropped
  assert.is(o.recoverS, 2) // the last failure was in second 1
  assert.is(o.beforeRps, (10 + 15 + 15) / 3)
})

test('no failure after the fault: recovered at once', () => {
  const o = summarizeFault('dispatcher-kill', [
    { second: -1, responses: 10, errors: 0 },
    { second: 0, responses: 10, errors: 0 },
    { second: 1, responses: 10, errors: 0 },
    { second: 2, responses: 3, errors: 0 },
  ])
  assert.is(o.recoverS, 0)
  assert.is(o.failedAfter, 0)
  assert.is(o.afterRps, 10)
})

const unavailable = testbedUnavailable()
if (unavailable) console.log(`faults spec on a real test bed skipped: ${unavailable}`)
else
  test('a node killed under load on a 2-node test bed: clients go on being served, nothing left after', async () => {
    const [o] = await runFaults({
      faults: ['node-kill'], policy: 'wrr', nodes: 2, clients: 1, users: 6, faultAtS: 2, afterS: 3,
      linkMbps: 100, scale: 10, cacheMb: 1, disk: null, timeoutS: 2,
    })
    assert.is(o.fault, 'node-kill')
    assert.ok(o.timeline.some((p) => p.second < 0) && o.timeline.some((p) => p.second >= 1), JSON.stringify(o.timeline))
    assert.ok(o.beforeRps > 0)
    // After the kill the front and the relay send everything to node 0: responses keep coming.
    assert.ok(o.timeline.filter((p) => p.second >= 1).some((p) => p.responses > 0), JSON.stringify(o.timeline))
    assert.ok(o.testbed)
    assert.equal(listNamespaces(o.testbed), [], 'namespaces left behind')
  })

test.run()
