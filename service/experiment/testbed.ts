// `l7 experiment --testbed`: the policies compared on the network-namespace test bed
// (service/testbed/) at saturation. For each policy one test bed (4 nodes, a dispatcher,
// 4 client machines, the HAProxy front); the same closed-loop SURGE users, split over the client
// machines (`l7 replay` in each, HTTP/1.0 through the front), at each user count of a sweep that
// goes past the knee. Per host and run: link utilisation (bytes on its eth0 against its shaped
// rate), the node's CPU (its process's /proc accounting) and its emulated disk's busy time, so a
// reader sees what bound each run. Then the simulator on the same configuration: links, disks,
// scale, users, caches, and the nodes' measured CPU per request.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as hdr from 'hdr-histogram-js'
import { InvalidArgumentError, L7Error } from '../core/errors.js'
import { processCpuSeconds } from '../core/child-process.js'
import { removeOnExit } from '../core/atomic-write.js'
import type { DiskModel } from '../node/disk.js'
import type { PolicyName } from '../policy/types.js'
import { initHistograms, mergeEncoded, summarizeMs } from '../replay/histograms.js'
import type { LatencySummary, ReplayResult } from '../replay/types.js'
import { closedLoopFromSurge, simulatePolicy, type ResolvedReading, type SimResult } from '../sim/index.js'
import { SEED_CLIENTS } from '../sim/types.js'
import { surgeParams } from '../sim/workload.js'
import { generateSurge, materialize } from '../surge/index.js'
import { stopReplays, writeClientWorkloads } from '../testbed/clients.js'
import { linkBytes, linkDrops, type Host } from '../testbed/network.js'
import { scaledResources, startTestbed, type RunningTestbed } from '../testbed/testbed.js'
import type { HostProcess } from '../testbed/process.js'
import { difference, nodeCounters, type NodeCounters } from './metrics.js'
import { simCostsFor } from './index.js'

export interface TestbedExperimentOptions {
  policies: PolicyName[]
  nodes: number
  clients: number
  /** Total users at each step of the sweep (split evenly over the client machines). */
  users: number[]
  durationS: number
  warmupS: number
  /** Each host's link before scaling, Mbit/s. */
  linkMbps: number
  scale: number
  cacheMb: number
  /** Emulated disk before scaling. */
  disk: DiskModel | null
  /** The reading of the seed: its parameters go to the dispatcher and the model, its model choices to the model. */
  reading?: ResolvedReading
  simulate: boolean
  onProgress?: (line: string) => void
}

export const DEFAULT_TESTBED_EXPERIMENT: Readonly<Omit<TestbedExperimentOptions, 'onProgress' | 'policies'>> = Object.freeze({
  nodes: 4,
  clients: 4,
  users: [50, 100, 200],
  durationS: 7,
  warmupS: 3,
  linkMbps: 100,
  scale: 10,
  cacheMb: 1,
  disk: { seekMs: 10, mbps: 20 },
  simulate: true,
})

export interface HostUse {
  host: string
  role: Host['role']
  /** Busy fraction of the link's shaped rate, the busier direction. */
  link: number
  /** Packets its shapers dropped (queue full) in the measured interval. */
  drops: number
  /** Node CPU, fraction of one core (nodes and the dispatcher). */
  cpu?: number
  /** Emulated disk busy fraction (nodes). */
  disk?: number
}

export interface TestbedRun {
  policy: PolicyName
  users: number
  /** Requests served per second, counted on the nodes over the measured window. */
  throughput: number
  /** The same from the clients (replay's responses over its measured time, drain included): a cross-check. */
  clientThroughput: number
  requests: number
  errors: number
  latencyMs: LatencySummary
  hitRate: number
  localFraction: number
  handoffFraction: number
  perNode: number[]
  nodeCpuUsPerRequest: number
  hosts: HostUse[]
  /** The busiest resource of the run: what bound it. */
  bottleneck: { host: string; resource: 'link' | 'disk' | 'cpu'; utilisation: number }
  /** The simulator on the same configuration (when asked). */
  sim?: SimResult
  /** Simulated minus measured, relative to measured. */
  simError?: { throughput: number; p50: number }
}

