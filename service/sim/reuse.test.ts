// The simulator's model of reuseMs (ours, off by default; service/policy/recent-assignments.ts):
// off, the model gives exactly the results it gave before the option existed; on, the nodes
// ask the dispatcher less.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createLocalTable, createScheduler } from '../policy/index.js'
import type { PolicyParams } from '../policy/types.js'
import { generateSurge } from '../surge/generate.js'
import { runClusterModel } from './model.js'
import { DEFAULT_COSTS, type SimResult } from './types.js'
import { closedLoopFromSurge } from './workload.js'

const surge = closedLoopFromSurge(generateSurge({ seed: 3, files: 300, requests: 5000 }))

// A low hot threshold, so that DS's local path acts too (3% of its requests).
const PARAMS: Partial<PolicyParams> = { hotThreshold: 5 }

function run(policy: 'ds' | 'lard', params: Partial<PolicyParams>): SimResult {
  const scheduler = createScheduler(policy, params, 'wasm')
  try {
    const config = { nodes: 4, users: 600, cacheBytes: 4 << 20, durationSeconds: 6, warmupSeconds: 2, seed: 2, costs: DEFAULT_COSTS, prewarm: true }
    return runClusterModel(config, surge, { scheduler, createLocalTable: policy === 'ds' ? () => createLocalTable(params, 'wasm') : undefined })
  } finally {
    scheduler.close()
  }
}

// Every field of these two runs as the model gave them before reuseMs existed (commit ff1b89c),
// timing fields left out.
const BEFORE: Record<'ds' | 'lard', Record<string, unknown>> = {
  "ds": {
    "policy": "ds",
    "impl": "wasm",
    "nodes": 4,
    "users": 600,
    "cacheMb": 4,
    "throughput": 813,
    "meanResponseMs": 184.94503139073885,
    "p50ResponseMs": 8.32,
    "p99ResponseMs": 2392.064,
    "hitRate": 0.8790487904879049,
    "localFraction": 0.03136531365313653,
    "handoffFraction": 0.45448954489544896,
    "dispatcherMsgsPerRequest": 2.9682246822468223,
    "meanBatch": 1,
    "loadImbalance": 1.1857318573185731,
    "cpuUtilization": 0.5607795833333333,
    "diskUtilization": 1,
    "linkUtilization": 0.47000830666666665,
    "dispatcherUtilization": 0.033307733333329266,
    "synDropsPerRequest": 0,
    "connectFailures": 0,
    "clientNicUtilization": 0,
    "measuredRequests": 4878,
    "totalRequests": 7983,
    "startedRequests": 8260,
    "simulatedSeconds": 8
  },
  "lard": {
    "policy": "lard",
    "impl": "wasm",
    "nodes": 4,
    "users": 600,
    "cacheMb": 4,
    "throughput": 1119.1666666666667,
    "meanResponseMs": 141.22529697920544,
    "p50ResponseMs": 68.608,
    "p99ResponseMs": 1032.192,
    "hitRate": 0.9377513030528667,
    "localFraction": 0,
    "handoffFraction": 0.7443037974683544,
    "dispatcherMsgsPerRequest": 2.9964259121370067,
    "meanBatch": 1,
    "loadImbalance": 1.228890543559196,
    "cpuUtilization": 0.8045539583333333,
    "diskUtilization": 0.6548108333333333,
    "linkUtilization": 0.6612406566666644,
    "dispatcherUtilization": 0.046515733333321686,
    "synDropsPerRequest": 0,
    "connectFailures": 0,
    "clientNicUtilization": 0,
    "measuredRequests": 6715,
    "totalRequests": 9690,
    "startedRequests": 9856,
    "simulatedSeconds": 8
  }
}

const TIMING = new Set(['wallSeconds', 'requestsPerWallSecond', 'requestsPerCpuSecond'])
const NEW_FIELDS = new Set(['decisionsPerRequest', 'reuseMs', 'reusedFraction'])

test('reuseMs = 0 (and unset) gives exactly the results from before the option, field by field', () => {
  for (const policy of ['ds', 'lard'] as const) {
    for (const params of [PARAMS, { ...PARAMS, reuseMs: 0 }]) {
      const r = run(policy, params) as unknown as Record<string, unknown>
      for (const [key, value] of Object.entries(BEFORE[policy])) assert.is(r[key], value, `${policy} ${JSON.stringify(params)}: ${key}`)
      for (const key of Object.keys(r)) assert.ok(key in BEFORE[policy] || TIMING.has(key) || NEW_FIELDS.has(key), key)
      assert.is(r.reuseMs, 0)
      assert.is(r.reusedFraction, 0)
    }
  }
})

test('reuseMs > 0: fewer dispatcher decisions and messages per request, more so with a longer window', () => {
  for (const policy of ['ds', 'lard'] as const) {
    let previous = run(policy, PARAMS)
    for (const reuseMs of [5, 100]) {
      const on = run(policy, { ...PARAMS, reuseMs })
      assert.is(on.reuseMs, reuseMs)
      assert.ok(on.reusedFraction > previous.reusedFraction, `${policy} ${reuseMs} ms: reused ${on.reusedFraction}`)
      assert.ok(on.decisionsPerRequest < previous.decisionsPerRequest, `${policy} ${reuseMs} ms: decisions ${on.decisionsPerRequest} vs ${previous.decisionsPerRequest}`)
      assert.ok(on.dispatcherMsgsPerRequest < previous.dispatcherMsgsPerRequest, `${policy} ${reuseMs} ms: messages`)
      assert.ok(on.measuredRequests > 0 && on.handoffFraction > 0)
      previous = on
    }
  }
})

test.run()
