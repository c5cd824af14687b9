// `l7 experiment`: the policies compared on the real system. For each policy: start a local
// cluster (dispatcher + N node processes) over the seed's SURGE file set, drive it with the
// same closed-loop SURGE users through the replay engine (HTTP/1.0, a connection per file, as
// SURGE's client), read the nodes' and the dispatcher's /metrics before and after the measured
// interval, stop the cluster. Then the simulator runs the same configuration, so the model
// can be checked against the real thing.

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeOnExit } from '../core/atomic-write.js'
import { InvalidArgumentError } from '../core/errors.js'
import { startCluster, type RunningCluster } from '../cluster/cluster.js'
import type { DiskModel } from '../node/disk.js'
import type { PolicyName, PolicyParams } from '../policy/types.js'
import { runReplay } from '../replay/run.js'
import { surgeWorkloadObjects } from '../replay/source.js'
import type { ReplayResult } from '../replay/types.js'
import { simulatePolicy, closedLoopFromSurge, type ResolvedReading, type SimResult } from '../sim/index.js'
import type { SimCosts } from '../sim/types.js'
import { surgeParams } from '../sim/workload.js'
import { generateSurge, materialize } from '../surge/index.js'
import { difference, dispatcherCounters, nodeCounters, type DispatcherCounters, type NodeCounters } from './metrics.js'

export interface ExperimentOptions {
  nodes: number
  policies: PolicyName[]
  users: number
  /** Measured seconds, after the warm-up. */
  durationS: number
  warmupS: number
  cacheMb: number
  /** Emulated disk for cache misses; null: none (every miss costs only a file read). */
  disk: DiskModel | null
  handoff: 'relay' | 'fd'
  params?: Partial<PolicyParams>
  /** The reading the policy parameters came from; its model choices (load reports, front, ordering) apply to the simulation and the ordering to the workload too. */
  reading?: ResolvedReading
  /** Also run the simulator on the same configuration. */
  simulate: boolean
  onProgress?: (line: string) => void
  /**
   * Stops the experiment (Ctrl-C): the policy being measured is dropped, the ones already
   * measured are returned (not simulated), and the report says `interrupted`.
   */
  signal?: AbortSignal
}

export const DEFAULT_EXPERIMENT: Readonly<Omit<ExperimentOptions, 'onProgress' | 'signal'>> = Object.freeze({
  nodes: 4,
  policies: ['ds', 'lard-cost', 'lard-r', 'wrr'] as PolicyName[],
  users: 200,
  durationS: 15,
  warmupS: 5,
  cacheMb: 1,
  disk: { seekMs: 10, mbps: 20 },
  handoff: 'relay' as const,
  simulate: true,
})

export interface PolicyOutcome {
  policy: PolicyName
  throughput: number
  requests: number
  errors: number
  meanMs: number
  p50Ms: number
  p99Ms: number
  hitRate: number
  localFraction: number
  /** Requests served on a reused dispatcher answer (reuseMs; 0 when off). */
  reusedFraction: number
  handoffFraction: number
  dispatcherMsgsPerRequest: number
  meanBatch: number
  /** Requests answered per node (measured interval). */
  perNode: number[]
  loadImbalance: number
  /** CPU seconds the node processes used per request served, microseconds. */
  nodeCpuUsPerRequest: number
  replay: ReplayResult
  nodes: NodeCounters[]
  dispatcher: DispatcherCounters
  /** The simulator on the same configuration (when asked). */
  sim?: SimResult
}

export interface ExperimentReport {
  options: Omit<ExperimentOptions, 'onProgress' | 'signal'>
  fileSetBytes: number
  /** The most requested file's share of all file requests of the SURGE sequence. */
  topFileShare: number
  /** Mean bytes per file request (sizes weighted by requests). */
  meanRequestBytes: number
  outcomes: PolicyOutcome[]
  wallSeconds: number
  /** Stopped early (Ctrl-C): `outcomes` holds the policies measured before; none is simulated. */
  interrupted?: { measured: number; of: number }
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url)
  if (!response.ok) throw new InvalidArgumentError(`${url} answered ${response.status}`)
  return response.text()
}

