// What `l7 experiment` prints on a terminal: a compact table (at most 100 columns; every figure
// is in --json and the HTML report), a legend, and a paragraph written from the figures that
// says which policy led, by how much, what bound the run, and whether DS's fast path acted.
import { cpus } from 'node:os'
import { DEFAULT_PARAMS } from '../policy/types.js'
import { COLUMNS, f } from './columns.js'
import type { ExperimentReport, PolicyOutcome } from './index.js'

export const TERMINAL_WIDTH = 100

/** The columns the terminal shows (every one is in --json and the HTML report). */
const COMPACT_TITLES = ['policy', 'conn/s', 'mean ms', 'p99 ms', 'errors', 'hit', 'local', 'handoff', 'msgs/req', 'max/mean', 'sim conn/s']
const COMPACT = COMPACT_TITLES.map((title) => COLUMNS.find(([t]) => t === title)!)

export const LEGEND = [
  'conn/s      requests completed per second over the measured interval (sim: l7 simulate, same setup)',
  'mean, p99   response time, ms, from each request\'s scheduled send (no coordinated omission)',
  'hit         share of requests served from the node\'s memory cache (a miss reads the emulated disk)',
  'local       share served where it arrived without asking the dispatcher (DS\'s fast path)',
  'handoff     share handed to another node; msgs/req: control messages per request',
  'max/mean    requests of the busiest node over the mean (1.00 = perfectly even)',
]

/** The compact table, columns right-aligned under their titles. */
export function compactTable(outcomes: PolicyOutcome[]): string {
  const rows = [COMPACT.map(([title]) => title), ...outcomes.map((o) => COMPACT.map(([, value]) => value(o)))]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n')
}

/** `text` broken into lines of at most `width` characters at spaces. */
export function wrap(text: string, width = TERMINAL_WIDTH): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines.join('\n')
}

const pct = (x: number) => `${Math.round(x * 100)}%`

/** What limited the leader's run: the machine's CPU, the emulated disk, or the users themselves. */
function bound(report: ExperimentReport, o: PolicyOutcome, cores: number): string {
  const { options } = report
  const cpuShare = (o.nodeCpuUsPerRequest * o.throughput) / 1e6 / cores
  let diskShare = 0
  if (options.disk) {
    // Per node: misses per second times the time one miss holds the disk (seek + transfer).
    const perMissS = options.disk.seekMs / 1000 + report.meanRequestBytes / (options.disk.mbps * 1e6)
    diskShare = ((1 - o.hitRate) * o.throughput * perMissS) / options.nodes
  }
  const figures = `node CPU about ${pct(cpuShare)} of this machine's ${cores} cores, emulated disks about ${pct(diskShare)} busy`
  if (diskShare >= 0.7 && diskShare >= cpuShare) {
    return `The emulated disks bound the run (${figures}): the policy that keeps more requests in memory (higher hit) serves more.`
  }
  if (cpuShare >= 0.7) {
    return `This machine's CPU bound the run (${figures}): the policies compete for the same cores as the load generator, so the ranking reflects CPU per request more than locality.`
  }
  return (
    `The ${options.users} users bound the run, not the cluster (${figures}): closed-loop users think between objects, so ` +
    `throughput follows what they ask for and policies differ mainly in response time; raise --users to reach saturation.`
  )
}

/** The DS sentence: did its fast path (serve a hot target where it lands) act, and if not why. */
function fastPath(report: ExperimentReport, ds: PolicyOutcome): string {
  const threshold = report.options.params?.hotThreshold ?? DEFAULT_PARAMS.hotThreshold
  if (ds.localFraction >= 0.005) {
    return `DS's fast path acted: ${pct(ds.localFraction)} of its requests were served where they arrived without asking the dispatcher (${f(ds.dispatcherMsgsPerRequest, 2)} control messages per request).`
  }
  const hottest = report.topFileShare * ds.throughput
  return (
    `DS's fast path did not act (local ${f(ds.localFraction, 3)}): a file becomes hot at ${threshold} requests/s, and the most ` +
    `requested file got about ${f(hottest, 1)} requests/s here (${(report.topFileShare * 100).toFixed(1)}% of ${f(ds.throughput, 1)} conn/s), ` +
    `so every DS request went through the dispatcher, as under lard-cost (lower it with --param hotThreshold=N).`
  )
}

/** One paragraph, from the figures: who led and by how much, what bound the run, DS's fast path. */
export function verdict(report: ExperimentReport, cores = cpus().length): string {
  const ranked = [...report.outcomes].sort((a, b) => b.throughput - a.throughput)
  if (ranked.length === 0) return 'No policy finished its measured interval, so there is nothing to compare.'
  const [lead, second] = ranked
  const parts: string[] = []
  if (!second) {
    parts.push(`Only ${lead.policy} was measured: ${f(lead.throughput, 1)} conn/s, mean response ${f(lead.meanMs, 1)} ms.`)
  } else {
    const gain = second.throughput > 0 ? lead.throughput / second.throughput - 1 : Infinity
    if (gain < 0.03) {
      const fastest = [...ranked].sort((a, b) => a.meanMs - b.meanMs)[0]
      const slowest = [...ranked].sort((a, b) => b.meanMs - a.meanMs)[0]
      parts.push(
        `No policy led on throughput: ${lead.policy} and ${second.policy} are within ${(gain * 100).toFixed(1)}% (${f(lead.throughput, 1)} and ${f(second.throughput, 1)} conn/s). ` +
          `${fastest.policy} answered fastest (mean ${f(fastest.meanMs, 1)} ms against ${f(slowest.meanMs, 1)} ms for ${slowest.policy}, hit ${f(fastest.hitRate, 3)} against ${f(slowest.hitRate, 3)}).`,
      )
    } else {
      const last = ranked[ranked.length - 1]
      parts.push(
        `${lead.policy} led: ${f(lead.throughput, 1)} conn/s, ${(gain * 100).toFixed(0)}% more than ${second.policy}` +
          (last !== second ? ` and ${last.throughput > 0 ? ((lead.throughput / last.throughput - 1) * 100).toFixed(0) : '-'}% more than ${last.policy}` : '') +
          `, with mean response ${f(lead.meanMs, 1)} ms and hit rate ${f(lead.hitRate, 3)} (${second.policy}: ${f(second.meanMs, 1)} ms, ${f(second.hitRate, 3)}).`,
      )
    }
  }
  parts.push(bound(report, lead, cores))
  const ds = report.outcomes.find((o) => o.policy === 'ds')
  if (ds) parts.push(fastPath(report, ds))
  const errors = report.outcomes.reduce((a, o) => a + o.errors, 0)
  if (errors > 0) parts.push(`${errors} requests failed in all (see the errors column).`)
  if (report.interrupted) {
    parts.push(`Interrupted: ${report.interrupted.measured} of ${report.interrupted.of} policies were measured; the one running was dropped and none was simulated.`)
  }
  return wrap(parts.join(' '))
}
