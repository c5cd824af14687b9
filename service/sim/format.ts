// The comparison table `l7 simulate` prints (and the paper sweep reuses for its markdown).

import type { SimResult } from './types.js'

interface Column {
  title: string
  value: (r: SimResult) => string
}

const COLUMNS: Column[] = [
  { title: 'policy', value: (r) => r.policy },
  { title: 'nodes', value: (r) => String(r.nodes) },
  { title: 'users', value: (r) => String(r.users) },
  { title: 'conn/s', value: (r) => r.throughput.toFixed(0) },
  { title: 'mean ms', value: (r) => r.meanResponseMs.toFixed(1) },
  { title: 'p99 ms', value: (r) => r.p99ResponseMs.toFixed(0) },
  { title: 'hit', value: (r) => r.hitRate.toFixed(3) },
  { title: 'local', value: (r) => r.localFraction.toFixed(3) },
  { title: 'handoff', value: (r) => r.handoffFraction.toFixed(3) },
  { title: 'msgs/req', value: (r) => r.dispatcherMsgsPerRequest.toFixed(2) },
  { title: 'batch', value: (r) => r.meanBatch.toFixed(1) },
  { title: 'imbalance', value: (r) => r.loadImbalance.toFixed(2) },
  { title: 'cpu', value: (r) => r.cpuUtilization.toFixed(2) },
  { title: 'disk', value: (r) => r.diskUtilization.toFixed(2) },
  { title: 'link', value: (r) => r.linkUtilization.toFixed(2) },
  { title: 'wall s', value: (r) => r.wallSeconds.toFixed(2) },
]

/** Shown only when a result ran with reuseMs > 0, so that the default table stays as it was. */
const REUSE_COLUMNS: Column[] = [
  { title: 'reuse ms', value: (r) => String(r.reuseMs ?? 0) },
  { title: 'reused', value: (r) => (r.reusedFraction ?? 0).toFixed(3) },
  { title: 'decisions/req', value: (r) => (r.decisionsPerRequest ?? 0).toFixed(3) },
]

function columnsFor(results: SimResult[]): Column[] {
  if (!results.some((r) => (r.reuseMs ?? 0) > 0)) return COLUMNS
  const at = COLUMNS.findIndex((c) => c.title === 'batch')
  return [...COLUMNS.slice(0, at), ...REUSE_COLUMNS, ...COLUMNS.slice(at)]
}

/** Aligned plain-text table, one row per result. */
export function formatResultsTable(results: SimResult[]): string {
  const COLUMNS = columnsFor(results)
  const rows = [COLUMNS.map((c) => c.title), ...results.map((r) => COLUMNS.map((c) => c.value(r)))]
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n')
}

/** The same table in GitHub markdown. */
export function formatResultsMarkdown(results: SimResult[]): string {
  const COLUMNS = columnsFor(results)
  const head = `| ${COLUMNS.map((c) => c.title).join(' | ')} |`
  const rule = `|${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`
  return [head, rule, ...results.map((r) => `| ${COLUMNS.map((c) => c.value(r)).join(' | ')} |`)].join('\n')
}
