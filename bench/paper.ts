// `l7 bench paper`: the seed's Figures 14 and 15 (connections/s and response time against
// SURGE users, one curve per node count) reproduced with the cluster model, for DS and the
// seed's LARD variant (lard-cost) plus basic LARD, LARD/R, WRR and CHBL, with per-node caches
// that hold the seed's 50 MB file set and with caches smaller than it; every point is run with
// five model seeds and reported as the seed's method does (the mean without the largest and
// the smallest). Then the readings table: for every reading of the seed (service/sim/readings.ts),
// DS against lard-cost at 4 and 16 nodes x 7000 users, without and with the overload and client
// models. Then sensitivity sweeps of the seed's parameters (one seed). Writes docs/results/
// (generated): paper.md, paper.json and SVG plots. Deterministic for its seeds.

import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Impl } from '../service/policy/index.js'
import type { PolicyName, PolicyParams } from '../service/policy/types.js'
import { renderSvg, type VegaLiteSpec } from '../service/report/plot.js'
import { formatResultsMarkdown, resolveReading, simulatePolicy, surgeWorkload, READING_NAMES, type ModelChoices, type SimResult } from '../service/sim/index.js'
import { findReading } from '../service/sim/readings.js'
import { DEFAULT_COSTS, DEFAULT_OVERLOAD, SEED_CLIENTS, type ClosedLoopWorkload, type LoadReports } from '../service/sim/types.js'

export interface PaperOptions {
  nodes: number[]
  users: number[]
  policies: PolicyName[]
  /** Per-node cache sizes, MiB: the first holds the seed's file set, the others are smaller. */
  cachesMb: number[]
  durationSeconds: number
  warmupSeconds: number
  /** Model seeds per point: the mean without the largest and smallest (the seed paper's method, 5 runs). */
  seeds: number[]
  /** The reading the sweep and the sensitivity cases use. */
  reading: string
  /** Readings in the readings table ([]: no table). */
  readings: string[]
  impl: Impl
  sensitivity: boolean
  outDir: string
  onProgress?: (done: number, total: number, label: string) => void
}

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const DEFAULT_PAPER_OPTIONS: Readonly<Omit<PaperOptions, 'onProgress'>> = Object.freeze({
  nodes: [4, 8, 12, 16],
  users: [2000, 3500, 5000, 7000],
  policies: ['ds', 'lard-cost', 'lard', 'lard-r', 'wrr', 'chbl'] as PolicyName[],
  cachesMb: [64, 16],
  durationSeconds: 20,
  warmupSeconds: 10,
  seeds: [1, 2, 3, 4, 5],
  reading: 'stationary',
  readings: [...READING_NAMES],
  impl: 'wasm' as Impl,
  sensitivity: true,
  outDir: join(PACKAGE_ROOT, 'docs', 'results'),
})

/** A point: the trimmed mean over the seeds of every numeric field, and the throughput's range. */
export interface PaperPoint extends SimResult {
  seeds: number
  throughputMin: number
  throughputMax: number
}

/** One reading, with or without the overload and client models: DS and lard-cost at 4 and 16 nodes x 7000 users. */
export interface ReadingRun {
  models: 'off' | 'overload+clients'
  nodes4: { ds: PaperPoint; lardCost: PaperPoint; ratio: number }
  nodes16: { ds: PaperPoint; lardCost: PaperPoint; ratio: number }
  /** Throughput at 16 nodes over 4 nodes. */
  scale: { ds: number; lardCost: number }
}

export interface ReadingRow {
  name: string
  summary: string
  /** The policy parameters the reading sets (the rest are the defaults), and its model choices. */
  params: Partial<PolicyParams>
  model: ModelChoices
  runs: ReadingRun[]
  /** Is it DS or its load reports? 4 nodes x 7000 users, models off, both policies given the same reports. */
  sameReports: Array<{ loadReports: LoadReports; ds: PaperPoint; lardCost: PaperPoint; ratio: number }>
}

