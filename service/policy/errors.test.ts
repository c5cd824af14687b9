// Bad input: every call a caller can get wrong raises InvalidArgumentError from the wrapper,
// with the same message for both implementations, and leaves the scheduler as it was.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidArgumentError } from '../core/errors.js'
import { createLocalTable, createScheduler, RequestHasher, type PolicyName, type Scheduler } from './index.js'

function throwsInvalid(fn: () => unknown, pattern: RegExp): void {
  try {
    fn()
  } catch (error) {
    assert.instance(error, InvalidArgumentError)
    assert.is((error as InvalidArgumentError).code, 'L7_INVALID_ARGUMENT')
    assert.match((error as Error).message, pattern)
    return
  }
  assert.unreachable(`expected an InvalidArgumentError matching ${pattern}`)
}

test('bad policy, implementation and parameters', () => {
  throwsInvalid(() => createScheduler('lardy' as PolicyName), /unknown policy "lardy"/)
  throwsInvalid(() => createScheduler('lard', {}, 'c' as 'ts'), /impl must be wasm or ts/)
  throwsInvalid(() => createScheduler('lard', { maxNodes: 65 }), /maxNodes must be an integer from 1 to 64/)
  throwsInvalid(() => createScheduler('lard', { tLow: 70 }), /tLow \(70\) must not exceed tHigh/)
  throwsInvalid(() => createScheduler('lard', { batchCapacity: 0 }), /batchCapacity/)
  throwsInvalid(() => createScheduler('ds', { hotThreshold: -1 }), /hotThreshold/)
  throwsInvalid(() => createScheduler('ds', { rateEstimator: 'guess' as 'ewma' }), /rateEstimator/)
  throwsInvalid(() => createScheduler('lard', { colour: 1 } as object), /unknown policy parameter "colour"/)
  throwsInvalid(() => createLocalTable({ targetCapacity: 2 ** 30 }), /targetCapacity/)
})

for (const impl of ['ts', 'wasm'] as const) {
  for (const policy of ['lard', 'ds', 'chbl', 'wrr'] as const) {
    const make = (): Scheduler => {
      const s = createScheduler(policy, { batchCapacity: 8 }, impl)
      s.addNode(0)
      s.addNode(1)
      return s
    }

    test(`${policy} (${impl}): bad batches are refused whole`, () => {
      const empty = createScheduler(policy, { batchCapacity: 8 }, impl)
      empty.decide(0)
      throwsInvalid(() => empty.decide(1), /no node is up/)
      const s = make()
      throwsInvalid(() => s.decide(9), /batch size must be an integer from 0 to 8, got 9/)
      throwsInvalid(() => s.decide(-1), /batch size/)
      throwsInvalid(() => s.decide(1.5), /batch size/)
      throwsInvalid(() => s.decide(Number.NaN), /batch size/)
      s.requests.receiving.fill(0)
      s.requests.timeUs.fill(0)
      s.requests.receiving[2] = 64
      throwsInvalid(() => s.decide(4), /request 2: receiving node 64 is outside 0\.\.63/)
      s.requests.receiving[2] = -3
      throwsInvalid(() => s.decide(4), /request 2: receiving node -3/)
      s.requests.receiving[2] = 0
      s.requests.timeUs[3] = Number.NaN
      throwsInvalid(() => s.decide(4), /request 3: time NaN/)
      s.requests.timeUs[3] = Infinity
      throwsInvalid(() => s.decide(4), /request 3: time Infinity/)
      assert.is(s.load(0) + s.load(1), 0, 'nothing was decided')
      s.dones.node[0] = 0
      s.dones.node[1] = 99
      s.setLoad(0, 5)
      throwsInvalid(() => s.done(2), /done 1: node 99 is outside/)
      throwsInvalid(() => s.done(9), /batch size/)
      assert.is(s.load(0), 5, 'no done was applied')
    })

    test(`${policy} (${impl}): bad node ids, weights, loads and closed schedulers`, () => {
      const s = make()
      throwsInvalid(() => s.addNode(64), /node id must be an integer from 0 to 63, got 64/)
      throwsInvalid(() => s.addNode(-1), /node id/)
      throwsInvalid(() => s.addNode(2, 0), /weight must be an integer from 1/)
      throwsInvalid(() => s.setWeight(1, 1.5), /weight/)
      throwsInvalid(() => s.removeNode(70), /node id/)
      throwsInvalid(() => s.isUp(Number.NaN), /node id/)
      throwsInvalid(() => s.load(64), /node id/)
      throwsInvalid(() => s.setLoad(0, -1), /load must be an integer/)
      throwsInvalid(() => s.observeLocal(0, -5, 1, 0), /hash must be an integer/)
      throwsInvalid(() => s.observeLocal(0, 5, 1, Number.NaN), /time must be a finite number/)
      s.removeNode(1)
      s.removeNode(1) // removing a node that is down is a no-op
      assert.is(s.stats().nodesUp, 1)
      s.close()
      throwsInvalid(() => s.decide(1), /closed/)
    })
  }

  test(`local table (${impl}): bad hashes, times and loads`, () => {
    const table = createLocalTable({}, impl)
    throwsInvalid(() => table.assign(2 ** 32, 0), /hash/)
    throwsInvalid(() => table.assign(1, Number.NaN), /time/)
    throwsInvalid(() => table.check(1, 0, -1), /load/)
    assert.is(table.size(), 0)
    table.close()
    throwsInvalid(() => table.check(1, 0, 0), /closed/)
  })
}

test('request hasher: bad ranges and lines longer than its buffer', () => {
  const hasher = new RequestHasher(32)
  const line = new TextEncoder().encode('GET /a HTTP/1.1')
  throwsInvalid(() => hasher.hashRequestLine(line, 3, 2), /bad byte range/)
  throwsInvalid(() => hasher.hashRequestLine(line, 0, line.length + 1), /bad byte range/)
  throwsInvalid(() => hasher.hashPath(new Uint8Array(40), 0, 40), /exceed the hasher's 32-byte buffer/)
  throwsInvalid(() => new RequestHasher(0), /capacity/)
})

test.run()