export interface TestbedExperimentReport {
  options: Omit<TestbedExperimentOptions, 'onProgress'>
  /** Link and disk after --scale. */
  scaled: { linkMbps: number; disk: DiskModel | null }
  runs: TestbedRun[]
  /** The test beds' name prefixes (namespaces `<prefix>n0`, ...), one per policy. */
  testbeds: string[]
  wallSeconds: number
  loadAverage: number[]
}

interface Snapshot {
  /** When links and CPU were read (quick reads, together). */
  atMs: number
  /** When the nodes' /metrics were read: the middle of the reads (a process per node, slow on a loaded machine). */
  metricsAtMs: number
  nodes: NodeCounters[]
  links: { tx: number; rx: number }[]
  drops: number[]
  cpu: number[]
  dispatcherCpu: number
}

/** A node's /metrics, read from inside its namespace (its admin port may listen on loopback only). */
async function nodeMetrics(bed: RunningTestbed, id: number): Promise<string> {
  const node = bed.nodes[id]
  const port = new URL(node.admin).port
  const answers = await bed.fetchFrom(node.host, [`http://127.0.0.1:${port}/metrics`, `${node.admin}/metrics`])
  const ok = answers.find((a) => a.status === 200)
  if (!ok) throw new L7Error('L7_TESTBED_METRICS', `node ${id}'s /metrics did not answer: ${answers.map((a) => a.error ?? a.status).join('; ')}`)
  return ok.body!.toString('utf8')
}

async function snapshot(bed: RunningTestbed): Promise<Snapshot> {
  const hosts = bed.network.hosts
  // Time, bytes and CPU first and together (quick reads); the nodes' /metrics take a process each.
  const atMs = performance.now()
  const [links, cpu, dispatcherCpu] = await Promise.all([
    Promise.all(hosts.map((h) => linkBytes(h))),
    Promise.all(bed.nodes.map((n) => processCpuSeconds(n.process.process.pid))),
    processCpuSeconds(bed.dispatcher.process?.process.pid),
  ])
  const metricsStart = performance.now()
  const [nodes, drops] = await Promise.all([
    Promise.all(bed.nodes.map(async (n) => nodeCounters(await nodeMetrics(bed, n.id)))),
    Promise.all(hosts.map((h) => (h.mbps === null ? 0 : linkDrops(bed.network, h)))),
  ])
  return { atMs, metricsAtMs: (metricsStart + performance.now()) / 2, nodes, links, drops, cpu, dispatcherCpu }
}

async function mergedLatency(results: ReplayResult[]): Promise<LatencySummary> {
  await initHistograms()
  const merged = hdr.decodeFromCompressedBase64(await mergeEncoded(results.map((r) => r.histograms.latencyUs)), 32, true)
  try {
    return summarizeMs(merged)
  } finally {
    merged.destroy()
  }
}

function sumHeader(results: ReplayResult[], key: string, field: 'requests' | 'bytes'): number {
  let total = 0
  for (const r of results) for (const g of r.perHeader) if (g.key === key) total += g[field]
  return total
}

/** Starts the users of one step on every client machine at once (`l7 replay`, closed loop, through the front). */
function startClients(bed: RunningTestbed, dirs: string[], users: number, options: TestbedExperimentOptions): HostProcess[] {
  const target = bed.front ? bed.front.url : bed.nodes.map((n) => n.url).join(',')
  const perClient = dirs.map((_, c) => Math.floor(users / dirs.length) + (c < users % dirs.length ? 1 : 0))
  return dirs.map((dir, c) =>
    bed.startOnClient(c, `replay on client ${c}`, [
      'replay', dir, '--mode', 'closed', '--users', String(Math.max(1, perClient[c])), '--http1.0', '--target', target,
      '--warmup', `${options.warmupS}s`, '--duration', `${options.durationS + 5}s`, '--timeout', '30s', '--json',
    ]),
  )
}

