import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { TraceRecord } from '../trace/types.js'
import { RateClock, RecordFeed, TraceClock, sessionsFromRecords } from './schedule.js'

function record(timeMs: number, user = 0, url = '/'): TraceRecord {
  return { timeUs: timeMs * 1000, user, method: 'GET', url, size: -1, status: 0, line: 1 }
}

test('trace clock: absolute offsets, speed factor, gap clamp, out-of-order times', () => {
  const clock = new TraceClock(2, 1000)
  const offsets = [0, 100, 300, 10_300, 10_200, 10_400].map((ms) => clock.offsetMs(record(ms)))
  // gaps 100, 200, 10000 -> 1000 (clamped), -100 -> 0, 200; then halved by speed 2
  assert.equal(offsets, [0, 50, 150, 650, 650, 750])
})

test('rate clock: constant spacing, and Poisson gaps with the right mean from a fixed seed', () => {
  const constant = new RateClock(250, false, 1)
  assert.equal([0, 1, 2, 3].map(() => constant.offsetMs()), [0, 4, 8, 12])
  const poisson = new RateClock(1000, true, 7)
  let last = 0
  for (let i = 0; i < 20_000; i++) last = poisson.offsetMs()
  const meanGapMs = last / 19_999
  assert.ok(meanGapMs > 0.97 && meanGapMs < 1.03, `mean gap ${meanGapMs} ms, expected about 1 ms`)
  const again = new RateClock(1000, true, 7)
  const first = [again.offsetMs(), again.offsetMs(), again.offsetMs()]
  const repeat = new RateClock(1000, true, 7)
  assert.equal([repeat.offsetMs(), repeat.offsetMs(), repeat.offsetMs()], first)
})

test('record feed: loops over a pass kept in memory (the source is read once), stops without loop or records', async () => {
  let opens = 0
  const source = (): TraceRecord[] => {
    opens++
    return [record(0, 0, '/a'), record(1, 0, '/b')]
  }
  const feed = new RecordFeed(source, true)
  const urls: string[] = []
  while (urls.length < 7) {
    const next = feed.take()
    if (next) urls.push(next.url)
    else assert.ok(await feed.refill(3))
  }
  assert.equal(urls, ['/a', '/b', '/a', '/b', '/a', '/b', '/a'])
  assert.is(opens, 1)
  // once the pass is in memory, take() wraps around by itself: no refill (a promise) per pass
  const wrapped: string[] = []
  for (let i = 0; i < 5; i++) wrapped.push(feed.take()!.url)
  assert.equal(wrapped, ['/b', '/a', '/b', '/a', '/b'])

  function* once(): Generator<TraceRecord> {
    yield record(0)
  }
  const single = new RecordFeed(once(), false)
  assert.ok(await single.refill())
  assert.ok(single.take())
  assert.not.ok(await single.refill())

  const looped = new RecordFeed(once(), true)
  for (let i = 0; i < 3; i++) {
    assert.ok(await looped.refill())
    assert.is(looped.take()?.url, '/')
  }

  const empty = new RecordFeed(() => [], true)
  assert.not.ok(await empty.refill())
})

test('sessions: grouped by user, objects split at the gap, OFF times from the trace or fixed', async () => {
  const records = [record(0, 1, '/1a'), record(0, 2, '/2a'), record(200, 1, '/1b'), record(5200, 1, '/1c'), record(300, 2, '/2b')]
  const sessions = await sessionsFromRecords(records, { objectGapMs: 1000, speed: 1, maxGapMs: Infinity })
  assert.equal(sessions.length, 2)
  assert.equal(
    sessions[0].objects.map((object) => [object.records.map((r) => r.url), object.offMs]),
    [
      [['/1a', '/1b'], 5000],
      [['/1c'], 0],
    ],
  )
  assert.equal(sessions[1].objects.length, 1)
  const fixed = await sessionsFromRecords(records, { objectGapMs: 1000, offTimeMs: 50, speed: 1, maxGapMs: 3000 })
  assert.equal(
    fixed[0].objects.map((object) => object.offMs),
    [50, 50],
  )
  const clamped = await sessionsFromRecords(records, { objectGapMs: 1000, speed: 2, maxGapMs: 3000 })
  assert.is(clamped[0].objects[0].offMs, 1500)
})

test.run()
