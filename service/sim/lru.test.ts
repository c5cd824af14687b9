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

// The plain 4-ary heap the queue implements (scan the children in order, strict <): the
// order of simultaneous events, and so every simulation result, depends on this exact layout.
class ScanHeap {
  times: number[] = []
  payloads: number[] = []
  push(time: number, payload: number): void {
    let i = this.times.length
    while (i > 0) {
      const parent = (i - 1) >> 2
      if (this.times[parent] <= time) break
      this.times[i] = this.times[parent]
      this.payloads[i] = this.payloads[parent]
      i = parent
    }
    this.times[i] = time
    this.payloads[i] = payload
  }
  pop(): number {
    const top = this.payloads[0]
    const time = this.times.pop() as number
    const payload = this.payloads.pop() as number
    const n = this.times.length
    if (n === 0) return top
    let i = 0
    for (;;) {
      const first = 4 * i + 1
      if (first >= n) break
      let child = first
      for (let c = first + 1; c < first + 4 && c < n; c++) if (this.times[c] < this.times[child]) child = c
      if (this.times[child] >= time) break
      this.times[i] = this.times[child]
      this.payloads[i] = this.payloads[child]
      i = child
    }
    this.times[i] = time
    this.payloads[i] = payload
    return top
  }
}

test('event queue: simultaneous events pop in exactly the plain 4-ary heap\'s order', () => {
  const q = new EventQueue(4)
  const ref = new ScanHeap()
  const rng = new Random(11)
  let now = 0
  for (let step = 0; step < 200_000; step++) {
    // Mostly pushes early, then a steady state of pop-then-push with many equal times.
    if (ref.times.length > 0 && (step > 3000 || rng.next() < 0.3)) {
      now = q.peekTime()
      assert.is(now, ref.times[0])
      assert.is(q.pop(), ref.pop())
    }
    if (rng.next() < 0.5 || ref.times.length === 0) {
      const t = now + Math.floor(rng.next() * 50)
      q.push(t, step)
      ref.push(t, step)
    }
  }
  while (ref.times.length > 0) assert.is(q.pop(), ref.pop())
  assert.is(q.size, 0)
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
