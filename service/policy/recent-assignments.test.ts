import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RecentAssignments } from './recent-assignments.js'
import { DEFAULT_PARAMS } from './types.js'
import { resolveParams } from './params.js'

test('reuseMs is off by default and checked', () => {
  assert.is(DEFAULT_PARAMS.reuseMs, 0)
  assert.is(resolveParams({ reuseMs: 2.5 }).reuseMs, 2.5)
  assert.throws(() => resolveParams({ reuseMs: -1 }), /reuseMs/)
  assert.throws(() => resolveParams({ reuseMs: Infinity }), /reuseMs/)
  assert.throws(() => resolveParams({ reuseMs: 120_000 }), /reuseMs/)
})

test('an answer is reused within its window and not at or after its end', () => {
  const recent = new RecentAssignments(5)
  assert.is(recent.lookup(7, 0), -1, 'nothing remembered: ask')
  recent.remember(7, 2, 100)
  assert.is(recent.lookup(7, 100), 2)
  assert.is(recent.lookup(7, 104.9), 2)
  assert.is(recent.lookup(8, 101), -1, 'another target')
  assert.is(recent.lookup(7, 105), -1, 'expired at now = remembered + window')
  assert.is(recent.lookup(7, 101), -1, 'an expired answer is gone, even if the clock were read earlier')
  // A new answer starts a new window; reusing does not extend it.
  recent.remember(7, 3, 200)
  for (let t = 200; t < 205; t++) assert.is(recent.lookup(7, t), 3)
  assert.is(recent.lookup(7, 205), -1)
})

test('eviction: a target in the same slot replaces the older answer; memory is bounded by the slots', () => {
  const recent = new RecentAssignments(1000, 16)
  recent.remember(1, 0, 0)
  recent.remember(1 + 16, 1, 1) // same slot
  assert.is(recent.lookup(1, 2), -1, 'evicted: ask again')
  assert.is(recent.lookup(17, 2), 1)
  assert.is(recent.evictions, 1)
  for (let h = 0; h < 1000; h++) recent.remember(h, h % 4, 10)
  assert.is(recent.size(10), 16, 'never more than the slots')
  assert.throws(() => new RecentAssignments(5, 12), /power of two/)
  assert.throws(() => new RecentAssignments(0), /above 0/)
})

test('forgetNode drops a failed node\'s answers only; clear drops everything', () => {
  const recent = new RecentAssignments(100, 64)
  recent.remember(1, 0, 0)
  recent.remember(2, 1, 0)
  recent.remember(3, 1, 0)
  recent.forgetNode(1)
  assert.is(recent.lookup(1, 1), 0)
  assert.is(recent.lookup(2, 1), -1)
  assert.is(recent.lookup(3, 1), -1)
  recent.clear()
  assert.is(recent.lookup(1, 1), -1)
  assert.is(recent.size(1), 0)
})

test.run()