export interface SensitivityRow {
  parameter: string
  value: string
  nodes: number
  users: number
  ds: SimResult
  lardCost: SimResult
}

export interface PaperReport {
  results: PaperPoint[]
  readings: ReadingRow[]
  sensitivity: SensitivityRow[]
  files: string[]
  wallSeconds: number
}

/** The sensitivity cases: one seed choice changed at a time, everything else as in the sweep. */
interface SensitivityCase {
  parameter: string
  value: string
  params: Partial<PolicyParams>
  loadReports?: LoadReports
}

function sensitivityCases(): SensitivityCase[] {
  const cases: SensitivityCase[] = []
  for (const t of [25, 50, 100, 200, 400]) cases.push({ parameter: 'hotThreshold (req/s)', value: String(t), params: { hotThreshold: t } })
  for (const m of [20, 40, 80, 160]) cases.push({ parameter: 'maxLoad', value: String(m), params: { maxLoad: m } })
  for (const u of [100_000, 1_000_000, 10_000_000]) cases.push({ parameter: 'unitTime (ewma)', value: `${u / 1e6} s`, params: { unitTimeUs: u } })
  for (const e of ['ewma', 'window', 'literal'] as const) cases.push({ parameter: 'rateEstimator', value: e, params: { rateEstimator: e } })
  for (const e of ['window', 'literal'] as const)
    cases.push({ parameter: 'rateEstimator + hotThreshold 50', value: e, params: { rateEstimator: e, hotThreshold: 50 } })
  // Is it DS's decisions or its piggybacked load reports? Give both policies the same reports.
  cases.push({ parameter: 'load reports (both policies)', value: 'none', params: {}, loadReports: 'none' })
  cases.push({ parameter: 'load reports (both policies)', value: 'all', params: {}, loadReports: 'all' })
  return cases
}

/** The seed's method: the mean of the values without the largest and the smallest (with 3 or more). */
export function trimmedMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const kept = sorted.length >= 3 ? sorted.slice(1, -1) : sorted
  return kept.reduce((a, b) => a + b, 0) / kept.length
}

/** Runs over seeds folded into one point (numeric fields: trimmed means). */
export function aggregate(runs: SimResult[]): PaperPoint {
  const point = { ...runs[0] } as unknown as Record<string, unknown>
  for (const [key, value] of Object.entries(runs[0])) {
    if (typeof value === 'number') point[key] = trimmedMean(runs.map((r) => (r as unknown as Record<string, number>)[key]))
  }
  const t = runs.map((r) => r.throughput)
  return { ...(point as unknown as SimResult), seeds: runs.length, throughputMin: Math.min(...t), throughputMax: Math.max(...t) }
}

interface RunSpec {
  policy: PolicyName
  nodes: number
  users: number
  cacheMb: number
  params: Partial<PolicyParams>
  model: ModelChoices
  overloadAndClients?: boolean
}

