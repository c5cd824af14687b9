// `l7 bench scheduler`: nanoseconds per decision of every policy, Wasm core against the
// TypeScript reference measured in the same run, over batch sizes, cluster sizes and target
// counts, with Zipf-distributed target hashes. Each measured run writes the batch columns
// (bulk copies from a pre-generated stream), decides, and releases earlier decisions through
// done() so that loads stay at about IN_FLIGHT_PER_NODE per node, as on a busy cluster.
// Figures are the median of repeated runs of CPU time (process.cpuUsage: on a shared machine,
// time spent descheduled is not charged to a decision); wall time is reported beside it. A
// calibration loop (a multiply-add per iteration) measured in the same run says how fast
// this machine is at that moment, so figures from different machines can be compared.
import { InvalidArgumentError } from '../service/core/errors.js'
import { mulberry32 } from '../service/core/random.js'
import { createScheduler } from '../service/policy/index.js'
import { checkPolicy } from '../service/policy/params.js'
import { POLICY_NAMES, type PolicyName, type Scheduler } from '../service/policy/types.js'
import { rankHash, ZipfSampler } from '../service/policy/workload.js'

export type Impl = 'wasm' | 'ts'

export interface SchedulerBenchResult {
  policy: PolicyName
  impl: Impl
  batch: number
  nodes: number
  targets: number
  /** CPU time of the process per decision, ns (median of the runs). */
  nsPerDecision: number
  /** Wall-clock time per decision, ns (median of the runs). */
  wallNsPerDecision: number
}

export interface SchedulerBenchOptions {
  policies: PolicyName[]
  impls: Impl[]
  batches: number[]
  nodes: number[]
  targets: number[]
  /** Decisions per measured run (batch 1 runs a quarter of them). */
  decisions: number
  /** Measured runs per configuration; the median is reported. */
  repeats: number
  /** Zipf exponent of target popularity (SURGE and the seed: 1.0). */
  zipfAlpha: number
  /** Cluster-wide request rate the stream's timestamps follow, requests per second. */
  ratePerSec: number
}

export const FULL_OPTIONS: SchedulerBenchOptions = {
  policies: [...POLICY_NAMES],
  impls: ['wasm', 'ts'],
  batches: [1, 16, 256, 4096],
  nodes: [16, 64],
  targets: [2000, 1_000_000],
  decisions: 200_000,
  repeats: 5,
  zipfAlpha: 1,
  ratePerSec: 50_000,
}

export const QUICK_OPTIONS: SchedulerBenchOptions = {
  ...FULL_OPTIONS,
  batches: [1, 256],
  nodes: [16],
  targets: [2000, 100_000],
  decisions: 40_000,
  repeats: 3,
}

/** Connections held per node: done() releases the decisions made this many requests ago. */
const IN_FLIGHT_PER_NODE = 30

/** Batches up to this size are copied element by element. */
const SMALL_BATCH = 32

/** A pre-generated request stream, long enough for a warm-up and every measured run. */
interface Stream {
  receiving: Int32Array
  hash: Uint32Array
  timeUs: Float64Array
}

function makeStream(length: number, nodes: number, targets: number, options: SchedulerBenchOptions): Stream {
  const random = mulberry32(nodes * 1_000_003 + targets)
  const sampler = new ZipfSampler(targets, options.zipfAlpha, random)
  const stream: Stream = { receiving: new Int32Array(length), hash: new Uint32Array(length), timeUs: new Float64Array(length) }
  const gapUs = 1e6 / options.ratePerSec
  let timeUs = 0
  for (let i = 0; i < length; i++) {
    timeUs += -Math.log(1 - random()) * gapUs
    stream.receiving[i] = Math.floor(random() * nodes)
    stream.hash[i] = rankHash(sampler.next())
    stream.timeUs[i] = timeUs
  }
  return stream
}

interface Elapsed {
  cpuNs: number
  wallNs: number
}

/**
 * Decide stream[from, from + count) in batches of `batch`, releasing old decisions; returns
 * the time it took. `pending` holds the chosen nodes of the last batches, not yet done.
 */
