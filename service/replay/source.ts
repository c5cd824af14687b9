// What `l7 replay TRACE` reads: any trace the trace readers know (streamed, re-opened for each
// pass when the run loops; bad lines counted and skipped), or, in closed mode, a SURGE
// directory driven as SURGE's own user equivalents (shared object sequence, Pareto think times).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidArgumentError } from '../core/errors.js'
import { createSurgeUsers, loadWorkload, readSurgeFiles, readWorkloadSummary, resolveSurgeParams } from '../surge/index.js'
import type { SurgeWorkload } from '../surge/index.js'
import { detectTraceFormat, readTrace } from '../trace/index.js'
import type { TraceFormat, TraceProblem } from '../trace/types.js'
import type { ObjectSource, RecordSource } from './types.js'

export interface ReplaySource {
  records?: RecordSource
  objects?: ObjectSource
  /** Filled while the trace is read. */
  problems: TraceProblem[]
  format: TraceFormat
}

export async function openReplaySource(
  path: string,
  options: { format?: TraceFormat; closed: boolean; users?: number; loop: boolean },
): Promise<ReplaySource> {
  const format = options.format ?? (await detectTraceFormat(path))
  const problems: TraceProblem[] = []
  if (format === 'surge' && options.closed) {
    const users = options.users ?? 1
    return { objects: await surgeObjectSource(path, users, options.loop), problems, format }
  }
  const records = () => readTrace(path, { format, onProblem: (problem) => problems.push(problem) })
  return { records, problems, format }
}

/**
 * SURGE user equivalents over a directory: the workload l7 generated (workload.json: the
 * same think times as `l7 trace generate`), or SURGE's own mout/objout/name.txt with the
 * default OFF-time model.
 */
export async function surgeObjectSource(path: string, users: number, wrap: boolean): Promise<ObjectSource> {
  const dir = path.endsWith('.txt') ? join(path, '..') : path
  const workload = (await readWorkloadSummary(dir)) ? await loadWorkload(dir) : await workloadFromSurgeFiles(dir)
  return surgeWorkloadObjects(workload, users, wrap)
}

/** SURGE user equivalents over a workload in memory: shared sequence cursor, Pareto think times. */
export function surgeWorkloadObjects(workload: SurgeWorkload, users: number, wrap: boolean): ObjectSource {
  const surgeUsers = createSurgeUsers(workload, users, { wrap })
  return {
    nextObject(user) {
      const visit = surgeUsers[user].nextVisit()
      if (!visit) return undefined
      const line = visit.position + 1
      const records = visit.files.map((file) => ({ timeUs: 0, user, method: 'GET', url: file.url, size: file.size, status: 0, line }))
      return { records, offMs: visit.thinkUs / 1000 }
    },
    startOffsetMs(user) {
      return surgeUsers[user].startUs / 1000
    },
  }
}

async function workloadFromSurgeFiles(dir: string): Promise<SurgeWorkload> {
  const { files, refs, objects } = await readSurgeFiles(dir)
  const sequence: number[] = []
  const lines = (await readFile(join(dir, 'name.txt'), 'latin1')).split('\n')
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].trim()
    if (text === '' || text.startsWith('#')) continue
    const object = Number(text)
    if (!Number.isInteger(object) || object < 0 || object >= objects.length) {
      throw new InvalidArgumentError(`${join(dir, 'name.txt')} line ${i + 1}: object index ${JSON.stringify(text)} is not in objout.txt`)
    }
    sequence.push(object)
  }
  return { params: resolveSurgeParams({ files: files.length }), files, objects, objectRequests: [], sequence, refs }
}