function describeRun(
  policy: PolicyName,
  users: number,
  bed: RunningTestbed,
  results: ReplayResult[],
  before: Snapshot,
  after: Snapshot,
  scaled: { linkMbps: number; disk: DiskModel | null },
  latencyMs: LatencySummary,
): TestbedRun {
  // Each figure over the window of its own reads: bytes and CPU between the quick reads, requests
  // between the /metrics reads (which can lag by seconds on a loaded machine).
  const seconds = (after.atMs - before.atMs) / 1000
  const metricSeconds = (after.metricsAtMs - before.metricsAtMs) / 1000
  const nodes = after.nodes.map((n, i) => difference(n, before.nodes[i]))
  const served = nodes.reduce((a, n) => a + n.requests, 0)
  const hits = nodes.reduce((a, n) => a + n.hits, 0)
  const misses = nodes.reduce((a, n) => a + n.misses, 0)
  // The disk's busy time, from the misses each node counted and the bytes clients received for
  // misses (X-L7-Cache: miss), shared out over the nodes by their misses.
  const missRequests = sumHeader(results, 'x-l7-cache=miss', 'requests')
  const missBytes = sumHeader(results, 'x-l7-cache=miss', 'bytes')
  const meanMissBytes = missRequests > 0 ? missBytes / missRequests : 0
  const linkBps = (scaled.linkMbps * 1e6) / 8
  const hosts: HostUse[] = bed.network.hosts.map((h, i) => {
    const tx = after.links[i].tx - before.links[i].tx
    const rx = after.links[i].rx - before.links[i].rx
    const use: HostUse = { host: h.netns.slice(bed.network.prefix.length), role: h.role, link: h.mbps === null ? 0 : Math.max(tx, rx) / (linkBps * seconds), drops: after.drops[i] - before.drops[i] }
    if (h.role === 'node') {
      const n = nodes[h.index]
      use.cpu = (after.cpu[h.index] - before.cpu[h.index]) / seconds
      if (scaled.disk) use.disk = (n.misses * (scaled.disk.seekMs / 1000 + meanMissBytes / (scaled.disk.mbps * 1e6))) / metricSeconds
    }
    if (h.role === 'dispatcher') use.cpu = (after.dispatcherCpu - before.dispatcherCpu) / seconds
    return use
  })
  let bottleneck: TestbedRun['bottleneck'] = { host: '-', resource: 'link', utilisation: 0 }
  for (const h of hosts) {
    for (const [resource, value] of [['link', h.link], ['disk', h.disk], ['cpu', h.cpu]] as const) {
      if (value !== undefined && value > bottleneck.utilisation) bottleneck = { host: h.host, resource, utilisation: value }
    }
  }
  const nodeCpu = after.cpu.reduce((a, c, i) => a + c - before.cpu[i], 0)
  const requests = results.reduce((a, r) => a + r.requests, 0)
  return {
    policy,
    users,
    // Server side, over exactly the measured window: every request is counted once, by the node that served it.
    throughput: served / metricSeconds,
    clientThroughput: results.reduce((a, r) => a + r.throughputRps, 0),
    requests,
    errors: results.reduce((a, r) => a + r.errors, 0),
    latencyMs,
    hitRate: hits + misses > 0 ? hits / (hits + misses) : 0,
    localFraction: served > 0 ? nodes.reduce((a, n) => a + n.local, 0) / served : 0,
    handoffFraction: served > 0 ? nodes.reduce((a, n) => a + n.handoffIn, 0) / served : 0,
    perNode: nodes.map((n) => n.requests),
    nodeCpuUsPerRequest: served > 0 ? (nodeCpu * 1e6) / ((served / metricSeconds) * seconds) : 0,
    hosts,
    bottleneck,
  }
}

