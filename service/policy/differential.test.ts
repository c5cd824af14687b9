// Differential proof: for every policy, the Wasm core and the TypeScript reference choose the
// same node for every one of 1,000,000 requests (200,000 per stream: uniform, Zipf 0.8 and
// 1.0, a burst, and churn), with done records, reported loads, locally served requests (DS)
// and membership changes interleaved identically on both.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createScheduler, POLICY_NAMES, type PolicyName, type PolicyParams, type Scheduler } from './index.js'
import { mulberry32 } from '../core/random.js'
import { streamRequests, STREAM_KINDS, type StreamKind } from './workload.js'

const DECISIONS_PER_STREAM = 200_000
const NODES = 12

/** Parameters that push each stream through evictions, moves, shrinking and every estimator. */
const STREAM_SETUP: Record<StreamKind, { targets: number; params: Partial<PolicyParams> }> = {
  uniform: { targets: 50_000, params: { targetCapacity: 8192, rateEstimator: 'ewma' } },
  'zipf-0.8': { targets: 20_000, params: { targetCapacity: 16_384, rateEstimator: 'window', unitTimeUs: 250_000 } },
  'zipf-1.0': { targets: 5_000, params: { tLow: 5, tHigh: 20, maxLoad: 30, rateEstimator: 'literal' } },
  burst: { targets: 2_000, params: { rateEstimator: 'ewma', hotThreshold: 500 } },
  churn: { targets: 5_000, params: { targetCapacity: 4096, rateEstimator: 'window' } },
}

function compareState(ts: Scheduler, wasm: Scheduler, where: string): void {
  for (let id = 0; id < NODES; id++) {
    assert.is(wasm.isUp(id), ts.isUp(id), `${where}: node ${id} up`)
    assert.is(wasm.load(id), ts.load(id), `${where}: node ${id} load`)
  }
  assert.equal(wasm.stats(), ts.stats(), `${where}: stats`)
}

