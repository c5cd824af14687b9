// Faults on the test bed, and what the clients saw. For each fault: a fresh test bed, closed-loop
// SURGE users on every client machine through the HAProxy front, and `faultAtS` seconds in, one of:
//   link-cut        node 1's link taken down at the bridge (the host and its process stay up)
//   node-kill       node 1's process killed (SIGKILL)
//   dispatcher-kill the dispatcher's process killed (SIGKILL); nodes must go on without it
// From the replays' per-second timelines, aligned on the fault: requests failed before and after
// it, throughput before and after, and the time to recover as clients see it: from the fault to
// the end of the last second in which a request failed (0: none failed). A request stuck on a dead
// host fails when the client's timeout (--timeout of replay, 5 s here) expires, so that time counts.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InvalidArgumentError } from '../core/errors.js'
import { removeOnExit } from '../core/atomic-write.js'
import type { DiskModel } from '../node/disk.js'
import type { PolicyName } from '../policy/types.js'
import type { ReplayResult } from '../replay/types.js'
import { generateSurge, materialize } from '../surge/index.js'
import { surgeParams } from '../sim/workload.js'
import { stopReplays, writeClientWorkloads } from './clients.js'
import { startTestbed } from './testbed.js'

export const FAULTS = ['link-cut', 'node-kill', 'dispatcher-kill'] as const
export type FaultName = (typeof FAULTS)[number]

export interface FaultOptions {
  faults: FaultName[]
  policy: PolicyName
  nodes: number
  clients: number
  users: number
  /** Seconds of load before the fault, and after it. */
  faultAtS: number
  afterS: number
  linkMbps: number
  scale: number
  cacheMb: number
  disk: DiskModel | null
  /** Per-request timeout of the clients, seconds: a request stuck on a dead host fails after it. */
  timeoutS: number
  onProgress?: (line: string) => void
}

export const DEFAULT_FAULTS: Readonly<Omit<FaultOptions, 'onProgress'>> = Object.freeze({
  faults: [...FAULTS],
  policy: 'lard' as PolicyName,
  nodes: 4,
  clients: 4,
  users: 40,
  faultAtS: 6,
  afterS: 12,
  linkMbps: 100,
  scale: 10,
  cacheMb: 1,
  disk: { seekMs: 10, mbps: 20 },
  timeoutS: 5,
})

export interface FaultOutcome {
  fault: FaultName
  /** The test bed's name prefix (its namespaces are `<prefix>n0`, ...). */
  testbed?: string
  /** Responses per second before the fault, and over the last half of the time after it. */
  beforeRps: number
  afterRps: number
  /** Failed requests (connect, timeout, reset, 5xx...) before and after the fault. */
  failedBefore: number
  failedAfter: number
  /** Seconds from the fault to the end of the last second with a failed request (0: none failed). */
  recoverS: number
  /** Per second from the fault (negative: before): responses and failures, all clients together. */
  timeline: { second: number; responses: number; errors: number }[]
}

/** Per-second timelines of the clients, summed on seconds relative to `faultAtMs` (wall clock). */
export function alignTimelines(results: ReplayResult[], faultAtMs: number): FaultOutcome['timeline'] {
  const bySecond = new Map<number, { responses: number; errors: number }>()
  for (const r of results) {
    const startMs = Date.parse(r.startedAt)
    for (const p of r.timeline) {
      // A client's second that overlaps the fault counts as after it (ceil): failures in it may be the fault's.
      const second = Math.ceil((startMs + p.second * 1000 - faultAtMs) / 1000)
      const slot = bySecond.get(second) ?? { responses: 0, errors: 0 }
      slot.responses += p.responses
      slot.errors += p.errors
      bySecond.set(second, slot)
    }
  }
  return [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([second, v]) => ({ second, ...v }))
}

/** The figures of one fault from the aligned timeline (last second dropped: partial). */
export function summarizeFault(fault: FaultName, timeline: FaultOutcome['timeline']): FaultOutcome {
  const full = timeline.slice(0, -1)
  const before = full.filter((p) => p.second < 0 && p.second >= -4)
  const after = full.filter((p) => p.second >= 0)
  const beforeRps = before.length ? before.reduce((a, p) => a + p.responses, 0) / before.length : 0
  // After: the second half of the time after the fault, once the cluster has settled.
  const tail = after.slice(Math.floor(after.length / 2))
  const afterRps = tail.length ? tail.reduce((a, p) => a + p.responses, 0) / tail.length : 0
  const failing = after.filter((p) => p.errors > 0)
  const recoverS = failing.length ? failing[failing.length - 1].second + 1 : 0
  return {
    fault,
    beforeRps,
    afterRps,
    failedBefore: full.filter((p) => p.second < 0).reduce((a, p) => a + p.errors, 0),
    failedAfter: after.reduce((a, p) => a + p.errors, 0),
    recoverS,
    timeline,
  }
}

