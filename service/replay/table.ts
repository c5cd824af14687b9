// A replay's results as plain-text tables for the terminal.
import type { GroupResult, LatencySummary, ReplayResult } from './types.js'

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, column) => Math.max(...cells.map((row) => row[column].length)))
  return cells.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')).join('\n')
}

const ms = (value: number): string => value.toFixed(value >= 100 ? 1 : 3)

/** Blank cells, not zeros, when nothing was measured (say, every request failed to connect). */
function latencyCells(summary: LatencySummary, keys: Array<keyof LatencySummary>): string[] {
  return keys.map((key) => (summary.count === 0 ? '' : ms(summary[key])))
}

function latencyRow(name: string, summary: LatencySummary): string[] {
  return [name, ...latencyCells(summary, ['p50', 'p90', 'p99', 'p999', 'p9999', 'max', 'mean'])]
}

function groupRows(groups: GroupResult[]): string[][] {
  return groups.map((group) => [
    group.key,
    String(group.requests),
    String(group.ok),
    String(group.errors),
    ...latencyCells(group.latencyMs, ['p50', 'p99', 'max']),
  ])
}

const GROUP_HEADER = ['', 'requests', 'ok', 'errors', 'p50 ms', 'p99 ms', 'max ms']

/**
 * The results as text tables for a terminal. Warnings in `shown` were printed already (live,
 * as they happened) and are not repeated.
 */
export function formatResultTable(result: ReplayResult, shown: ReadonlySet<string> = new Set()): string {
  const errors = Object.entries(result.errorsByKind)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
  const lines = [
    `${result.mode} replay of ${result.targets.join(', ')} (${result.connectionStyle}, ${result.client} client), ${result.durationS.toFixed(2)} s measured` +
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
  const skipped = Object.entries(result.skipped)
  if (skipped.length > 0) {
    const total = skipped.reduce((sum, [, count]) => sum + count, 0)
    lines.push(`${total} trace requests skipped, not sent: ` + skipped.map(([reason, count]) => `${count} ${reason}`).join('; '))
  }
  for (const warning of result.warnings) if (!shown.has(warning)) lines.push(`warning: ${warning}`)
  return lines.join('\n')
}
