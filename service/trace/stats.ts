// Statistics of any trace, in one streaming pass: counts, popularity (top shares, one-timers,
// the Zipf exponent), sizes and working set, and the request rate over time. Memory grows with
// the number of distinct targets and active seconds, never with the number of lines.
import type { VegaLiteSpec } from '../report/plot.js'
import { detectTraceFormat } from './detect.js'
import { readTraceBatches, type ReadTraceOptions } from './reader.js'
import type { TraceFormat, TraceProblem } from './types.js'
import { fitZipf, logSpacedRanks } from './zipf.js'

/** Problems kept verbatim for the report; the rest are only counted. */
export const PROBLEMS_KEPT = 10

export interface SizeQuantiles {
  /** Distinct targets with a known size. */
  count: number
  min: number
  p25: number
  p50: number
  p75: number
  p90: number
  p99: number
  max: number
  mean: number
}

export interface TraceStats {
  file: string
  format: TraceFormat
  /** Lines read, including blank and comment lines. */
  lines: number
  requests: number
  /** Lines that gave requests (a SURGE name.txt line gives one request per file of its object). */
  parsed: number
  /** Bad lines, skipped. */
  skipped: number
  problems: TraceProblem[]
  methods: Record<string, number>
  /** By status class: 1xx..5xx, `other`, and `none` for sources without a status. */
  statusClasses: Record<string, number>
  uniqueTargets: number
  /** Bytes of all requests with a known size. */
  bytes: number
  /** Sum over distinct targets of their (largest) known size. */
  workingSetBytes: number
  top1PercentShare: number
  top10PercentShare: number
  /** Targets requested exactly once, and their share of all targets. */
  oneTimers: number
  oneTimerShare: number
  zipfAlpha: number
  zipf: { estimator: string; maxRank: number; points: number; r2: number }
  sizes: SizeQuantiles
  time: {
    firstUs: number
    lastUs: number
    durationSeconds: number
    /** Requests earlier than the one before them (logs written out of order). */
    outOfOrder: number
    meanRequestsPerSecond: number
    peakRequestsPerSecond: number
    /** Seconds with at least one request. */
    activeSeconds: number
  }
}

export interface TraceCurves {
  /** Log-spaced points of the rank-frequency curve. */
  rankFrequency: { rank: number; requests: number }[]
  /** The fitted Zipf line at the same ranks. */
  zipfLine: { rank: number; requests: number }[]
  /** Empirical CDF of distinct targets' sizes (at most ~200 points). */
  sizeCdf: { bytes: number; fraction: number }[]
}

export const ZIPF_ESTIMATOR =
  'least squares of ln(requests) on ln(rank) at log-spaced ranks (10% steps), ranks with at least 2 requests'

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