export async function runFaults(options: FaultOptions): Promise<FaultOutcome[]> {
  if (options.faults.length === 0) throw new InvalidArgumentError('--faults: no fault to run')
  if (options.nodes < 2) throw new InvalidArgumentError('--nodes: faults need at least 2 nodes (node 1 fails)')
  const progress = options.onProgress ?? (() => {})
  const workload = generateSurge(surgeParams())
  const work = await mkdtemp(join(tmpdir(), 'l7-testbed-faults-'))
  const forget = removeOnExit(work)
  const outcomes: FaultOutcome[] = []
  try {
    const docroot = join(work, 'www')
    await materialize(workload.files, workload.params.seed, { docroot })
    const dirs = await writeClientWorkloads(join(work, 'clients'), workload, options.clients)
    for (const fault of options.faults) {
      progress(`${fault}: starting the test bed`)
      const bed = await startTestbed({ ...options, docroot })
      try {
        const perClient = Math.max(1, Math.round(options.users / options.clients))
        const procs = dirs.map((dir, c) =>
          bed.startOnClient(c, `replay on client ${c}`, [
            'replay', dir, '--mode', 'closed', '--users', String(perClient), '--http1.0', '--target', bed.front!.url,
            '--duration', `${options.faultAtS + options.afterS + 10}s`, '--timeout', `${options.timeoutS}s`, '--json',
          ]),
        )
        let results: ReplayResult[]
        let faultAtMs = 0
        try {
          // The replays need about a second to start; the fault comes faultAtS after that.
          await new Promise((r) => setTimeout(r, (options.faultAtS + 1) * 1000))
          progress(`${fault}: injecting the fault`)
          faultAtMs = Date.now()
          if (fault === 'link-cut') await bed.setLinkUp(bed.nodes[1].host, false)
          else if (fault === 'node-kill') await bed.killNode(1)
          else await bed.killDispatcher()
          await new Promise((r) => setTimeout(r, options.afterS * 1000))
        } finally {
          results = await stopReplays(procs)
        }
        const outcome = { ...summarizeFault(fault, alignTimelines(results, faultAtMs)), testbed: bed.info().prefix }
        progress(
          `${fault}: ${outcome.failedAfter} requests failed after the fault, ` +
            `the last failure ${outcome.recoverS} s after it`,
        )
        outcomes.push(outcome)
      } finally {
        await bed.close()
      }
    }
    return outcomes
  } finally {
    await rm(work, { recursive: true, force: true })
    forget()
  }
}

export function formatFaults(outcomes: FaultOutcome[], options: Pick<FaultOptions, 'policy' | 'users' | 'timeoutS' | 'faultAtS' | 'afterS'>): string {
  const out = [
    `Faults on the test bed: ${options.policy}, ${options.users} users through the HAProxy front, clients time out after ` +
      `${options.timeoutS} s; the fault ${options.faultAtS} s in, ${options.afterS} s after it measured.`,
    `${'fault'.padEnd(16)} ${'req/s before'.padStart(12)} ${'after'.padStart(7)} ${'failed before'.padStart(13)} ${'after'.padStart(6)} ${'last failure'.padStart(13)}`,
  ]
  for (const o of outcomes) {
    out.push(
      `${o.fault.padEnd(16)} ${o.beforeRps.toFixed(1).padStart(12)} ${o.afterRps.toFixed(1).padStart(7)} ${String(o.failedBefore).padStart(13)} ` +
        `${String(o.failedAfter).padStart(6)} ${`${o.recoverS} s`.padStart(13)}`,
    )
  }
  out.push('')
  out.push('Failures and responses per second from the fault (second 0), all clients together:')
  for (const o of outcomes) {
    const cells = o.timeline.filter((p) => p.second >= -3).map((p) => `${p.second}:${p.responses}${p.errors ? `/${p.errors}x` : ''}`)
    out.push(`  ${o.fault.padEnd(16)} ${cells.join(' ')}`)
  }
  return out.join('\n')
}
