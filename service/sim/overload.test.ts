// The overload model (connection limit, backlog, SYN drops with back-off), the client model
// (client machines' NICs) and the DNS fronts: off means the earlier model exactly; on, each
// acts as documented in service/sim/README.md.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createScheduler } from '../policy/index.js'
import { generateSurge } from '../surge/generate.js'
import { runClusterModel } from './model.js'
import { createStubScheduler } from './stub-scheduler.js'
import { DEFAULT_COSTS, DEFAULT_OVERLOAD, type SimConfig, type SimResult } from './types.js'
import { closedLoopFromSurge } from './workload.js'

const surge = closedLoopFromSurge(generateSurge({ seed: 3, files: 300, requests: 5000 }))
const meanBytes = (() => {
  // the mean response size as requested (files weighted by the sequence), headers included
  let bytes = 0
  let files = 0
  for (const o of surge.sequence) {
    for (let j = surge.objectStart[o]; j < surge.objectStart[o + 1]; j++) {
      bytes += surge.files.sizes[surge.objectFiles[j]] + DEFAULT_COSTS.headerBytes
      files++
    }
  }
  return bytes / files
})()

function config(over: Partial<SimConfig>): SimConfig {
  return { nodes: 4, users: 3000, cacheBytes: 64 << 20, durationSeconds: 10, warmupSeconds: 3, seed: 2, costs: DEFAULT_COSTS, prewarm: true, ...over }
}

function run(policy: 'lard-cost' | 'wrr', over: Partial<SimConfig>): SimResult {
  const scheduler = createScheduler(policy, {}, 'wasm')
  try {
    return runClusterModel(config(over), surge, { scheduler })
  } finally {
    scheduler.close()
  }
}

const TIMING = new Set(['wallSeconds', 'requestsPerWallSecond', 'requestsPerCpuSecond'])
function sameResults(a: SimResult, b: SimResult, what: string): void {
  for (const key of Object.keys(a) as Array<keyof SimResult>) {
    if (!TIMING.has(key)) assert.is(b[key], a[key], `${what}: ${key}`)
  }
}

test('off is the earlier model: limits that never bind and the explicit round-robin front change nothing', () => {
  const base = run('lard-cost', {})
  assert.ok(base.meanResponseMs > 500, 'the configuration is overloaded (queues build), so the limits would bind if they were low')
  const unbound = run('lard-cost', { overload: { ...DEFAULT_OVERLOAD, maxClients: 1e6, listenBacklog: 1e6 }, front: 'round-robin' })
  sameResults(base, unbound, 'non-binding overload model')
  assert.is(unbound.synDropsPerRequest, 0)
})

test('overload on: SYNs are dropped at a full backlog and retried after 3 s, 6 s ...; every connection still ends once', () => {
  const overload = { maxClients: 20, listenBacklog: 5, synRetransmitS: 3, synRetries: 2 }
  const r = run('lard-cost', { overload, drain: true })
  assert.ok(r.synDropsPerRequest > 0.1, `drops per request ${r.synDropsPerRequest}`)
  assert.ok(r.p99ResponseMs >= 3000, `the 3 s back-off shows in the tail: p99 ${r.p99ResponseMs} ms`)
  assert.ok(r.connectFailures > 0, 'after two retransmissions a connect gives up')
  assert.is(r.totalRequests, r.startedRequests, 'with drain every connection ends (served or given up)')
  // a generous limit drops nothing
  const generous = run('lard-cost', { overload: { ...overload, maxClients: 5000 } })
  assert.is(generous.synDropsPerRequest, 0)
})

test('client model: the client machines\' NICs bound the traffic the cluster can deliver', () => {
  // a long window: the files completed in a short one are biased towards small ones
  const clients = { machines: 2, processes: 8, nicMbps: 10 }
  const r = run('wrr', { clients, nodes: 8, users: 1000, durationSeconds: 100, warmupSeconds: 20 })
  const boundPerSecond = (clients.machines * clients.nicMbps * 1e6) / 8 / meanBytes
  assert.ok(r.throughput <= boundPerSecond * 1.05, `${r.throughput.toFixed(0)} conn/s over the NIC bound ${boundPerSecond.toFixed(0)}`)
  assert.ok(r.clientNicUtilization > 0.9, `NICs busy ${r.clientNicUtilization}`)
  const free = run('wrr', { nodes: 8, users: 1000, durationSeconds: 100, warmupSeconds: 20 })
  assert.ok(free.throughput > 1.5 * boundPerSecond, `without the client model the cluster goes faster (${free.throughput.toFixed(0)})`)
})

test('fronts: per-machine DNS stickiness sends every connection of one client machine to one node', () => {
  // one client machine: every connection reaches node 0, and WRR hands three quarters off
  const dns = run('wrr', { front: 'dns-machine', clients: { machines: 1, processes: 80, nicMbps: 0 } })
  assert.ok(Math.abs(dns.handoffFraction - 0.75) < 0.02, `handoff ${dns.handoffFraction}`)
  // per process (80 processes over 4 nodes): arrivals stay balanced
  const perProcess = run('wrr', { front: 'dns-process' })
  assert.ok(perProcess.loadImbalance < 1.1, `imbalance ${perProcess.loadImbalance}`)
  const stub = createStubScheduler((receiving) => receiving)
  const local = runClusterModel(config({ front: 'dns-machine', clients: { machines: 2, processes: 80, nicMbps: 0 } }), surge, { scheduler: stub })
  assert.ok(Math.abs(local.loadImbalance - 2) < 0.05, `two machines on four nodes serve on two: imbalance ${local.loadImbalance}`)
})

test.run()