function drive(s: Scheduler, stream: Stream, from: number, count: number, batch: number, pending: Int32Array[], state: { slot: number }): Elapsed {
  const { receiving, hash, timeUs, chosen } = s.requests
  const doneNode = s.dones.node
  const cpuStart = process.cpuUsage()
  const start = process.hrtime.bigint()
  for (let at = from; at < from + count; at += batch) {
    const n = Math.min(batch, from + count - at)
    const slot = pending[state.slot]
    const release = slot[0] >= 0
    if (n <= SMALL_BATCH) {
      // element by element: a subarray() view costs more than the copy for a few records
      for (let i = 0; i < n; i++) {
        receiving[i] = stream.receiving[at + i]
        hash[i] = stream.hash[at + i]
        timeUs[i] = stream.timeUs[at + i]
      }
      s.decide(n)
      if (release) {
        for (let i = 0; i < n; i++) doneNode[i] = slot[i]
        s.done(n)
      }
      for (let i = 0; i < n; i++) slot[i] = chosen[i]
    } else {
      receiving.set(stream.receiving.subarray(at, at + n))
      hash.set(stream.hash.subarray(at, at + n))
      timeUs.set(stream.timeUs.subarray(at, at + n))
      s.decide(n)
      if (release) {
        doneNode.set(slot.subarray(0, n))
        s.done(n)
      }
      slot.set(chosen.subarray(0, n))
    }
    state.slot = (state.slot + 1) % pending.length
  }
  const wallNs = Number(process.hrtime.bigint() - start)
  const cpu = process.cpuUsage(cpuStart)
  return { cpuNs: (cpu.user + cpu.system) * 1000, wallNs }
}

/** ns per iteration of a multiply-add loop: how fast this machine runs right now. */
export function calibrate(): number {
  const values = new Uint32Array(1024).map((_, i) => Math.imul(i, 2654435761))
  const samples: number[] = []
  let sink = 0
  for (let r = 0; r < 5; r++) {
    const start = process.cpuUsage()
    for (let i = 0; i < 5e6; i++) sink = (sink + Math.imul(values[i & 1023], 0x85ebca6b)) | 0
    const cpu = process.cpuUsage(start)
    samples.push(((cpu.user + cpu.system) * 1000) / 5e6)
  }
  if (sink === 42) samples.push(0) // keeps the loop from being optimised away
  return median(samples)
}

const round = (ns: number): number => Math.round(ns * 100) / 100

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function measure(policy: PolicyName, impl: Impl, batch: number, nodes: number, targets: number, stream: Stream, options: SchedulerBenchOptions): Elapsed {
  // the table holds every target at a load factor of at most 1/2
  const s = createScheduler(policy, { targetCapacity: 2 * targets, batchCapacity: Math.max(batch, 16) }, impl)
  try {
    for (let id = 0; id < nodes; id++) s.addNode(id)
    const decisions = batch === 1 ? Math.max(1, options.decisions >> 2) : options.decisions
    const slots = Math.max(1, Math.ceil((IN_FLIGHT_PER_NODE * nodes) / batch))
    const pending = Array.from({ length: slots }, () => new Int32Array(batch).fill(-1))
    const state = { slot: 0 }
    // warm-up: fills the target table, lets V8 optimise, and builds up the in-flight load
    drive(s, stream, 0, decisions, batch, pending, state)
    const cpu: number[] = []
    const wall: number[] = []
    for (let r = 0; r < options.repeats; r++) {
      const elapsed = drive(s, stream, decisions * (r + 1), decisions, batch, pending, state)
      cpu.push(elapsed.cpuNs / decisions)
      wall.push(elapsed.wallNs / decisions)
    }
    return { cpuNs: median(cpu), wallNs: median(wall) }
  } finally {
    s.close()
  }
}

export function checkOptions(options: SchedulerBenchOptions): void {
  for (const p of options.policies) checkPolicy(p)
  for (const impl of options.impls) if (impl !== 'wasm' && impl !== 'ts') throw new InvalidArgumentError(`impl must be wasm or ts, got ${impl}`)
  const positive = (name: string, values: number[], max: number): void => {
    if (values.length === 0) throw new InvalidArgumentError(`${name}: give at least one value`)
    for (const v of values) if (!Number.isInteger(v) || v < 1 || v > max) throw new InvalidArgumentError(`${name}: ${v} is not an integer from 1 to ${max}`)
  }
  positive('batch', options.batches, 1 << 16)
  positive('nodes', options.nodes, 64)
  positive('targets', options.targets, 1 << 23)
  positive('decisions', [options.decisions], 1e8)
  positive('repeats', [options.repeats], 1000)
}