function runStream(policy: PolicyName, kind: StreamKind, seed: number, choices: Partial<PolicyParams> = {}, decisions = DECISIONS_PER_STREAM): void {
  const DECISIONS_PER_STREAM = decisions
  const setup = STREAM_SETUP[kind]
  const params: Partial<PolicyParams> = { shrinkSeconds: 2, batchCapacity: 512, ...setup.params, ...choices }
  const ts = createScheduler(policy, params, 'ts')
  const wasm = createScheduler(policy, params, 'wasm')
  const both = [ts, wasm]
  const random = mulberry32(seed * 7919 + 1)
  for (let id = 0; id < NODES; id++) for (const s of both) s.addNode(id, 1 + (id % 3))

  const requests = streamRequests({ kind, targets: setup.targets, nodes: NODES, ratePerSec: 20_000, seed }, DECISIONS_PER_STREAM)
  const inFlight: number[] = []
  let decided = 0
  let lastTimeUs = 0
  let midChecked = false
  for (let batch = 0; decided < DECISIONS_PER_STREAM; batch++) {
    const n = Math.min(1 + Math.floor(random() * (random() < 0.5 ? 8 : 512)), DECISIONS_PER_STREAM - decided)
    for (let i = 0; i < n; i++) {
      const r = requests.next().value!
      const reported = random() < 0.03 ? Math.floor(random() * 120) : -1
      for (const s of both) {
        s.requests.receiving[i] = r.receiving
        s.requests.hash[i] = r.hash
        s.requests.timeUs[i] = r.timeUs
        s.requests.reportedLoad[i] = reported
      }
      lastTimeUs = r.timeUs
    }
    ts.decide(n)
    wasm.decide(n)
    for (let i = 0; i < n; i++) {
      if (wasm.requests.chosen[i] !== ts.requests.chosen[i]) {
        assert.unreachable(
          `${policy}/${kind}: decision ${decided + i} (hash ${ts.requests.hash[i]}, receiving ${ts.requests.receiving[i]}): ` +
            `wasm chose ${wasm.requests.chosen[i]}, ts chose ${ts.requests.chosen[i]}`,
        )
      }
      inFlight.push(ts.requests.chosen[i])
    }
    decided += n

    // Release connections so that the in-flight total swings between about 50 and 1,200.
    const level = Math.floor(625 + 575 * Math.sin(batch / 30))
    let release = Math.max(0, inFlight.length - level) + Math.floor(random() * 4)
    release = Math.min(release, inFlight.length, params.batchCapacity!)
    for (let k = 0; k < release; k++) {
      const at = Math.floor(random() * inFlight.length)
      const node = inFlight[at]
      inFlight[at] = inFlight[inFlight.length - 1]
      inFlight.pop()
      for (const s of both) {
        s.dones.node[k] = node
        s.dones.hash[k] = 0
      }
    }
    ts.done(release)
    wasm.done(release)

    if (random() < 0.2) {
      const node = Math.floor(random() * NODES)
      const hash = ts.requests.hash[Math.floor(random() * n)]
      const count = 1 + Math.floor(random() * 20)
      for (const s of both) s.observeLocal(node, hash, count, lastTimeUs)
    }
    if (kind === 'churn' && batch % 40 === 39) {
      const id = Math.floor(random() * NODES)
      const weight = 1 + Math.floor(random() * 4)
      const up = ts.stats().nodesUp
      if (ts.isUp(id) && up > 2) for (const s of both) s.removeNode(id)
      else if (!ts.isUp(id)) for (const s of both) s.addNode(id, weight)
      else for (const s of both) s.setWeight(id, weight)
    }
    if (batch % 50 === 0) compareState(ts, wasm, `${policy}/${kind} batch ${batch}`)
    if (policy === 'ds' && !midChecked && decided >= DECISIONS_PER_STREAM / 2) {
      midChecked = true
      const hot = ts.hotTargets(20)
      assert.equal(wasm.hotTargets(20), hot, `${policy}/${kind}: hot targets mid-stream`)
      if (kind === 'burst' && choices.hotAlloc === undefined) assert.ok(hot.length > 0 && hot[0].nodes.length >= 8, 'the burst target is hot on a large set')
    }
  }
  compareState(ts, wasm, `${policy}/${kind} end`)
  if (setup.targets > (params.targetCapacity ?? Infinity) && ['lard', 'lard-r', 'lard-cost', 'ds'].includes(policy)) {
    assert.ok(ts.stats().evictions > 0, `${policy}/${kind}: the table was full and evicted`)
  }
  if (policy === 'ds') assert.equal(wasm.hotTargets(20), ts.hotTargets(20), `${policy}/${kind}: hot targets`)
  for (const s of both) s.close()
}

for (const policy of POLICY_NAMES) {
  test(`${policy}: Wasm and the reference choose the same node over 1,000,000 requests`, () => {
    STREAM_KINDS.forEach((kind, k) => runStream(policy, kind, 1000 + k))
  })
}

// The readings' choices (service/policy/README.md): every combination of the get_node() and
// alloc_new_node() choices, on the streams that exercise them (overload, a burst, churn).
const CHOICES: Array<Partial<PolicyParams>> = []
for (const costTies of ['load', 'id'] as const)
  for (const ownerUpdate of ['always', 'new', 'never'] as const)
    for (const hotAlloc of ['set', 'receiving'] as const) CHOICES.push({ costTies, ownerUpdate, hotAlloc })

for (const policy of ['lard-cost', 'ds'] as const) {
  test(`${policy}: Wasm and the reference agree under every reading's choices (${CHOICES.length} combinations)`, () => {
    CHOICES.forEach((choices, c) => {
      if (policy === 'lard-cost' && choices.hotAlloc === 'receiving') return // DS only
      for (const kind of ['zipf-1.0', 'burst', 'churn'] as const) {
        try {
          runStream(policy, kind, 2000 + c, choices, 30_000)
        } catch (error) {
          throw new Error(`${JSON.stringify(choices)}: ${(error as Error).message}`)
        }
      }
    })
  })
}

test.run()