export async function runTestbedExperiment(options: TestbedExperimentOptions): Promise<TestbedExperimentReport> {
  if (options.policies.length === 0) throw new InvalidArgumentError('--policies: no policy to run')
  if (options.users.length === 0) throw new InvalidArgumentError('--users: no user count to run')
  const start = performance.now()
  const progress = options.onProgress ?? (() => {})
  const workload = generateSurge(surgeParams())
  const scaledRes = scaledResources(options.linkMbps, options.disk, options.scale)
  const scaled = { linkMbps: scaledRes.mbps, disk: scaledRes.disk }
  const work = await mkdtemp(join(tmpdir(), 'l7-experiment-testbed-'))
  const forget = removeOnExit(work) // Ctrl-C: the test bed's own exit hook removes its namespaces
  const runs: TestbedRun[] = []
  const testbeds: string[] = []
  try {
    const docroot = join(work, 'www')
    progress(`writing the file set (${workload.files.length} files) and ${options.clients} client workloads to ${work}`)
    await materialize(workload.files, workload.params.seed, { docroot })
    const dirs = await writeClientWorkloads(join(work, 'clients'), workload, options.clients)
    for (const policy of options.policies) {
      progress(`${policy}: starting the test bed (${options.nodes} nodes, ${options.clients} client machines, links ${scaled.linkMbps} Mb/s)`)
      const bed = await startTestbed({
        nodes: options.nodes,
        clients: options.clients,
        policy,
        params: options.reading?.params,
        linkMbps: options.linkMbps,
        scale: options.scale,
        cacheMb: options.cacheMb,
        disk: options.disk,
        docroot,
      })
      testbeds.push(bed.info().prefix)
      try {
        for (const users of options.users) {
          progress(`${policy}: ${users} users, ${options.warmupS} s warm-up + ${options.durationS} s measured`)
          const clients = startClients(bed, dirs, users, options)
          // The counters are read when the replays' warm-up ends (they start within about a second)
          // and `duration` later; then the replays are stopped (a drain at saturation would take
          // seconds and dilute every figure).
          const at = (seconds: number) => new Promise<Snapshot>((resolve, reject) => setTimeout(() => snapshot(bed).then(resolve, reject), seconds * 1000))
          let before!: Snapshot
          let after!: Snapshot
          let results: ReplayResult[]
          try {
            before = await at(options.warmupS + 1)
            after = await at(options.durationS - (performance.now() - before.atMs) / 1000)
          } finally {
            results = await stopReplays(clients)
          }
          const run = describeRun(policy, users, bed, results, before, after, scaled, await mergedLatency(results))
          progress(
            `${policy}: ${users} users: ${run.throughput.toFixed(1)} req/s, p50 ${run.latencyMs.p50} ms, errors ${run.errors}, ` +
              `bound by ${run.bottleneck.resource} of ${run.bottleneck.host} at ${(100 * run.bottleneck.utilisation).toFixed(0)}%`,
          )
          runs.push(run)
        }
      } finally {
        await bed.close()
      }
    }
    if (options.simulate) {
      const simWorkload = closedLoopFromSurge(workload)
      for (const run of runs) {
        progress(`${run.policy}: ${run.users} users: simulating the same configuration`)
        run.sim = simulatePolicy(run.policy, simWorkload, {
          nodes: options.nodes,
          users: run.users,
          cacheMb: options.cacheMb,
          durationSeconds: options.durationS,
          warmupSeconds: options.warmupS,
          seed: 1,
          impl: 'wasm',
          // Warm caches, as the test bed's nodes are after the first step of the sweep.
          prewarm: true,
          costs: simCostsForTestbed(scaled, run),
          params: options.reading?.params,
          loadReports: options.reading?.model.loadReports,
          // HAProxy's round robin is the model's round-robin front; each client machine's link is its NIC.
          front: 'round-robin',
          clients: { machines: options.clients, processes: SEED_CLIENTS.processes, nicMbps: scaled.linkMbps },
        })
        run.simError = {
          throughput: run.throughput > 0 ? run.sim.throughput / run.throughput - 1 : 0,
          p50: run.latencyMs.p50 > 0 ? run.sim.p50ResponseMs / run.latencyMs.p50 - 1 : 0,
        }
      }
    }
    const { onProgress: _, ...rest } = options
    return { options: rest, scaled, runs, testbeds, wallSeconds: (performance.now() - start) / 1000, loadAverage: (await import('node:os')).loadavg() }
  } finally {
    await rm(work, { recursive: true, force: true })
    forget()
  }
}

/**
 * The model's costs for the test bed: the scaled disk, the scaled link, the nodes' measured CPU per
 * request. The relay sends a handed-off response over two node links (peer to receiving node, then
 * to the front), where the model's handoff (TCP handoff, as the seed) uses one: the model's link is
 * given the capacity the relay leaves, rate / (1 + handoff fraction measured).
 */
export function simCostsForTestbed(scaled: { linkMbps: number; disk: DiskModel | null }, run: Pick<TestbedRun, 'nodeCpuUsPerRequest' | 'handoffFraction'>) {
  return {
    ...simCostsFor({ disk: scaled.disk }, run.nodeCpuUsPerRequest),
    linkMbps: scaled.linkMbps / (1 + run.handoffFraction),
    networkLatencyUs: 100,
  }
}