export async function runPaperBench(options: PaperOptions): Promise<PaperReport> {
  const start = performance.now()
  if (options.seeds.length === 0) throw new Error('no seeds')
  const workloads = new Map<string, ClosedLoopWorkload>()
  const workloadFor = (model: ModelChoices) => {
    const key = `${model.ordering}/${model.popularity ?? 'objects'}`
    let w = workloads.get(key)
    if (w === undefined) {
      w = surgeWorkload({ stationary: model.ordering === 'stationary', popularity: model.popularity })
      workloads.set(key, w)
    }
    return w
  }
  const point = (spec: RunSpec, seeds: number[] = options.seeds): PaperPoint =>
    aggregate(
      seeds.map((seed) =>
        simulatePolicy(spec.policy, workloadFor(spec.model), {
          loadReports: spec.model.loadReports,
          front: spec.model.front,
          overload: spec.overloadAndClients ? { ...DEFAULT_OVERLOAD } : undefined,
          clients: spec.overloadAndClients ? { ...SEED_CLIENTS } : undefined,
          nodes: spec.nodes,
          users: spec.users,
          cacheMb: spec.cacheMb,
          durationSeconds: options.durationSeconds,
          warmupSeconds: options.warmupSeconds,
          seed,
          impl: options.impl,
          prewarm: true,
          params: spec.params,
        }),
      ),
    )

  const base = resolveReading(options.reading)
  const cases = options.sensitivity ? sensitivityCases() : []
  const sensitivityPoints = [
    { nodes: 4, users: 7000 },
    { nodes: 16, users: 7000 },
  ]
  const readingNames = options.readings
  for (const name of readingNames) findReading(name)
  const seedsN = options.seeds.length
  const total =
    (options.cachesMb.length * options.nodes.length * options.users.length * options.policies.length + readingNames.length * (2 * 2 * 2 + 2 * 2)) * seedsN +
    cases.length * sensitivityPoints.length * 2
  let done = 0
  const tick = (runs: number, label: string) => options.onProgress?.((done += runs), total, label)
  const results: PaperPoint[] = []
  for (const cacheMb of options.cachesMb)
    for (const nodes of options.nodes)
      for (const users of options.users)
        for (const policy of options.policies) {
          results.push(point({ policy, nodes, users, cacheMb, params: base.params, model: base.model }))
          tick(seedsN, `${policy} ${nodes} nodes ${users} users ${cacheMb} MB`)
        }

  const readings: ReadingRow[] = []
  const baseCache = options.cachesMb[0]
  for (const name of readingNames) {
    const reading = resolveReading(name)
    const runs: ReadingRun[] = []
    for (const overloadAndClients of [false, true]) {
      const at = (nodes: number) => {
        const spec = { nodes, users: 7000, cacheMb: baseCache, params: reading.params, model: reading.model, overloadAndClients }
        const ds = point({ ...spec, policy: 'ds' })
        const lardCost = point({ ...spec, policy: 'lard-cost' })
        tick(2 * seedsN, `reading ${name} ${nodes} nodes${overloadAndClients ? ' overload+clients' : ''}`)
        return { ds, lardCost, ratio: ds.throughput / lardCost.throughput }
      }
      const nodes4 = at(4)
      const nodes16 = at(16)
      runs.push({
        models: overloadAndClients ? 'overload+clients' : 'off',
        nodes4,
        nodes16,
        scale: { ds: nodes16.ds.throughput / nodes4.ds.throughput, lardCost: nodes16.lardCost.throughput / nodes4.lardCost.throughput },
      })
    }
    const sameReports: ReadingRow['sameReports'] = []
    for (const loadReports of ['none', 'all'] as const) {
      const spec = { nodes: 4, users: 7000, cacheMb: baseCache, params: reading.params, model: { ...reading.model, loadReports } }
      const ds = point({ ...spec, policy: 'ds' })
      const lardCost = point({ ...spec, policy: 'lard-cost' })
      tick(2 * seedsN, `reading ${name} load reports ${loadReports}`)
      sameReports.push({ loadReports, ds, lardCost, ratio: ds.throughput / lardCost.throughput })
    }
    readings.push({ name, summary: findReading(name).summary, params: reading.params, model: reading.model, runs, sameReports })
  }

  const sensitivity: SensitivityRow[] = []
  for (const c of cases)
    for (const p of sensitivityPoints) {
      const model = { ...base.model, loadReports: c.loadReports ?? base.model.loadReports }
      const params = { ...base.params, ...c.params }
      const one = [options.seeds[0]]
      const ds = point({ policy: 'ds', ...p, cacheMb: baseCache, params, model }, one)
      const lardCost = point({ policy: 'lard-cost', ...p, cacheMb: baseCache, params, model }, one)
      tick(2, `sensitivity ${c.parameter}=${c.value}`)
      sensitivity.push({ parameter: c.parameter, value: c.value, ...p, ds, lardCost })
    }

  const wallSeconds = (performance.now() - start) / 1000
  const files = await writePaperResults(options, results, readings, sensitivity, wallSeconds, workloadFor(base.model).files.sizes)
  return { results, readings, sensitivity, files, wallSeconds }
}