/** utime + stime of a process, seconds (Linux /proc; 0 elsewhere). */
async function processCpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks, USER_HZ = 100 on Linux
  } catch {
    return 0
  }
}

interface Snapshot {
  nodes: NodeCounters[]
  dispatcher: DispatcherCounters
  nodeCpuSeconds: number
}

async function snapshot(cluster: RunningCluster): Promise<Snapshot> {
  const nodes = await Promise.all(cluster.admin.map(async (a) => nodeCounters(await scrape(`${a}/metrics`))))
  const dispatcher = cluster.dispatcherAdmin ? dispatcherCounters(await scrape(`${cluster.dispatcherAdmin}/metrics`)) : dispatcherCounters('')
  let cpu = 0
  for (const child of cluster.children) if (child.role === 'node') cpu += await processCpuSeconds(child.process.pid)
  return { nodes, dispatcher, nodeCpuSeconds: cpu }
}

/** The model's costs for this machine's cluster: the emulated disk, loopback links, measured node CPU. */
export function simCostsFor(options: Pick<ExperimentOptions, 'disk'>, nodeCpuUsPerRequest: number): Partial<SimCosts> {
  const half = Math.max(1, nodeCpuUsPerRequest / 2)
  return {
    // The node's measured CPU per request, split between accept and close; sending is folded in.
    connSetupUs: half,
    connTeardownUs: half,
    parseUs: 0,
    transmitUsPer512B: 0,
    handoffSendUs: 0,
    handoffRecvUs: 0,
    nodeMessageUs: 0,
    nodeReplyUs: 0,
    networkLatencyUs: 30,
    linkMbps: 10_000,
    diskSeekUs: options.disk ? options.disk.seekMs * 1000 : 0,
    diskUsPer4KB: options.disk ? 4096 / options.disk.mbps : 0,
    diskExtraSeekUs: 0,
  }
}

export async function runExperiment(options: ExperimentOptions): Promise<ExperimentReport> {
  if (options.policies.length === 0) throw new InvalidArgumentError('no policy to run')
  if (!(options.durationS > 0) || !(options.warmupS >= 0)) throw new InvalidArgumentError('duration must be > 0 and warm-up >= 0')
  const start = performance.now()
  const progress = options.onProgress ?? (() => {})
  const params = surgeParams({ stationary: options.reading?.model.ordering === 'stationary', popularity: options.reading?.model.popularity })
  const workload = generateSurge(params)
  const docroot = await mkdtemp(join(tmpdir(), 'l7-experiment-'))
  // Removed in `finally` below, or at exit if the process is made to exit first (a second Ctrl-C).
  const forgetDocroot = removeOnExit(docroot)
  const outcomes: PolicyOutcome[] = []
  const aborted = () => options.signal?.aborted === true
  try {
    progress(`writing the file set (${workload.files.length} files) to ${docroot}`)
    const written = await materialize(workload.files, workload.params.seed, { docroot })
    for (const policy of options.policies) {
      if (aborted()) break
      progress(`${policy}: starting ${options.nodes} nodes and the dispatcher`)
      const cluster = await startCluster({
        nodes: options.nodes,
        policy,
        params: options.params,
        docroot,
        port: 0,
        cacheBytes: Math.round(options.cacheMb * (1 << 20)),
        disk: options.disk,
        handoff: options.handoff,
      }).catch(async (err: unknown) => {
        // A Ctrl-C from a terminal reaches the whole process group: the children starting now
        // die of it, and their exit may be seen before this process's own SIGINT handler has
        // run. Give that handler a moment; if it is an interruption, stop as one.
        await new Promise((resolve) => setTimeout(resolve, 100))
        if (aborted()) return null
        throw err
      })
      if (!cluster) break
      try {
        const replayBase = { targets: cluster.nodes, mode: 'closed' as const, users: options.users, http10: true, connections: Math.max(16, options.users) }
        // One replay run: the warm-up's requests are sent but not recorded, and the users go on
        // into the measured interval without restarting (a restart would add a burst of first
        // objects). The counters are read when the warm-up ends.
        progress(`${policy}: ${options.warmupS} s warm-up, then ${options.durationS} s measured with ${options.users} users`)
        const before = new Promise<Snapshot>((resolve, reject) => {
          setTimeout(() => snapshot(cluster).then(resolve, reject), options.warmupS * 1000)
        })
        before.catch(() => {}) // awaited below; keep an early failure from being unhandled
        const replay = await runReplay({
          ...replayBase,
          objects: surgeWorkloadObjects(workload, options.users, true),
          warmupS: options.warmupS,
          durationS: options.durationS,
          signal: options.signal,
        })
        // Interrupted: this policy's figures cover part of the interval (or none of it); drop them.
        if (aborted()) {
          before.catch(() => {})
          break
        }
        const after = await snapshot(cluster)
        outcomes.push(outcome(policy, replay, await before, after))
      } finally {
        await cluster.close()
      }
    }
    if (options.simulate && !aborted()) {
      const simWorkload = closedLoopFromSurge(workload)
      for (const o of outcomes) {
        progress(`${o.policy}: simulating the same configuration`)
        o.sim = simulatePolicy(o.policy, simWorkload, {
          nodes: options.nodes,
          users: options.users,
          cacheMb: options.cacheMb,
          durationSeconds: options.durationS,
          warmupSeconds: options.warmupS,
          seed: 1,
          impl: 'wasm',
          prewarm: false,
          costs: simCostsFor(options, o.nodeCpuUsPerRequest),
          params: options.params,
          loadReports: options.reading?.model.loadReports,
          front: options.reading?.model.front,
        })
      }
    }
    const totalRefs = workload.refs.reduce((a, r) => a + r, 0)
    return {
      options: { ...options, onProgress: undefined, signal: undefined } as Omit<ExperimentOptions, 'onProgress' | 'signal'>,
      fileSetBytes: written.bytes,
      topFileShare: totalRefs > 0 ? Math.max(...workload.refs) / totalRefs : 0,
      meanRequestBytes: totalRefs > 0 ? workload.refs.reduce((a, r, i) => a + r * workload.files[i].size, 0) / totalRefs : 0,
      outcomes,
      wallSeconds: (performance.now() - start) / 1000,
      ...(aborted() ? { interrupted: { measured: outcomes.length, of: options.policies.length } } : {}),
    }
  } finally {
    await rm(docroot, { recursive: true, force: true })
    forgetDocroot()
  }
}