export async function computeTraceStats(
  path: string,
  options: Omit<ReadTraceOptions, 'counts' | 'onProblem'> = {},
): Promise<{ stats: TraceStats; curves: TraceCurves }> {
  const format = options.format ?? (await detectTraceFormat(path))
  const counts = { lines: 0 }
  const problems: TraceProblem[] = []
  let skipped = 0
  const onProblem = (p: TraceProblem) => {
    skipped++
    if (problems.length < PROBLEMS_KEPT) problems.push(p)
  }
  const targets = new Map<string, number>()
  const requestsOf: number[] = []
  const sizeOf: number[] = []
  const methods = new Map<string, { requests: number }>()
  let lastMethod = ''
  let methodEntry = { requests: 0 }
  const statusCounts = new Array<number>(7).fill(0) // index 0 none, 1..5 classes, 6 other
  const perSecond = new Map<number, number>()
  let requests = 0
  let parsed = 0
  let lastLine = -1
  let bytes = 0
  let firstUs = Infinity
  let lastUs = -Infinity
  let previousUs = -Infinity
  let outOfOrder = 0
  let second = Number.NaN
  let inSecond = 0

  for await (const batch of readTraceBatches(path, { ...options, format, counts, onProblem })) {
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]
      requests++
      if (r.line !== lastLine) {
        parsed++
        lastLine = r.line
      }
      if (r.method !== lastMethod) {
        lastMethod = r.method
        let entry = methods.get(lastMethod)
        if (!entry) methods.set(lastMethod, (entry = { requests: 0 }))
        methodEntry = entry
      }
      methodEntry.requests++
      const statusClass = r.status === 0 ? 0 : r.status >= 100 && r.status < 600 ? Math.floor(r.status / 100) : 6
      statusCounts[statusClass]++
      let target = targets.get(r.url)
      if (target === undefined) {
        target = requestsOf.length
        targets.set(r.url, target)
        requestsOf.push(0)
        sizeOf.push(-1)
      }
      requestsOf[target]++
      if (r.size >= 0) {
        bytes += r.size
        if (r.size > sizeOf[target]) sizeOf[target] = r.size
      }
      const t = r.timeUs
      if (t < previousUs) outOfOrder++
      previousUs = t
      if (t < firstUs) firstUs = t
      if (t > lastUs) lastUs = t
      const s = Math.floor(t / 1e6)
      if (s !== second) {
        if (inSecond > 0) perSecond.set(second, (perSecond.get(second) ?? 0) + inSecond)
        second = s
        inSecond = 0
      }
      inSecond++
    }
  }
  if (inSecond > 0) perSecond.set(second, (perSecond.get(second) ?? 0) + inSecond)

  const byPopularity = requestsOf.slice().sort((a, b) => b - a)
  const shareOfTop = (fraction: number) => {
    if (requests === 0) return 0
    const k = Math.max(1, Math.ceil(fraction * byPopularity.length))
    let sum = 0
    for (let i = 0; i < k && i < byPopularity.length; i++) sum += byPopularity[i]
    return sum / requests
  }
  let oneTimers = 0
  for (const n of requestsOf) if (n === 1) oneTimers++
  const fit = fitZipf(byPopularity)
  const knownSizes = sizeOf.filter((s) => s >= 0).sort((a, b) => a - b)
  let workingSetBytes = 0
  for (const s of knownSizes) workingSetBytes += s
  let peak = 0
  for (const n of perSecond.values()) if (n > peak) peak = n
  const durationSeconds = requests > 0 ? Math.floor(lastUs / 1e6) - Math.floor(firstUs / 1e6) + 1 : 0
  const statusClasses: Record<string, number> = {}
  const classNames = ['none', '1xx', '2xx', '3xx', '4xx', '5xx', 'other']
  statusCounts.forEach((n, i) => n > 0 && (statusClasses[classNames[i]] = n))

  const stats: TraceStats = {
    file: path,
    format,
    lines: counts.lines,
    requests,
    parsed,
    skipped,
    problems,
    methods: Object.fromEntries([...methods].map(([m, e]) => [m, e.requests] as const).sort((a, b) => b[1] - a[1])),
    statusClasses,
    uniqueTargets: requestsOf.length,
    bytes,
    workingSetBytes,
    top1PercentShare: shareOfTop(0.01),
    top10PercentShare: shareOfTop(0.1),
    oneTimers,
    oneTimerShare: requestsOf.length > 0 ? oneTimers / requestsOf.length : 0,
    zipfAlpha: fit.alpha,
    zipf: { estimator: ZIPF_ESTIMATOR, maxRank: fit.maxRank, points: fit.points, r2: fit.r2 },
    sizes: {
      count: knownSizes.length,
      min: knownSizes[0] ?? Number.NaN,
      p25: quantile(knownSizes, 0.25),
      p50: quantile(knownSizes, 0.5),
      p75: quantile(knownSizes, 0.75),
      p90: quantile(knownSizes, 0.9),
      p99: quantile(knownSizes, 0.99),
      max: knownSizes[knownSizes.length - 1] ?? Number.NaN,
      mean: knownSizes.length > 0 ? workingSetBytes / knownSizes.length : Number.NaN,
    },
    time: {
      firstUs: requests > 0 ? firstUs : 0,
      lastUs: requests > 0 ? lastUs : 0,
      durationSeconds,
      outOfOrder,
      meanRequestsPerSecond: durationSeconds > 0 ? requests / durationSeconds : 0,
      peakRequestsPerSecond: peak,
      activeSeconds: perSecond.size,
    },
  }
  const ranks = logSpacedRanks(byPopularity.length)
  const curves: TraceCurves = {
    rankFrequency: ranks.map((rank) => ({ rank, requests: byPopularity[rank - 1] })),
    zipfLine: Number.isNaN(fit.alpha)
      ? []
      : ranks.filter((r) => r <= Math.max(fit.maxRank, 1)).map((rank) => ({ rank, requests: Math.exp(fit.intercept) * Math.pow(rank, -fit.alpha) })),
    sizeCdf: sizeCdfPoints(knownSizes),
  }
  return { stats, curves }
}

function sizeCdfPoints(sorted: number[]): { bytes: number; fraction: number }[] {
  const points: { bytes: number; fraction: number }[] = []
  const step = Math.max(1, Math.floor(sorted.length / 200))
  for (let i = 0; i < sorted.length; i += step) points.push({ bytes: Math.max(1, sorted[i]), fraction: (i + 1) / sorted.length })
  if (sorted.length > 0) points.push({ bytes: Math.max(1, sorted[sorted.length - 1]), fraction: 1 })
  return points
}

