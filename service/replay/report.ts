// How a replay's results are shown: a plain-text table for the terminal, and a self-contained
// HTML page (no network: the plots are SVG rendered by Vega here) with the latency percentile
// curve on a log axis and the throughput over time.
import { writeFile } from 'node:fs/promises'
import { renderSvg, type VegaLiteSpec } from '../report/plot.js'
import { hgrmFromEncoded, percentileCurve } from './histograms.js'
import type { GroupResult, LatencySummary, ReplayResult } from './types.js'

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, column) => Math.max(...cells.map((row) => row[column].length)))
  return cells.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')).join('\n')
}

const ms = (value: number): string => value.toFixed(value >= 100 ? 1 : 3)

function latencyRow(name: string, summary: LatencySummary): string[] {
  return [name, ms(summary.p50), ms(summary.p90), ms(summary.p99), ms(summary.p999), ms(summary.p9999), ms(summary.max), ms(summary.mean)]
}

function groupRows(groups: GroupResult[]): string[][] {
  return groups.map((group) => [
    group.key,
    String(group.requests),
    String(group.ok),
    String(group.errors),
    ms(group.latencyMs.p50),
    ms(group.latencyMs.p99),
    ms(group.latencyMs.max),
  ])
}

const GROUP_HEADER = ['', 'requests', 'ok', 'errors', 'p50 ms', 'p99 ms', 'max ms']

/** The results as text tables for a terminal. */
export function formatResultTable(result: ReplayResult): string {
  const errors = Object.entries(result.errorsByKind)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
  const lines = [
    `${result.mode} replay of ${result.targets.join(', ')} (${result.connectionStyle}), ${result.durationS.toFixed(2)} s measured` +
      (result.warmupRequests > 0 ? ` after ${result.warmupRequests} warm-up requests` : ''),
    `requests ${result.requests}  ok ${result.ok}  errors ${result.errors}${errors.length ? ` (${errors.join(', ')})` : ''}` +
      (result.unfinished > 0 ? `  unfinished ${result.unfinished}` : ''),
    `throughput ${result.throughputRps.toFixed(1)} req/s  ${(result.bytes / 1e6).toFixed(2)} MB  cpu ${result.cpuUsPerRequest.toFixed(1)} us/request`,
    '',
    pad([
      ['ms', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'mean'],
      latencyRow('latency (from schedule)', result.latencyMs),
      latencyRow('service (from send)', result.serviceMs),
      latencyRow('send lag', result.sendLagMs),
    ]),
  ]
  const sections: Array<[string, GroupResult[]]> = [
    ['per target', result.perTarget],
    ['per X-L7 header', result.perHeader],
    ['per response size', result.perSizeClass],
  ]
  for (const [title, groups] of sections) {
    if (groups.length === 0 || (title === 'per target' && groups.length === 1)) continue
    lines.push('', title, pad([GROUP_HEADER, ...groupRows(groups)]))
  }
  const statuses = Object.entries(result.statusClasses).map(([klass, count]) => `${klass} ${count}`)
  if (statuses.length > 0) lines.push('', `status ${statuses.join('  ')}`)
  if (result.traceProblems.count > 0) {
    lines.push('', `${result.traceProblems.count} bad trace lines skipped, first: ` + result.traceProblems.first.map((p) => `line ${p.line}: ${p.message}`).join('; '))
  }
  for (const warning of result.warnings) lines.push(`warning: ${warning}`)
  return lines.join('\n')
}

/** 1/(1-p) on a log axis, labelled with the percentile, as the HdrHistogram plotter draws it. */
async function percentileSpec(result: ReplayResult): Promise<VegaLiteSpec> {
  const values: Array<{ x: number; ms: number; series: string }> = []
  const series: Array<[string, string]> = [
    ['latency (from schedule)', result.histograms.latencyUs],
    ['service time (from send)', result.histograms.serviceUs],
  ]
  for (const [name, encoded] of series) {
    for (const point of percentileCurve(await hgrmFromEncoded(encoded))) {
      values.push({ x: 1 / (1 - point.percentile), ms: point.valueMs, series: name })
    }
  }
  const ticks = [1, 10, 100, 1000, 10_000, 100_000].filter((tick, i) => i === 0 || values.some((v) => v.x >= tick / 3))
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Latency by percentile',
    width: 640,
    height: 320,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: 'percentile',
        scale: { type: 'log' },
        axis: { values: ticks, labelExpr: "format(100 - 100 / datum.value, '.5~f') + '%'" },
      },
      y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
      color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400 } },
    },
  } as VegaLiteSpec
}

function throughputSpec(result: ReplayResult): VegaLiteSpec {
  const values = result.timeline.flatMap((point) => [
    { second: point.second, count: point.responses, series: 'responses/s' },
    { second: point.second, count: point.errors, series: 'errors/s' },
  ])
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Throughput over time',
    width: 640,
    height: 240,
    data: { values },
    mark: { type: 'line', point: values.length <= 120 },
    encoding: {
      x: { field: 'second', type: 'quantitative', title: 'time (s)' },
      y: { field: 'count', type: 'quantitative', title: 'per second' },
      color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400 } },
    },
  } as VegaLiteSpec
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)

/** A self-contained HTML report: the two plots as inline SVG, the text tables, the JSON. */
export async function renderHtmlReport(result: ReplayResult): Promise<string> {
  const [percentileSvg, throughputSvg] = await Promise.all([renderSvg(await percentileSpec(result)), renderSvg(throughputSpec(result))])
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>l7 replay report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
figure { margin: 1.5em 0; }
</style>
</head>
<body>
<h1>l7 replay: ${escapeHtml(result.targets.join(', '))}</h1>
<p>Started ${escapeHtml(result.startedAt)}. Latency counts from each request's scheduled send time (no coordinated omission).</p>
<figure id="latency-percentiles">${percentileSvg}</figure>
<figure id="throughput">${throughputSvg}</figure>
<h2>Results</h2>
<pre>${escapeHtml(formatResultTable(result))}</pre>
</body>
</html>
`
}

export async function writeHtmlReport(result: ReplayResult, path: string): Promise<void> {
  await writeFile(path, await renderHtmlReport(result))
}
