// A generated workload on disk: workload.json (the parameters and a summary: the file-set
// description), SURGE's mout.txt/objout.txt/name.txt, and trace.l7 (the timed requests of
// the chosen number of users in our trace format).
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidArgumentError } from '../core/errors.js'
import { writeTrace } from '../trace/writer.js'
import { readMout, writeSurgeFiles, type SurgeFile } from './files.js'
import { generateSurge, type SurgeParams, type SurgeWorkload } from './generate.js'
import { surgeTraceRecords } from './users.js'

export const WORKLOAD_JSON = 'workload.json'
export const TRACE_FILE = 'trace.l7'

export interface WorkloadSummary {
  format: 'l7-surge-workload'
  version: 1
  params: SurgeParams
  users: number
  files: number
  objects: number
  loners: number
  requests: { objects: number; files: number }
  bytes: { total: number; smallest: number; largest: number }
}

export function summarize(workload: SurgeWorkload, users: number): WorkloadSummary {
  const sizes = workload.files.map((f) => f.size)
  let fileRequests = 0
  for (const object of workload.sequence) fileRequests += workload.objects[object].length
  return {
    format: 'l7-surge-workload',
    version: 1,
    params: workload.params,
    users,
    files: workload.files.length,
    objects: workload.objects.length,
    loners: workload.objects.filter((o) => o.length === 1 && workload.files[o[0]].group === 3).length,
    requests: { objects: workload.sequence.length, files: fileRequests },
    bytes: { total: sizes.reduce((a, b) => a + b, 0), smallest: Math.min(...sizes), largest: Math.max(...sizes) },
  }
}

export async function writeWorkloadDir(dir: string, workload: SurgeWorkload, options: { users: number }): Promise<WorkloadSummary> {
  await mkdir(dir, { recursive: true })
  const summary = summarize(workload, options.users)
  await writeFile(join(dir, WORKLOAD_JSON), JSON.stringify(summary, null, 2) + '\n')
  await writeSurgeFiles(dir, workload, workload.sequence)
  await writeTrace(join(dir, TRACE_FILE), surgeTraceRecords(workload, options))
  return summary
}

/** The workload.json of a generated directory, or undefined for a directory from SURGE itself. */
export async function readWorkloadSummary(dir: string): Promise<WorkloadSummary | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, WORKLOAD_JSON), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const summary = JSON.parse(text) as WorkloadSummary
  if (summary.format !== 'l7-surge-workload' || summary.version !== 1) {
    throw new InvalidArgumentError(`${join(dir, WORKLOAD_JSON)}: not an l7 SURGE workload description (version 1)`)
  }
  return summary
}

/** Regenerates a directory's workload from its workload.json (deterministic for the seed). */
export async function loadWorkload(dir: string): Promise<SurgeWorkload> {
  const summary = await readWorkloadSummary(dir)
  if (!summary) throw new InvalidArgumentError(`${dir}: no ${WORKLOAD_JSON} (only directories made by \`l7 trace generate\` can be regenerated)`)
  return generateSurge(summary.params)
}

/** The file set of a directory: its sizes from mout.txt, its content seed from workload.json (0 for SURGE's own). */
export async function readFileSet(dir: string): Promise<{ files: SurgeFile[]; seed: number }> {
  const summary = await readWorkloadSummary(dir)
  const { files } = await readMout(join(dir, 'mout.txt'))
  return { files, seed: summary?.params.seed ?? 0 }
}