/** The JSON form: the stats with `problems` last, numbers as they are (NaN becomes null). */
export function statsJson(stats: TraceStats): string {
  return JSON.stringify(stats, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)
}

function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '-'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = n
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`
}

function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`
}

function int(n: number): string {
  return n.toLocaleString('en-US')
}

/** The terminal table: two aligned columns. */
export function formatStatsTable(stats: TraceStats): string {
  const rows: [string, string][] = [
    ['file', stats.file],
    ['format', stats.format],
    ['lines', int(stats.lines)],
    ['requests', int(stats.requests)],
    ['parsed / skipped lines', `${int(stats.parsed)} / ${int(stats.skipped)}`],
    ['methods', Object.entries(stats.methods).map(([m, n]) => `${m} ${int(n)}`).join(', ') || '-'],
    ['status classes', Object.entries(stats.statusClasses).map(([c, n]) => `${c} ${int(n)}`).join(', ') || '-'],
    ['unique targets', int(stats.uniqueTargets)],
    ['bytes (requests)', formatBytes(stats.bytes)],
    ['working set (unique bytes)', formatBytes(stats.workingSetBytes)],
    ['top 1% / 10% of targets', `${percent(stats.top1PercentShare)} / ${percent(stats.top10PercentShare)} of requests`],
    ['one-timers', `${int(stats.oneTimers)} (${percent(stats.oneTimerShare)} of targets)`],
    ['Zipf alpha', Number.isFinite(stats.zipfAlpha) ? `${stats.zipfAlpha.toFixed(3)} (R² ${stats.zipf.r2.toFixed(3)}, ranks 1-${stats.zipf.maxRank})` : '- (too few targets)'],
    ['Zipf estimator', stats.zipf.estimator],
    ['sizes min / p50 / p90 / p99 / max', [stats.sizes.min, stats.sizes.p50, stats.sizes.p90, stats.sizes.p99, stats.sizes.max].map(formatBytes).join(' / ')],
    ['sizes mean (distinct targets)', formatBytes(Math.round(stats.sizes.mean))],
    ['duration', `${int(stats.time.durationSeconds)} s (${int(stats.time.outOfOrder)} requests out of order)`],
    ['requests/s mean / peak', `${stats.time.meanRequestsPerSecond.toFixed(2)} / ${int(stats.time.peakRequestsPerSecond)}`],
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)
  if (stats.skipped > 0) {
    lines.push('', `skipped lines (first ${stats.problems.length} of ${int(stats.skipped)}):`)
    for (const p of stats.problems) lines.push(`  line ${p.line}: ${p.message}`)
  }
  return lines.join('\n')
}

/** Rank-frequency (log-log, with the fitted line) beside the CDF of target sizes. */
export function statsPlotSpec(stats: TraceStats, curves: TraceCurves): VegaLiteSpec {
  const fitLabel = `Zipf fit, alpha ${Number.isFinite(stats.zipfAlpha) ? stats.zipfAlpha.toFixed(2) : '-'}`
  const rankData = [
    ...curves.rankFrequency.map((p) => ({ ...p, series: 'trace' })),
    ...curves.zipfLine.map((p) => ({ ...p, series: fitLabel })),
  ]
  const x = { field: 'rank', type: 'quantitative', scale: { type: 'log' }, title: 'rank (log-spaced points)' } as const
  const y = { field: 'requests', type: 'quantitative', scale: { type: 'log' }, title: 'requests' } as const
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain: ['trace', fitLabel], range: ['#4c78a8', '#e45756'] },
    legend: { orient: 'top-right', labelLimit: 240 },
  } as const
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `${stats.file}: ${stats.requests.toLocaleString('en-US')} requests, ${stats.uniqueTargets.toLocaleString('en-US')} targets`, fontSize: 12 },
    resolve: { legend: { color: 'independent' } },
    hconcat: [
      {
        title: 'Rank-frequency',
        width: 360,
        height: 280,
        data: { values: rankData },
        layer: [
          { transform: [{ filter: "datum.series === 'trace'" }], mark: { type: 'line', point: { size: 16 } }, encoding: { x, y, color } },
          { transform: [{ filter: "datum.series !== 'trace'" }], mark: { type: 'line', strokeDash: [6, 4] }, encoding: { x, y, color } },
        ],
      },
      {
        title: 'Target sizes (CDF; size 0 drawn at 1 byte)',
        width: 360,
        height: 280,
        data: { values: curves.sizeCdf },
        mark: 'line',
        encoding: {
          x: { field: 'bytes', type: 'quantitative', scale: { type: 'log' }, title: 'size (bytes)' },
          y: { field: 'fraction', type: 'quantitative', title: 'fraction of targets' },
        },
      },
    ],
  }
}
