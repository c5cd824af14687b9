// The test bed's client machines: one SURGE directory per machine (the same file set and
// objects, the request sequence started at a different place, so machines do not replay the
// same objects in step), `l7 replay` started on each, and their JSON results read back after
// a SIGINT (replay then prints what it measured instead of draining for seconds).

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { L7Error } from '../core/errors.js'
import type { ReplayResult } from '../replay/types.js'
import { writeSurgeFiles, type SurgeWorkload } from '../surge/index.js'
import type { HostProcess } from './process.js'

/** The sequence rotated by `shift`. */
export function rotated(sequence: number[], shift: number): number[] {
  if (sequence.length === 0) return []
  const k = ((shift % sequence.length) + sequence.length) % sequence.length
  return [...sequence.slice(k), ...sequence.slice(0, k)]
}

/** mout/objout/name.txt per client machine (read by `l7 replay DIR --mode closed` as SURGE's own output). */
export async function writeClientWorkloads(dir: string, workload: SurgeWorkload, clients: number): Promise<string[]> {
  const dirs: string[] = []
  for (let c = 0; c < clients; c++) {
    const d = join(dir, `client${c}`)
    await mkdir(d, { recursive: true })
    await writeSurgeFiles(d, workload, rotated(workload.sequence, Math.floor((c * workload.sequence.length) / clients)))
    dirs.push(d)
  }
  return dirs
}

/** Stops the replays (SIGINT; SIGKILL after 15 s) and parses their --json output. */
export async function stopReplays(procs: HostProcess[]): Promise<ReplayResult[]> {
  for (const p of procs) if (p.process.exitCode === null) p.process.kill('SIGINT')
  const timer = setTimeout(() => procs.forEach((p) => p.process.kill('SIGKILL')), 15_000)
  const codes = await Promise.all(procs.map((p) => p.exited))
  clearTimeout(timer)
  return procs.map((p, c) => {
    const out = p.stdout()
    const start = out.indexOf('{')
    if (start < 0) throw new L7Error('L7_TESTBED_REPLAY', `l7 replay on client ${c} failed (${codes[c]}): ${p.stderrTail()}`)
    return JSON.parse(out.slice(start)) as ReplayResult
  })
}