function ratio(a: number, b: number): string {
  return b > 0 ? (a / b).toFixed(2) : '-'
}

/** Throughput (or another metric) per (nodes, users) row, one column per policy. */
function pivot(results: SimResult[], policies: PolicyName[], value: (r: SimResult) => number, digits: number): string {
  const keys = [...new Set(results.map((r) => `${r.nodes}/${r.users}`))]
  const head = `| nodes | users | ${policies.join(' | ')} | ds / lard-cost |`
  const rule = `|---:|---:|${policies.map(() => '---:').join('|')}|---:|`
  const rows = keys.map((key) => {
    const [nodes, users] = key.split('/').map(Number)
    const at = (p: string) => results.find((r) => r.nodes === nodes && r.users === users && r.policy === p)
    const cells = policies.map((p) => {
      const r = at(p)
      return r ? value(r).toFixed(digits) : '-'
    })
    const ds = at('ds')
    const lc = at('lard-cost')
    return `| ${nodes} | ${users} | ${cells.join(' | ')} | ${ds && lc ? ratio(value(ds), value(lc)) : '-'} |`
  })
  return [head, rule, ...rows].join('\n')
}

function plotSpec(results: SimResult[], field: 'throughput' | 'meanResponseMs', title: string): VegaLiteSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values: results.map((r) => ({ policy: r.policy, nodes: `${r.nodes} nodes`, nodeCount: r.nodes, users: r.users, value: r[field] })) },
    facet: { column: { field: 'nodes', type: 'ordinal', sort: { field: 'nodeCount' }, title: null } },
    spec: {
      width: 170,
      height: 170,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'users', type: 'quantitative', title: 'SURGE users (threads)', scale: { zero: false } },
        y: {
          field: 'value',
          type: 'quantitative',
          title: field === 'throughput' ? 'connections/s' : 'mean response time, ms',
          ...(field === 'meanResponseMs' ? { scale: { type: 'log' } } : {}),
        },
        color: { field: 'policy', type: 'nominal' },
      },
    },
  } as VegaLiteSpec
}

