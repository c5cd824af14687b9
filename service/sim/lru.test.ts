import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LruCache } from './lru.js'
import { EventQueue } from './event-queue.js'
import { LatencyHistogram } from './histogram.js'
import { Random } from './random.js'

test('LRU: byte bound, least recently used evicted first, oversized files never cached', () => {
  const sizes = Float64Array.from([40, 30, 30, 200])
  const cache = new LruCache(100, sizes)
  assert.not.ok(cache.access(0))
  cache.insert(0)
  cache.insert(1)
  cache.insert(2) // 100 bytes: full
  assert.is(cache.bytesUsed, 100)
  assert.ok(cache.access(0)) // 0 becomes most recent; 1 is now the LRU
  cache.insert(3) // larger than the cache: ignored
  assert.not.ok(cache.has(3))
  cache.insert(3)
  sizes[3] = 30
  cache.insert(3) // evicts 1 (LRU) to fit
  assert.not.ok(cache.has(1))
  assert.ok(cache.has(0) && cache.has(2) && cache.has(3))
  assert.is(cache.bytesUsed, 100)
  cache.insert(1) // evicts 2 (now the LRU)
  assert.not.ok(cache.has(2))
  assert.ok(cache.bytesUsed <= 100)
})

test('event queue pops in time order, ties in a fixed order', () => {
  const q = new EventQueue(4)
  const rng = new Random(7)
  const times: number[] = []
  for (let i = 0; i < 5000; i++) {
    const t = Math.floor(rng.next() * 1000)
    times.push(t)
    q.push(t, i)
  }
  let last = -1
  const order: number[] = []
  while (q.size > 0) {
    const t = q.peekTime()
    const id = q.pop()
    assert.ok(t >= last)
    assert.is(times[id], t)
    last = t
    order.push(id)
  }
  assert.is(order.length, 5000)
  assert.is(q.peekTime(), Infinity)
})

test('histogram percentiles within 1.6%', () => {
  const h = new LatencyHistogram()
  for (let v = 1; v <= 10000; v++) h.record(v)
  assert.ok(Math.abs(h.quantile(0.99) - 9900) / 9900 < 0.016, String(h.quantile(0.99)))
  assert.ok(Math.abs(h.quantile(0.5) - 5000) / 5000 < 0.016)
  assert.is(h.quantile(0.001), 11) // exact below 64 us: the bucket [10, 11)
  assert.is(h.mean(), 5000.5)
})

test('PRNG: same seed, same stream; different seeds differ', () => {
  const a = new Random(42)
  const b = new Random(42)
  const c = new Random(43)
  const xs = Array.from({ length: 8 }, () => a.nextUint32())
  assert.equal(xs, Array.from({ length: 8 }, () => b.nextUint32()))
  assert.not.equal(xs, Array.from({ length: 8 }, () => c.nextUint32()))
})

test.run()
