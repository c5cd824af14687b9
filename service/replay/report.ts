// The HTML report of a replay: a self-contained page (no network: the plots are SVG rendered
// by Vega here) with the latency percentile curve on a log axis and the throughput over time.
import { writeFile } from 'node:fs/promises'
import { renderSvg, type VegaLiteSpec } from '../report/plot.js'
import { hgrmFromEncoded, percentileCurve } from './histograms.js'
import { formatResultTable } from './table.js'
import type { ReplayResult } from './types.js'

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