function readingsTables(readings: ReadingRow[]): string[] {
  const lines: string[] = []
  const range = (p: PaperPoint) => `${p.throughput.toFixed(0)} (${p.throughputMin.toFixed(0)}-${p.throughputMax.toFixed(0)})`
  lines.push('Connections/s at 7000 users (trimmed mean of the seeds, min-max in brackets); "16/4": throughput at 16 nodes over 4 nodes:', '')
  lines.push('| reading | overload + clients | ds, 4 nodes | lard-cost, 4 nodes | ds / lard-cost, 4 | ds, 16 nodes | lard-cost, 16 nodes | ds / lard-cost, 16 | ds 16/4 | lard-cost 16/4 |')
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of readings)
    for (const run of r.runs)
      lines.push(
        `| ${r.name} | ${run.models === 'off' ? 'off' : 'on'} | ${range(run.nodes4.ds)} | ${range(run.nodes4.lardCost)} | ${run.nodes4.ratio.toFixed(2)} | ${range(run.nodes16.ds)} | ${range(run.nodes16.lardCost)} | ${run.nodes16.ratio.toFixed(2)} | ${run.scale.ds.toFixed(2)} | ${run.scale.lardCost.toFixed(2)} |`,
      )
  lines.push('', 'What produces them (same runs): DS served locally, imbalance (requests served per node, max / mean), node CPU use, SYNs dropped per completed request, client NIC use, mean response time:', '')
  lines.push('| reading | overload + clients | nodes | ds local | ds imbalance | lard-cost imbalance | ds cpu | lard-cost cpu | ds SYN drops/req | lard-cost SYN drops/req | ds NIC | ds mean ms | lard-cost mean ms |')
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of readings)
    for (const run of r.runs)
      for (const [nodes, at] of [[4, run.nodes4], [16, run.nodes16]] as const)
        lines.push(
          `| ${r.name} | ${run.models === 'off' ? 'off' : 'on'} | ${nodes} | ${at.ds.localFraction.toFixed(3)} | ${at.ds.loadImbalance.toFixed(2)} | ${at.lardCost.loadImbalance.toFixed(2)} | ${at.ds.cpuUtilization.toFixed(2)} | ${at.lardCost.cpuUtilization.toFixed(2)} | ${at.ds.synDropsPerRequest.toFixed(3)} | ${at.lardCost.synDropsPerRequest.toFixed(3)} | ${at.ds.clientNicUtilization.toFixed(2)} | ${at.ds.meanResponseMs.toFixed(0)} | ${at.lardCost.meanResponseMs.toFixed(0)} |`,
        )
  lines.push('', 'Is it DS or its load reports? 4 nodes x 7000 users, models off, both policies given the same load reports (`loadReports` none: no node reports; all: every node does):', '')
  lines.push('| reading | load reports | ds | lard-cost | ds / lard-cost | ds imbalance | lard-cost imbalance |')
  lines.push('|---|---|---:|---:|---:|---:|---:|')
  for (const r of readings)
    for (const v of r.sameReports)
      lines.push(`| ${r.name} | ${v.loadReports} | ${range(v.ds)} | ${range(v.lardCost)} | ${v.ratio.toFixed(2)} | ${v.ds.loadImbalance.toFixed(2)} | ${v.lardCost.loadImbalance.toFixed(2)} |`)
  lines.push('', 'The readings (service/policy/README.md, "Readings"):', '')
  for (const r of readings) lines.push(`- \`${r.name}\`: ${r.summary}. Parameters ${JSON.stringify(r.params)}, model ${JSON.stringify(r.model)}.`)
  lines.push('')
  return lines
}

