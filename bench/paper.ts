// `l7 bench paper`: the seed's Figures 14 and 15 (connections/s and response time against
// SURGE users, one curve per node count) reproduced with the cluster model, for DS and the
// seed's LARD variant (lard-cost) plus basic LARD, LARD/R, WRR and CHBL, with per-node caches
// that hold the seed's 50 MB file set and with caches smaller than it. Then small sensitivity
// sweeps of the seed's choices (hot threshold, MAX_LOAD, unit time and rate estimator).
// Writes docs/results/ (generated): paper.md, paper.json and SVG plots.

import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Impl } from '../service/policy/index.js'
import type { PolicyName, PolicyParams } from '../service/policy/types.js'
import { renderSvg, type VegaLiteSpec } from '../service/report/plot.js'
import { formatResultsMarkdown, simulatePolicy, surgeWorkload, type SimResult } from '../service/sim/index.js'
import { DEFAULT_COSTS, type LoadReports } from '../service/sim/types.js'

export interface PaperOptions {
  nodes: number[]
  users: number[]
  policies: PolicyName[]
  /** Per-node cache sizes, MiB: the first holds the seed's file set, the others are smaller. */
  cachesMb: number[]
  durationSeconds: number
  warmupSeconds: number
  seed: number
  impl: Impl
  sensitivity: boolean
  outDir: string
  onProgress?: (done: number, total: number, label: string) => void
}

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const DEFAULT_PAPER_OPTIONS: Readonly<Omit<PaperOptions, 'onProgress'>> = Object.freeze({
  nodes: [4, 8, 12, 16],
  users: [2000, 3000, 4000, 5000, 6000, 7000],
  policies: ['ds', 'lard-cost', 'lard', 'lard-r', 'wrr', 'chbl'] as PolicyName[],
  cachesMb: [64, 16],
  durationSeconds: 20,
  warmupSeconds: 10,
  seed: 1,
  impl: 'wasm' as Impl,
  sensitivity: true,
  outDir: join(PACKAGE_ROOT, 'docs', 'results'),
})

export interface SensitivityRow {
  parameter: string
  value: string
  nodes: number
  users: number
  ds: SimResult
  lardCost: SimResult
}

export interface PaperReport {
  results: SimResult[]
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

export async function runPaperBench(options: PaperOptions): Promise<PaperReport> {
  const start = performance.now()
  const workload = surgeWorkload()
  const sim = (
    policy: PolicyName,
    nodes: number,
    users: number,
    cacheMb: number,
    params: Partial<PolicyParams> = {},
    loadReports: LoadReports = 'ds',
  ) =>
    simulatePolicy(policy, workload, {
      loadReports,
      nodes,
      users,
      cacheMb,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      seed: options.seed,
      impl: options.impl,
      prewarm: true,
      params,
    })

  const cases = options.sensitivity ? sensitivityCases() : []
  const sensitivityPoints = [
    { nodes: 4, users: 7000 },
    { nodes: 16, users: 7000 },
  ]
  const total =
    options.cachesMb.length * options.nodes.length * options.users.length * options.policies.length + cases.length * sensitivityPoints.length * 2
  let done = 0
  const results: SimResult[] = []
  for (const cacheMb of options.cachesMb)
    for (const nodes of options.nodes)
      for (const users of options.users)
        for (const policy of options.policies) {
          results.push(sim(policy, nodes, users, cacheMb))
          options.onProgress?.(++done, total, `${policy} ${nodes} nodes ${users} users ${cacheMb} MB`)
        }

  const sensitivity: SensitivityRow[] = []
  const baseCache = options.cachesMb[0]
  for (const c of cases)
    for (const point of sensitivityPoints) {
      const ds = sim('ds', point.nodes, point.users, baseCache, c.params, c.loadReports)
      options.onProgress?.(++done, total, `sensitivity ${c.parameter}=${c.value}`)
      const lardCost = sim('lard-cost', point.nodes, point.users, baseCache, c.params, c.loadReports)
      options.onProgress?.(++done, total, `sensitivity ${c.parameter}=${c.value}`)
      sensitivity.push({ parameter: c.parameter, value: c.value, ...point, ds, lardCost })
    }

  const wallSeconds = (performance.now() - start) / 1000
  const files = await writePaperResults(options, results, sensitivity, wallSeconds, workload.files.sizes)
  return { results, sensitivity, files, wallSeconds }
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

async function writePaperResults(
  options: PaperOptions,
  results: SimResult[],
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
    `${options.warmupSeconds} s warm-up (caches start warm) then ${options.durationSeconds} s measured per point; seed ${options.seed}.`,
    `Sweep wall time ${wallSeconds.toFixed(0)} s on this machine.`,
    '',
  ]
  for (const cacheMb of options.cachesMb) {
    const rows = results.filter((r) => r.cacheMb === cacheMb)
    const tag = `cache${cacheMb}mb`
    const fits = cacheMb * 1.048576 >= setMb ? 'holds the whole file set' : 'is smaller than the file set'
    lines.push(`## Per-node cache ${cacheMb} MiB (${fits})`, '')
    lines.push(`![throughput](throughput-${tag}.svg)`, '', `![response time](response-${tag}.svg)`, '')
    lines.push('Connections per second:', '', pivot(rows, options.policies, (r) => r.throughput, 0), '')
    lines.push('Mean response time, ms:', '', pivot(rows, options.policies, (r) => r.meanResponseMs, 1), '')
    lines.push('Cache hit rate:', '', pivot(rows, options.policies, (r) => r.hitRate, 3), '')
    lines.push('Fraction served locally without the dispatcher (DS fast path):', '', pivot(rows, options.policies, (r) => r.localFraction, 3), '')
    lines.push('Load imbalance (requests served per node, max / mean):', '', pivot(rows, options.policies, (r) => r.loadImbalance, 2), '')
    await write(`throughput-${tag}.svg`, await renderSvg(plotSpec(rows, 'throughput', `Connections/s, ${cacheMb} MiB cache per node`)))
    await write(`response-${tag}.svg`, await renderSvg(plotSpec(rows, 'meanResponseMs', `Mean response time, ${cacheMb} MiB cache per node`)))
  }
  if (sensitivity.length > 0) {
    lines.push(`## Sensitivity of DS to the seed's choices (cache ${options.cachesMb[0]} MiB)`, '')
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
  await write('paper.json', JSON.stringify({ options: { ...options, onProgress: undefined, outDir: undefined }, costs: DEFAULT_COSTS, results, sensitivity }, null, 1))
  return written
}
