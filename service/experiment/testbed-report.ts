// The table and verdict of `l7 experiment --testbed`: one line per policy and user count
// (measured beside simulated), the use of every host at each policy's heaviest step, and a
// paragraph written from the figures: which policy led at saturation, what bound each, and
// where the simulator and the test bed part and why.

import type { TestbedExperimentReport, TestbedRun } from './testbed.js'

const pct = (x: number) => `${x >= 0 ? '+' : ''}${Math.round(100 * x)}%`
const fixed = (x: number, digits = 0) => x.toFixed(digits)

/** Within 20%: the issue's bar for sim against real. */
export const AGREEMENT = 0.2

function line(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ')
}

/** The heaviest (last) step of each policy: the one at or past the knee. */
export function saturationRuns(report: TestbedExperimentReport): TestbedRun[] {
  const last = new Map<string, TestbedRun>()
  for (const run of report.runs) {
    const seen = last.get(run.policy)
    if (!seen || run.users >= seen.users) last.set(run.policy, run)
  }
  return [...last.values()]
}

/** The step of each policy with the highest measured throughput. */
export function peakRuns(report: TestbedExperimentReport): TestbedRun[] {
  const best = new Map<string, TestbedRun>()
  for (const run of report.runs) {
    const seen = best.get(run.policy)
    if (!seen || run.throughput > seen.throughput) best.set(run.policy, run)
  }
  return [...best.values()]
}

export function formatTestbedTable(report: TestbedExperimentReport): string {
  const o = report.options
  const out: string[] = []
  const disk = report.scaled.disk ? `disk seek ${report.scaled.disk.seekMs} ms, ${report.scaled.disk.mbps} MB/s` : 'no disk'
  out.push(
    `Test bed: ${o.nodes} nodes, ${o.clients} client machines, HAProxy front, scale ${o.scale}: links ${report.scaled.linkMbps} Mb/s,\n` +
      `${disk}; cache ${o.cacheMb} MiB per node; ${o.warmupS} s warm-up + ${o.durationS} s per step.`,
  )
  const widths = [10, 5, 7, 7, 5, 7, 7, 5, 5, 6, 17]
  out.push(line(['policy', 'users', 'req/s', 'sim', 'diff', 'p50 ms', 'sim', 'diff', 'hit', 'errors', 'bound by'], widths))
  for (const r of report.runs) {
    out.push(
      line(
        [
          r.policy,
          String(r.users),
          fixed(r.throughput, 1),
          r.sim ? fixed(r.sim.throughput, 1) : '-',
          r.simError ? pct(r.simError.throughput) : '-',
          fixed(r.latencyMs.p50),
          r.sim ? fixed(r.sim.p50ResponseMs) : '-',
          r.simError ? pct(r.simError.p50) : '-',
          fixed(r.hitRate, 2),
          String(r.errors),
          `${r.bottleneck.resource} ${r.bottleneck.host} ${Math.round(100 * r.bottleneck.utilisation)}%`,
        ],
        widths,
      ),
    )
  }
  out.push('')
  out.push('Use of each host at each policy\'s heaviest step, percent: link (busier direction) / disk / CPU of one core')
  for (const r of saturationRuns(report)) {
    const hosts = r.hosts
      .filter((h) => h.role !== 'front')
      .map((h) => `${h.host} ${Math.round(100 * h.link)}${h.disk !== undefined ? `/${Math.round(100 * h.disk)}` : h.role === 'node' ? '/-' : ''}${h.cpu !== undefined ? `/${Math.round(100 * h.cpu)}` : ''}`)
    out.push(`  ${`${r.policy} ${r.users}`.padEnd(14)} ${hosts.join('  ')}`)
  }
  out.push('')
  out.push(verdict(report))
  out.push('')
  out.push(
    'Legend: req/s, hit (cache hit ratio) and the use figures are counted on the servers over the measured ' +
      'interval; p50 is the clients\' median response time (from the scheduled send). sim: the simulator on the same ' +
      'configuration; diff: sim against measured. Disk use is estimated from the misses each node counted and the ' +
      'bytes clients received for misses. Times are in the scaled world (scale x slower than the seed\'s cluster).',
  )
  return out.join('\n')
}

/** One paragraph from the figures. */
export function verdict(report: TestbedExperimentReport): string {
  const peaks = peakRuns(report).sort((a, b) => b.throughput - a.throughput)
  if (peaks.length === 0) return 'No run finished.'
  const parts: string[] = []
  const best = peaks[0]
  const worst = peaks[peaks.length - 1]
  if (peaks.length > 1) {
    const spread = best.throughput / worst.throughput - 1
    parts.push(
      `At their best step ${best.policy} served most (${fixed(best.throughput, 1)} req/s at ${best.users} users), ` +
        `${pct(spread)} over ${worst.policy} (${fixed(worst.throughput, 1)} req/s)` +
        (spread < 0.1 ? '; within 10%, which is about the spread between repeated runs on a loaded machine, so no policy is shown better here.' : '.'),
    )
  }
  const bound = saturationRuns(report).map((r) => `${r.policy} by ${r.bottleneck.resource} (${Math.round(100 * r.bottleneck.utilisation)}%, hit ratio ${fixed(r.hitRate, 2)})`)
  parts.push(`At the heaviest step each was bound by: ${bound.join(', ')}.`)
  const maxCpu = Math.max(0, ...report.runs.flatMap((r) => r.hosts.filter((h) => h.role === 'node').map((h) => h.cpu ?? 0)))
  parts.push(`Node CPU peaked at ${Math.round(100 * maxCpu)}% of a core: ${maxCpu < 0.7 ? 'the CPUs were not what bound the runs' : 'CPU was a limit, raise --scale'}.`)
  const simmed = report.runs.filter((r) => r.simError)
  if (simmed.length > 0) {
    const offT = simmed.filter((r) => Math.abs(r.simError!.throughput) > AGREEMENT)
    const offP = simmed.filter((r) => Math.abs(r.simError!.p50) > AGREEMENT)
    const where = (runs: TestbedRun[]) => runs.map((r) => `${r.policy}@${r.users}`).join(', ')
    parts.push(
      `Simulator against test bed: throughput within ${100 * AGREEMENT}% in ${simmed.length - offT.length} of ${simmed.length} steps` +
        (offT.length ? ` (not: ${where(offT)})` : '') +
        `; median response time within ${100 * AGREEMENT}% in ${simmed.length - offP.length} of ${simmed.length}` +
        (offP.length ? ` (not: ${where(offP)})` : '') +
        '. Where they part: the model has no TCP (a connection per request pays its handshake and slow start in round ' +
        'trips that each wait behind a loaded link\'s queue, where the model queues a response once), and it hands ' +
        'off by TCP handoff where the test bed relays: it is given link rate / (1 + handoff fraction) for the relay\'s ' +
        'second hop, but puts all of a request\'s bytes on the serving node\'s link, while on the test bed the second ' +
        'hop leaves from the receiving node, which the round-robin front spreads evenly; so with locality-aware ' +
        'policies (uneven serving loads) the model\'s busiest link binds first and it saturates lower.',
    )
  }
  return parts.join(' ')
}
