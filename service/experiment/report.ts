// How `l7 experiment` shows its results: one comparison table for the terminal (with the
// simulator's figures for the same configuration beside the measured ones) and a
// self-contained HTML report with SVG plots rendered by Vega.

import { writeFileAtomic } from '../core/atomic-write.js'
import { renderSvg, type VegaLiteSpec } from '../report/plot.js'
import type { ExperimentReport, PolicyOutcome } from './index.js'
import { COLUMNS } from './columns.js'
import { compactTable, LEGEND, verdict, wrap } from './verdict.js'

function cells(report: ExperimentReport): string[][] {
  return [COLUMNS.map(([title]) => title), ...report.outcomes.map((o) => COLUMNS.map(([, value]) => value(o)))]
}

export function describeConfiguration(report: ExperimentReport): string {
  const o = report.options
  const disk = o.disk ? `emulated disk seek ${o.disk.seekMs} ms, ${o.disk.mbps} MB/s` : 'no emulated disk'
  return (
    `${o.nodes} nodes, ${o.users} SURGE users (closed loop, HTTP/1.0), ${o.warmupS} s warm-up + ${o.durationS} s measured per policy, ` +
    `${o.cacheMb} MiB cache per node, ${disk}, ${o.handoff} handoff; file set ${(report.fileSetBytes / 1e6).toFixed(1)} MB; ` +
    `${report.wallSeconds.toFixed(0)} s in all`
  )
}

/** The terminal's view: configuration, compact table, verdict, legend (every line fits 100 columns). */
export function formatExperimentTable(report: ExperimentReport): string {
  return [wrap(describeConfiguration(report)), compactTable(report.outcomes), verdict(report), LEGEND.join('\n'), 'Every figure: --json, or the HTML report (--report FILE.html).'].join('\n\n')
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}

function barSpec(report: ExperimentReport, title: string, value: (o: PolicyOutcome) => number, sim?: (o: PolicyOutcome) => number | undefined): VegaLiteSpec {
  const values: Array<{ policy: string; source: string; value: number }> = []
  for (const o of report.outcomes) {
    values.push({ policy: o.policy, source: 'measured', value: value(o) })
    const s = sim?.(o)
    if (s !== undefined) values.push({ policy: o.policy, source: 'simulated', value: s })
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 260,
    height: 180,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'policy', type: 'nominal', title: null },
      xOffset: { field: 'source' },
      y: { field: 'value', type: 'quantitative', title: null },
      color: { field: 'source', type: 'nominal', title: null },
    },
  } as VegaLiteSpec
}

export async function renderExperimentHtml(report: ExperimentReport): Promise<string> {
  const plots = await Promise.all([
    renderSvg(barSpec(report, 'Connections/s', (o) => o.throughput, (o) => o.sim?.throughput)),
    renderSvg(barSpec(report, 'Mean response time, ms', (o) => o.meanMs, (o) => o.sim?.meanResponseMs)),
    renderSvg(barSpec(report, 'p99 response time, ms', (o) => o.p99Ms, (o) => o.sim?.p99ResponseMs)),
    renderSvg(barSpec(report, 'Cache hit rate', (o) => o.hitRate, (o) => o.sim?.hitRate)),
    renderSvg(barSpec(report, 'Dispatcher messages per request', (o) => o.dispatcherMsgsPerRequest, (o) => o.sim?.dispatcherMsgsPerRequest)),
    renderSvg(barSpec(report, 'Load imbalance (max / mean)', (o) => o.loadImbalance, (o) => o.sim?.loadImbalance)),
  ])
  const rows = cells(report)
  const table =
    '<table><thead><tr>' +
    rows[0].map((c) => `<th>${escapeHtml(c)}</th>`).join('') +
    '</tr></thead><tbody>' +
    rows.slice(1).map((r) => '<tr>' + r.map((c) => `<td>${escapeHtml(c)}</td>`).join('') + '</tr>').join('') +
    '</tbody></table>'
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>l7 experiment</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:1em}</style></head><body>
<h1>l7 experiment: policies on a real local cluster</h1>
<p>${escapeHtml(describeConfiguration(report))}.</p>
<p>${escapeHtml(verdict(report))}</p>
${table}
<p>Measured: the replay engine's latency (from the scheduled send) and the nodes' and dispatcher's /metrics over the measured interval.
Simulated: <code>l7 simulate</code> with the same nodes, users, file set, caches and disk, the node CPU per request measured here, and cold caches.</p>
<div class="plots">${plots.map((svg) => `<div>${svg}</div>`).join('\n')}</div>
</body></html>
`
}

export async function writeExperimentHtml(report: ExperimentReport, path: string): Promise<void> {
  await writeFileAtomic(path, await renderExperimentHtml(report))
}
