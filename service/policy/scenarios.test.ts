// Hand-worked scenarios of each rule in ALGORITHMS.md, run against both implementations.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createLocalTable, createScheduler, type PolicyName, type PolicyParams, type Scheduler } from './index.js'

const IMPLS = ['ts', 'wasm'] as const
const SECOND = 1_000_000

function scheduler(policy: PolicyName, impl: 'ts' | 'wasm', nodes: number, params: Partial<PolicyParams> = {}): Scheduler {
  const s = createScheduler(policy, params, impl)
  for (let id = 0; id < nodes; id++) s.addNode(id)
  return s
}

/** Decide one request; returns the chosen node. */
function ask(s: Scheduler, hash: number, timeUs: number, receiving = 0, reportedLoad = -1): number {
  s.requests.receiving[0] = receiving
  s.requests.hash[0] = hash
  s.requests.timeUs[0] = timeUs
  s.requests.reportedLoad[0] = reportedLoad
  s.decide(1)
  return s.requests.chosen[0]
}

function setLoads(s: Scheduler, loads: number[]): void {
  loads.forEach((load, id) => s.setLoad(id, load))
}

for (const impl of IMPLS) {
  test(`lard (${impl}): a new target goes to the least loaded node, ties to the lower id`, () => {
    const s = scheduler('lard', impl, 4)
    setLoads(s, [5, 3, 3, 9])
    assert.is(ask(s, 1, 0), 1)
    assert.is(s.load(1), 4, 'the decision adds one to the chosen node')
  })

  test(`lard (${impl}): a target moves only when its node is over T_high and another is under T_low, or at 2*T_high`, () => {
    const s = scheduler('lard', impl, 3) // T_low 25, T_high 65
    assert.is(ask(s, 7, 0), 0)
    setLoads(s, [66, 30, 40])
    assert.is(ask(s, 7, 1), 0, 'over T_high but no node under T_low: stays')
    setLoads(s, [65, 24, 40])
    assert.is(ask(s, 7, 2), 0, 'at T_high (not over) with a node under T_low: stays')
    setLoads(s, [129, 30, 40])
    assert.is(ask(s, 7, 3), 0, 'just under 2*T_high, no node under T_low: stays')
    setLoads(s, [66, 40, 24])
    assert.is(ask(s, 7, 4), 2, 'over T_high and node 2 under T_low: moves to the least loaded')
    assert.is(ask(s, 7, 5), 2, 'and stays there')
    setLoads(s, [100, 90, 130])
    assert.is(ask(s, 7, 6), 1, 'at 2*T_high: moves even with no node under T_low')
  })

  test(`lard (${impl}): targets of a node that leaves are reassigned on their next request`, () => {
    const s = scheduler('lard', impl, 3)
    setLoads(s, [5, 5, 0])
    assert.is(ask(s, 42, 0), 2)
    setLoads(s, [9, 8, 0])
    s.removeNode(2)
    assert.not.ok(s.isUp(2))
    assert.is(s.load(2), 0)
    assert.is(ask(s, 42, 1), 1, 'reassigned to the least loaded node up')
    s.addNode(2)
    setLoads(s, [9, 8, 0])
    assert.is(ask(s, 42, 2), 1, 'the returning node does not take it back')
  })

  test(`lard (${impl}): a full target table evicts the least recently used target, never the busy one`, () => {
    const s = scheduler('lard', impl, 4, { targetCapacity: 16 })
    setLoads(s, [5, 5, 5, 0])
    const hot = 123456
    assert.is(ask(s, hot, 0), 3)
    setLoads(s, [0, 0, 0, 0])
    for (let i = 1; i <= 1000; i++) {
      ask(s, 1_000_000 + i, 2 * i)
      assert.is(ask(s, hot, 2 * i + 1), 3, `the hot target kept its node after ${i} cold ones`)
      setLoads(s, [0, 0, 0, 0])
    }
    const stats = s.stats()
    assert.is(stats.targetCapacity, 16)
    assert.ok(stats.targets <= 16)
    assert.ok(stats.evictions >= 1001 - 16, `evictions ${stats.evictions}`)
  })

  test(`lard-r (${impl}): the server set grows when its least loaded member is overloaded and shrinks after K seconds`, () => {
    const s = scheduler('lard-r', impl, 4) // K = 20 s
    assert.is(ask(s, 9, 0), 0, 'first request: set {0}')
    setLoads(s, [70, 10, 30, 30])
    assert.is(ask(s, 9, 1 * SECOND), 1, 'member over T_high, node 1 under T_low: node 1 joins the set')
    setLoads(s, [40, 50, 30, 30])
    assert.is(ask(s, 9, 2 * SECOND), 0, 'least loaded member of {0,1}, though 2 and 3 carry less')
    setLoads(s, [50, 40, 30, 30])
    assert.is(ask(s, 9, 3 * SECOND), 1)
    setLoads(s, [50, 40, 30, 30])
    assert.is(ask(s, 9, 21 * SECOND), 1, 'unchanged for exactly K: nothing dropped yet')
    setLoads(s, [50, 40, 30, 30])
    assert.is(ask(s, 9, 21 * SECOND + 1), 1, 'unchanged for more than K: the most loaded member (0) is dropped')
    setLoads(s, [0, 60, 30, 30])
    assert.is(ask(s, 9, 22 * SECOND), 1, 'node 0 is no longer in the set')
  })

  test(`lard-cost (${impl}): a target stays on its node until MAX_LOAD, then moves wholesale`, () => {
    const s = scheduler('lard-cost', impl, 4) // MAX_LOAD 80
    setLoads(s, [10, 4, 4, 8])
    assert.is(ask(s, 5, 0), 1, 'new target: every node costs miss + bal; lower load, then lower id')
    setLoads(s, [10, 79, 4, 8])
    assert.is(ask(s, 5, 1), 1, 'owner under MAX_LOAD: hit beats miss')
    setLoads(s, [10, 80, 4, 8])
    assert.is(ask(s, 5, 2), 2, 'owner at MAX_LOAD: moves to the least loaded node')
    setLoads(s, [80, 90, 85, 81])
    assert.is(ask(s, 5, 3), 2, 'every node over MAX_LOAD: the owner keeps it (hit + inval < miss + inval)')
  })

  test(`ds (${impl}): a cold target follows get_node (lard-cost); reported loads are applied first`, () => {
    const s = scheduler('ds', impl, 4)
    setLoads(s, [10, 4, 4, 8])
    assert.is(ask(s, 5, 0), 1)
    assert.is(ask(s, 5, 1 * SECOND, 3, 77), 1, 'not hot: stays with its node')
    assert.is(s.load(3), 77, 'node 3 reported load 77')
    assert.is(ask(s, 5, 2 * SECOND, 1, 80), 2, 'node 1 reports MAX_LOAD: the target moves')
  })

  test(`ds (${impl}): a hot target's node set grows with its rate and shrinks when the rate falls`, () => {
    const s = scheduler('ds', impl, 8) // threshold 200 req/s, ewma over 1 s
    const hash = 77
    let t = 0
    const phase = (ratePerSec: number, seconds: number): Set<number> => {
      const gap = SECOND / ratePerSec
      const seen = new Set<number>()
      const total = ratePerSec * seconds
      for (let i = 0; i < total; i++) {
        t += gap
        const node = ask(s, hash, t, i % 8)
        if (i >= total - ratePerSec / 2) seen.add(node) // the last half second
        s.dones.node[0] = node
        s.done(1)
      }
      return seen
    }
    const cold = phase(50, 4)
    assert.is(cold.size, 1, '50 req/s: not hot, one node')
    assert.equal(s.hotTargets(5), [])
    const hot = phase(1000, 4)
    const [entry] = s.hotTargets(5)
    assert.ok(entry !== undefined && entry.hash === hash)
    assert.ok(Math.abs(entry.ratePerSec - 1000) < 30, `rate ${entry.ratePerSec}`)
    assert.is(entry.nodes.length, 5, '1000 req/s at 200 per node: ceil(1000/200) = 5 nodes')
    assert.equal([...hot].sort(), [...entry.nodes].sort(), 'requests spread over exactly the set')
    const warm = phase(300, 4)
    assert.is(s.hotTargets(5)[0].nodes.length, 2, '300 req/s: the set shrinks to 2')
    assert.is(warm.size, 2)
    const cooled = phase(50, 4)
    assert.equal(s.hotTargets(5), [], 'cooled: no longer hot')
    assert.is(cooled.size, 1, 'and back on one node')
  })

  test(`ds (${impl}): the set never exceeds the nodes up; locally served requests keep a target hot`, () => {
    const s = scheduler('ds', impl, 3, { rateEstimator: 'literal' })
    ask(s, 8, 0)
    ask(s, 8, 100) // 10,000 req/s: wants 50 nodes, has 3
    assert.is(s.hotTargets(1)[0].nodes.length, 3)
    s.observeLocal(1, 8, 10, 200) // 10 in 100 us: 100,000 req/s
    assert.ok(s.hotTargets(1)[0].ratePerSec >= 100_000)
  })

  test(`chbl (${impl}): a node never carries more than its bounded-load capacity`, () => {
    const s = createScheduler('chbl', { balanceFactorPercent: 125 }, impl)
    const weights = [1, 2, 1, 3, 1, 1]
    weights.forEach((w, id) => s.addNode(id, w))
    const inFlight: number[] = []
    let seed = 7
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
    for (let i = 0; i < 20_000; i++) {
      let total = 0
      for (let id = 0; id < weights.length; id++) total += s.load(id)
      const hash = random() < 0.5 ? 424242 : Math.floor(random() * 2 ** 32) // half on one hot key
      const node = ask(s, hash, i)
      const capacity = Math.ceil((1.25 * (total + 1) * weights[node]) / 9)
      assert.ok(s.load(node) <= capacity, `node ${node} load ${s.load(node)} > capacity ${capacity}`)
      inFlight.push(node)
      if (inFlight.length > 300 || random() < 0.3) {
        s.dones.node[0] = inFlight.splice(Math.floor(random() * inFlight.length), 1)[0]
        s.done(1)
      }
    }
  })

  test(`chbl (${impl}): with room everywhere, a key always lands on the same node`, () => {
    const s = scheduler('chbl', impl, 5)
    const first = ask(s, 99, 0)
    for (let i = 1; i < 50; i++) {
      s.dones.node[0] = first
      s.done(1)
      assert.is(ask(s, 99, i), first)
    }
  })

  test(`wrr (${impl}): LVS order for weights 3, 1, 2`, () => {
    const s = createScheduler('wrr', {}, impl)
    ;[3, 1, 2].forEach((w, id) => s.addNode(id, w))
    const picks = Array.from({ length: 12 }, (_, i) => ask(s, 0, i))
    assert.equal(picks, [0, 0, 2, 0, 1, 2, 0, 0, 2, 0, 1, 2])
  })

  test(`lc (${impl}): least load per unit of weight`, () => {
    const s = createScheduler('lc', {}, impl)
    s.addNode(0, 1)
    s.addNode(1, 2)
    setLoads(s, [1, 1])
    assert.is(ask(s, 0, 0), 1, '1/2 < 1/1')
    setLoads(s, [2, 4])
    assert.is(ask(s, 0, 1), 0, 'equal ratio: lower load')
  })

  test(`ds node half (${impl}): serves locally once assigned, hot and under MAX_LOAD; otherwise clears and asks`, () => {
    const table = createLocalTable({}, impl) // ewma, 200 req/s, MAX_LOAD 80
    assert.not.ok(table.check(5, 0, 0), 'never assigned: ask')
    let t = 0
    let firstLocal = -1
    for (let i = 0; i < 600; i++) {
      t += 1000 // 1,000 req/s
      if (table.check(5, t, 10)) {
        if (firstLocal < 0) firstLocal = i
      } else {
        assert.ok(firstLocal < 0, `request ${i} went back to the dispatcher while hot`)
        table.assign(5, t) // the dispatcher chose this node
      }
    }
    assert.ok(firstLocal > 0 && firstLocal < 400, `served locally from request ${firstLocal}`)
    assert.is(table.size(), 1)
    assert.not.ok(table.check(5, t + 1000, 80), 'at MAX_LOAD: ask')
    assert.is(table.size(), 0, 'and the assignment is cleared')
    table.assign(5, t + 2000)
    assert.ok(table.check(5, t + 3000, 0), 'reassigned and still hot')
    assert.not.ok(table.check(5, t + 3 * SECOND, 0), 'after a long pause the rate has fallen: ask')
    table.close()
  })

  test(`lard-cost (${impl}): Fig. 11 as written: ties to the lowest id, and the owner update choices`, () => {
    const byLoad = scheduler('lard-cost', impl, 3)
    const byId = scheduler('lard-cost', impl, 3, { costTies: 'id' })
    for (const s of [byLoad, byId]) setLoads(s, [90, 5, 2]) // node 0 over MAX_LOAD
    assert.is(ask(byLoad, 1, 0), 2, 'ours: a new target to the lower load')
    assert.is(ask(byId, 1, 0), 1, 'Fig. 11: the lowest id among equal costs')
    for (const s of [byLoad, byId]) setLoads(s, [90, 90, 90]) // everyone over: all cost miss + inval
    assert.is(ask(byId, 2, 0), 0, 'all overloaded: node 0 again')
    byLoad.close()
    byId.close()

    const never = scheduler('lard-cost', impl, 3, { ownerUpdate: 'never', costTies: 'id' })
    setLoads(never, [0, 0, 0])
    assert.is(ask(never, 5, 0), 0)
    setLoads(never, [3, 0, 0])
    assert.is(ask(never, 5, 1), 0, 'no node is ever recorded: every node costs a miss, node 0 wins while under MAX_LOAD')
    setLoads(never, [80, 0, 0])
    assert.is(ask(never, 5, 2), 1, 'node 0 at MAX_LOAD: node 1 fills next')
    setLoads(never, [0, 0, 0])
    assert.is(ask(never, 5, 3), 0, 'and the target was never moved to node 1: back to node 0')
    never.close()

    const onlyNew = scheduler('lard-cost', impl, 3, { ownerUpdate: 'new' })
    setLoads(onlyNew, [0, 1, 1])
    assert.is(ask(onlyNew, 6, 0), 0, 'a new target gets node 0 and keeps it')
    setLoads(onlyNew, [80, 1, 0])
    assert.is(ask(onlyNew, 6, 1), 2, 'its node at MAX_LOAD: served elsewhere')
    setLoads(onlyNew, [5, 0, 0])
    assert.is(ask(onlyNew, 6, 2), 0, 'but its node is still node 0 (a hit there)')
    onlyNew.close()
  })

  test(`ds (${impl}): hotAlloc 'receiving': a hot target goes to the receiving node, which joins its set`, () => {
    const s = scheduler('ds', impl, 4, { hotAlloc: 'receiving', hotThreshold: 100 })
    let t = 0
    let receiving = 0
    for (let i = 0; i < 400; i++) {
      t += 1000 // 1,000 req/s
      receiving = i % 4
      const chosen = ask(s, 9, t, receiving)
      if (i > 300) assert.is(chosen, receiving, `request ${i} served where it arrived`)
    }
    const hot = s.hotTargets(1)
    assert.equal(hot[0].nodes, [0, 1, 2, 3], 'every receiving node joined the set')
    s.close()
  })

  test(`ds node half (${impl}): localRate 'served' counts handed-off requests too`, () => {
    const arrivals = createLocalTable({ hotThreshold: 100 }, impl)
    const served = createLocalTable({ hotThreshold: 100, localRate: 'served' }, impl)
    // This node gets a target's requests handed off every 2 ms (500 req/s) and one arrival
    // of its own every 50 ms (20 req/s).
    let t = 0
    for (let i = 0; i < 1000; i++) {
      t += 2000
      for (const table of [arrivals, served]) table.assign(3, t, true)
    }
    t += 1000
    assert.not.ok(arrivals.check(3, t, 0), 'arrivals only: one arrival is not hot')
    assert.ok(served.check(3, t, 0), 'served: the handed-off requests made it hot')
    arrivals.close()
    served.close()
  })

  test(`ds node half (${impl}): the reference and Wasm agree on a random stream, both rate countings`, () => {
    for (const localRate of ['arrivals', 'served'] as const) {
      for (const rateEstimator of ['ewma', 'window', 'literal'] as const) {
        const params = { localRate, rateEstimator, hotThreshold: 50, maxLoad: 20, targetCapacity: 64 }
        const ts = createLocalTable(params, 'ts')
        const wasm = createLocalTable(params, 'wasm')
        let seed = 12345
        const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
        let t = 0
        for (let i = 0; i < 20_000; i++) {
          t += Math.floor(rand() * 3000)
          const hash = Math.floor(rand() * rand() * 100)
          if (rand() < 0.5) {
            const handedOff = rand() < 0.7
            ts.assign(hash, t, handedOff)
            wasm.assign(hash, t, handedOff)
          } else {
            const load = Math.floor(rand() * 30)
            assert.is(wasm.check(hash, t, load), ts.check(hash, t, load), `${localRate}/${rateEstimator} step ${i}`)
          }
          if (i % 1000 === 0) assert.is(wasm.size(), ts.size())
        }
        ts.close()
        wasm.close()
      }
    }
  })

  test(`ds node half (${impl}): the literal estimator, and a bounded table`, () => {
    const literal = createLocalTable({ rateEstimator: 'literal' }, impl)
    literal.assign(1, 0)
    assert.ok(literal.check(1, 1000, 0), '1 ms gap: 1,000 req/s')
    assert.not.ok(literal.check(1, 11_000, 0), '10 ms gap: 100 req/s')
    const small = createLocalTable({ targetCapacity: 16 }, impl)
    for (let h = 0; h < 1000; h++) small.assign(h, h)
    assert.ok(small.size() <= 16, `size ${small.size()}`)
  })
}

test.run()