function outcome(policy: PolicyName, replay: ReplayResult, before: Snapshot, after: Snapshot): PolicyOutcome {
  const nodes = after.nodes.map((n, i) => difference(n, before.nodes[i]))
  const dispatcher = difference(after.dispatcher, before.dispatcher)
  const served = nodes.reduce((a, n) => a + n.requests, 0)
  const hits = nodes.reduce((a, n) => a + n.hits, 0)
  const misses = nodes.reduce((a, n) => a + n.misses, 0)
  const local = nodes.reduce((a, n) => a + n.local, 0)
  const reused = nodes.reduce((a, n) => a + n.reused, 0)
  const handoffs = nodes.reduce((a, n) => a + n.handoffIn, 0)
  const perNode = nodes.map((n) => n.requests)
  const mean = served / Math.max(1, perNode.length)
  // Frames both ways: every ASSIGN is answered by one REPLY; DONE frames get no answer.
  const messages = 2 * dispatcher.assignFrames + dispatcher.doneFrames
  return {
    policy,
    throughput: replay.throughputRps,
    requests: replay.requests,
    errors: replay.errors,
    meanMs: replay.latencyMs.mean,
    p50Ms: replay.latencyMs.p50,
    p99Ms: replay.latencyMs.p99,
    hitRate: hits + misses > 0 ? hits / (hits + misses) : 0,
    localFraction: served > 0 ? local / served : 0,
    reusedFraction: served > 0 ? reused / served : 0,
    handoffFraction: served > 0 ? handoffs / served : 0,
    dispatcherMsgsPerRequest: served > 0 ? messages / served : 0,
    meanBatch: dispatcher.batches > 0 ? dispatcher.decisions / dispatcher.batches : 0,
    perNode,
    loadImbalance: mean > 0 ? Math.max(...perNode) / mean : 0,
    nodeCpuUsPerRequest: served > 0 ? ((after.nodeCpuSeconds - before.nodeCpuSeconds) * 1e6) / served : 0,
    replay,
    nodes,
    dispatcher,
  }
}