/** Every configuration, calling onResult as each is measured. */
export function runSchedulerBench(options: SchedulerBenchOptions, onResult: (result: SchedulerBenchResult) => void = () => {}): SchedulerBenchResult[] {
  checkOptions(options)
  const results: SchedulerBenchResult[] = []
  for (const nodes of options.nodes) {
    for (const targets of options.targets) {
      const longest = Math.max(...options.batches.map((b) => (b === 1 ? Math.max(1, options.decisions >> 2) : options.decisions)))
      const stream = makeStream(longest * (options.repeats + 1), nodes, targets, options)
      for (const policy of options.policies) {
        for (const batch of options.batches) {
          for (const impl of options.impls) {
            const elapsed = measure(policy, impl, batch, nodes, targets, stream, options)
            const result = { policy, impl, batch, nodes, targets, nsPerDecision: round(elapsed.cpuNs), wallNsPerDecision: round(elapsed.wallNs) }
            results.push(result)
            onResult(result)
          }
        }
      }
    }
  }
  return results
}

export interface Ratio {
  policy: PolicyName
  batch: number
  nodes: number
  targets: number
  wasmNs: number
  tsNs: number
  /** wasm ns / ts ns: below 1, Wasm is faster. */
  wasmOverTs: number
}

export function ratios(results: SchedulerBenchResult[]): Ratio[] {
  const out: Ratio[] = []
  for (const w of results) {
    if (w.impl !== 'wasm') continue
    const t = results.find((r) => r.impl === 'ts' && r.policy === w.policy && r.batch === w.batch && r.nodes === w.nodes && r.targets === w.targets)
    if (t === undefined) continue
    out.push({
      policy: w.policy,
      batch: w.batch,
      nodes: w.nodes,
      targets: w.targets,
      wasmNs: w.nsPerDecision,
      tsNs: t.nsPerDecision,
      wasmOverTs: round((w.nsPerDecision / t.nsPerDecision) * 1000) / 1000,
    })
  }
  return out
}

/** The goal: batch 256, 16 nodes, 100k+ targets, lard/lard-r/ds: Wasm >= 2x faster and < 25 ns. */
export function goalLines(results: SchedulerBenchResult[]): string[] {
  const lines: string[] = []
  for (const r of ratios(results)) {
    if (r.batch !== 256 || r.nodes !== 16 || r.targets < 100_000 || !['lard', 'lard-r', 'ds'].includes(r.policy)) continue
    const met = r.wasmNs < 25 && r.tsNs / r.wasmNs >= 2
    lines.push(
      `goal ${r.policy} (batch 256, 16 nodes, ${r.targets} targets): wasm ${r.wasmNs.toFixed(1)} ns, ` +
        `${(r.tsNs / r.wasmNs).toFixed(2)}x faster than ts: ${met ? 'met' : 'NOT met'}`,
    )
  }
  return lines
}

export function formatTable(results: SchedulerBenchResult[]): string {
  const header = ['policy', 'batch', 'nodes', 'targets', 'wasm ns', 'ts ns', 'wasm/ts', 'speed-up']
  const rows = ratios(results).map((r) => [
    r.policy,
    String(r.batch),
    String(r.nodes),
    String(r.targets),
    r.wasmNs.toFixed(1),
    r.tsNs.toFixed(1),
    r.wasmOverTs.toFixed(3),
    `${(1 / r.wasmOverTs).toFixed(2)}x`,
  ])
  // configurations measured with a single implementation
  for (const r of results) {
    if (ratios(results).some((x) => x.policy === r.policy && x.batch === r.batch && x.nodes === r.nodes && x.targets === r.targets)) continue
    rows.push([r.policy, String(r.batch), String(r.nodes), String(r.targets), r.impl === 'wasm' ? r.nsPerDecision.toFixed(1) : '-', r.impl === 'ts' ? r.nsPerDecision.toFixed(1) : '-', '-', '-'])
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}