async function writePaperResults(
  options: PaperOptions,
  results: PaperPoint[],
  readings: ReadingRow[],
  sensitivity: SensitivityRow[],
  wallSeconds: number,
  sizes: Float64Array,
): Promise<string[]> {
  await mkdir(options.outDir, { recursive: true })
  const written: string[] = []
  const write = async (name: string, text: string) => {
    const path = join(options.outDir, name)
    await writeFile(path, text)
    written.push(path)
  }
  const setMb = sizes.reduce((a, b) => a + b, 0) / 1e6
  const impl = results[0]?.impl ?? options.impl
  const lines: string[] = [
    '# Paper sweep: the seed\'s Figures 14 and 15 in the cluster model',
    '',
    'Generated by `l7 bench paper`; do not edit. Interpretation: [../reproduction.md](../reproduction.md).',
    '',
    `Workload: SURGE preset hong-noh-2005 (${sizes.length} files, ${setMb.toFixed(1)} MB), closed-loop users with Pareto think times.`,
    `Model: service/sim/ with its default costs (service/sim/README.md); policies: ${impl === 'wasm' ? 'the Wasm core' : 'the TypeScript reference'};`,
    `Reading \`${options.reading}\` (service/policy/README.md, "Readings") for the sweep and the sensitivity cases.`,
    `${options.warmupSeconds} s warm-up (caches start warm) then ${options.durationSeconds} s measured per point; model seeds ${options.seeds.join(', ')}:`,
    `every figure of the sweep and of the readings table is the mean without the largest and the smallest (the seed paper's method); the sensitivity cases use seed ${options.seeds[0]} only.`,
    `Whole run ${wallSeconds.toFixed(0)} s of wall time on this machine (load average ${loadavg().map((l) => l.toFixed(1)).join(', ')} at the end; a shared 2-core VM).`,
    '',
  ]
  if (readings.length > 0) {
    lines.push(`## Readings: DS against lard-cost, 4 and 16 nodes x 7000 users (cache ${options.cachesMb[0]} MiB)`, '')
    lines.push(...readingsTables(readings))
  }
  for (const cacheMb of options.cachesMb) {
    const rows = results.filter((r) => r.cacheMb === cacheMb)
    const tag = `cache${cacheMb}mb`
    const fits = cacheMb * 1.048576 >= setMb ? 'holds the whole file set' : 'is smaller than the file set'
    lines.push(`## Per-node cache ${cacheMb} MiB (${fits})`, '')
    lines.push(`![throughput](throughput-${tag}.svg)`, '', `![response time](response-${tag}.svg)`, '')
    lines.push('Connections per second:', '', pivot(rows, options.policies, (r) => r.throughput, 0), '')
    const ratios = rows
      .filter((r) => r.policy === 'ds')
      .map((ds) => {
        const lc = rows.find((r) => r.policy === 'lard-cost' && r.nodes === ds.nodes && r.users === ds.users)
        return lc ? ds.throughput / lc.throughput : NaN
      })
      .filter((x) => Number.isFinite(x))
    if (ratios.length > 0) {
      const geo = Math.exp(ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length)
      lines.push(
        `DS / lard-cost over these ${ratios.length} points: geometric mean ${geo.toFixed(3)}, from ${Math.min(...ratios).toFixed(2)} to ${Math.max(...ratios).toFixed(2)}; DS ahead by more than 5% at ${ratios.filter((x) => x > 1.05).length}, behind by more than 5% at ${ratios.filter((x) => x < 0.95).length}.`,
        '',
      )
    }
    lines.push('Mean response time, ms:', '', pivot(rows, options.policies, (r) => r.meanResponseMs, 1), '')
    lines.push('Cache hit rate:', '', pivot(rows, options.policies, (r) => r.hitRate, 3), '')
    lines.push('Fraction served locally without the dispatcher (DS fast path):', '', pivot(rows, options.policies, (r) => r.localFraction, 3), '')
    lines.push('Load imbalance (requests served per node, max / mean):', '', pivot(rows, options.policies, (r) => r.loadImbalance, 2), '')
    await write(`throughput-${tag}.svg`, await renderSvg(plotSpec(rows, 'throughput', `Connections/s, ${cacheMb} MiB cache per node`)))
    await write(`response-${tag}.svg`, await renderSvg(plotSpec(rows, 'meanResponseMs', `Mean response time, ${cacheMb} MiB cache per node`)))
  }
  if (sensitivity.length > 0) {
    lines.push(`## Sensitivity of DS to the seed's choices (cache ${options.cachesMb[0]} MiB, reading ${options.reading}, seed ${options.seeds[0]})`, '')
    lines.push('| parameter | value | nodes | users | ds conn/s | lard-cost conn/s | ds / lard-cost | ds mean ms | lard-cost mean ms | ds local | ds msgs/req |')
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const s of sensitivity)
      lines.push(
        `| ${s.parameter} | ${s.value} | ${s.nodes} | ${s.users} | ${s.ds.throughput.toFixed(0)} | ${s.lardCost.throughput.toFixed(0)} | ${ratio(s.ds.throughput, s.lardCost.throughput)} | ${s.ds.meanResponseMs.toFixed(1)} | ${s.lardCost.meanResponseMs.toFixed(1)} | ${s.ds.localFraction.toFixed(3)} | ${s.ds.dispatcherMsgsPerRequest.toFixed(2)} |`,
      )
    lines.push('')
  }
  lines.push('## Every point', '', formatResultsMarkdown(results), '')
  await write('paper.md', lines.join('\n'))
  await write('paper.json', JSON.stringify({ options: { ...options, onProgress: undefined, outDir: undefined }, costs: DEFAULT_COSTS, results, readings, sensitivity }, null, 1))
  return written
}
