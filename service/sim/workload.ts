// Adapters from the project's workloads to the model's integer form: a SURGE workload
// (closed loop) or a trace (open loop). Files are keyed by the same hash the nodes compute.

import { InvalidArgumentError } from '../core/errors.js'
import { hashKey } from '../policy/hash.js'
import { surgeUrl } from '../surge/files.js'
import { generateSurge, SURGE_PRESETS, type SurgeParams, type SurgeWorkload } from '../surge/generate.js'
import { readTraceBatches, type ReadTraceOptions } from '../trace/reader.js'
import type { TraceRecord } from '../trace/types.js'
import { STATIONARY_BLOCK } from './readings.js'
import type { ClosedLoopWorkload, OpenLoopWorkload } from './types.js'

/** SURGE user equivalents: the file set, objects, name.txt sequence and Pareto think times. */
export function closedLoopFromSurge(surge: SurgeWorkload): ClosedLoopWorkload {
  const count = surge.files.length
  const sizes = new Float64Array(count)
  const hashes = new Uint32Array(count)
  for (let i = 0; i < count; i++) {
    sizes[i] = surge.files[i].size
    hashes[i] = hashKey(surgeUrl(i))
  }
  const objectStart = new Int32Array(surge.objects.length + 1)
  let total = 0
  for (let o = 0; o < surge.objects.length; o++) {
    objectStart[o] = total
    total += surge.objects[o].length
  }
  objectStart[surge.objects.length] = total
  const objectFiles = new Int32Array(total)
  let at = 0
  for (const object of surge.objects) for (const file of object) objectFiles[at++] = file
  const { k, alpha } = surge.params.inactiveOff
  const kUs = k * 1e6
  const exponent = -1 / alpha
  return {
    kind: 'closed',
    files: { sizes, hashes },
    objectStart,
    objectFiles,
    sequence: Int32Array.from(surge.sequence),
    // Pareto by inversion: k * U^(-1/alpha), U in (0, 1].
    offTimeUs: (uniform) => kUs * Math.pow(1 - uniform(), exponent),
    startSpreadUs: kUs,
  }
}

/**
 * An open-loop trace: each record arrives at its own time. Files are the distinct keys; a
 * file's size is the largest size seen for it (records with unknown size count as
 * `unknownSize` bytes). Out-of-order timestamps (a sampled log) are sorted, stably.
 */
export function openLoopFromTrace(records: Iterable<TraceRecord>, unknownSize = 10_240): OpenLoopWorkload {
  const fileOfHash = new Map<number, number>()
  const sizes: number[] = []
  const hashes: number[] = []
  const times: number[] = []
  const files: number[] = []
  for (const r of records) {
    const hash = hashKey(r.url)
    let file = fileOfHash.get(hash)
    if (file === undefined) {
      file = sizes.length
      fileOfHash.set(hash, file)
      sizes.push(0)
      hashes.push(hash)
    }
    const size = r.size >= 0 ? r.size : unknownSize
    if (size > sizes[file]) sizes[file] = size
    times.push(r.timeUs)
    files.push(file)
  }
  if (times.length === 0) throw new InvalidArgumentError('the trace has no requests')
  const order = times.map((_, i) => i)
  let sorted = true
  for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) sorted = false
  if (!sorted) order.sort((a, b) => times[a] - times[b] || a - b)
  const origin = times[order[0]]
  const arrivalUs = new Float64Array(order.length)
  const file = new Int32Array(order.length)
  order.forEach((index, i) => {
    arrivalUs[i] = times[index] - origin
    file[i] = files[index]
  })
  return { kind: 'open', files: { sizes: Float64Array.from(sizes), hashes: Uint32Array.from(hashes) }, arrivalUs, file }
}

export const SEED_PRESET = 'hong-noh-2005'

export interface SurgeWorkloadOptions {
  /** A named SURGE preset (default: the seed's 2000 files, about 50 MB); the fields below override it. */
  preset?: string
  files?: number
  /** Object requests in the name.txt sequence the users walk. */
  requests?: number
  seed?: number
  /** Zipf exponent of object popularity. */
  zipf?: number
  /** The stationary ordering of the request sequence (blocks of STATIONARY_BLOCK object requests; service/surge/generate.ts). */
  stationary?: boolean
  /** What the Zipf ranks are over (service/surge/generate.ts SurgeParams.popularity). */
  popularity?: 'objects' | 'files'
}

/** The SURGE parameters a workload option set resolves to (preset, then overrides). */
export function surgeParams(options: SurgeWorkloadOptions = {}): Partial<SurgeParams> {
  const name = options.preset ?? SEED_PRESET
  const preset = SURGE_PRESETS[name]
  if (preset === undefined) throw new InvalidArgumentError(`unknown SURGE preset "${name}" (one of ${Object.keys(SURGE_PRESETS).join(', ')})`)
  const params: Partial<SurgeParams> = { ...preset }
  if (options.files !== undefined) params.files = options.files
  if (options.requests !== undefined) params.requests = options.requests
  if (options.seed !== undefined) params.seed = options.seed
  if (options.zipf !== undefined) params.zipfAlpha = options.zipf
  if (options.stationary === true) params.stationaryBlock = STATIONARY_BLOCK
  if (options.popularity === 'files') params.popularity = 'files'
  return params
}

/** A SURGE workload from the project's generator (service/surge/), in the model's form. */
export function surgeWorkload(options: SurgeWorkloadOptions = {}): ClosedLoopWorkload {
  return closedLoopFromSurge(generateSurge(surgeParams(options)))
}

/** An open-loop workload from any trace format readTrace understands. */
export async function traceWorkload(path: string, options: ReadTraceOptions = {}): Promise<OpenLoopWorkload> {
  const records: TraceRecord[] = []
  for await (const batch of readTraceBatches(path, options)) for (const r of batch) records.push(r)
  return openLoopFromTrace(records)
}
