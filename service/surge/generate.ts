// The SURGE workload model (Barford & Crovella, SIGMETRICS 1998) as a library: a file set,
// objects (a base file and its embedded files, or a loner), Zipf popularity over objects, and
// the request sequence (name.txt) ordered by LRU stack distance for temporal locality.
// Deterministic for a seed. Defaults are the published distributions (Barford and Crovella, SIGMETRICS 1998; the design brief's WORKLOADS.md).
import { InvalidArgumentError } from '../core/errors.js'
import {
  defaultTailFraction,
  embeddedCountSample,
  lognormalQuantile,
  sizeMixSample,
  type EmbeddedCount,
  type Lognormal,
  type Pareto,
  type SizeMix,
  type Weibull,
} from './distributions.js'
import { GROUP_BASE, GROUP_EMBEDDED, GROUP_LONER, type SurgeFile } from './files.js'
import { Random } from './random.js'

export interface SurgeParams {
  seed: number
  /** Number of files in the file set. */
  files: number
  /** Number of objects; when absent, each object is a loner with probability lonerFraction. */
  objects?: number
  /** Share of objects that are loners when `objects` is not given. */
  lonerFraction: number
  /** Object requests in the sequence (name.txt lines); each fetches all the object's files. */
  requests: number
  sizeBody: Lognormal
  sizeTail: Pareto
  /** Share of files drawn from the tail; default: the body's own mass above the tail's k. */
  tailFraction?: number
  /** Zipf exponent of object popularity: the object of rank r gets requests in proportion to r^-zipfAlpha. */
  zipfAlpha: number
  /**
   * What the Zipf ranks are over. 'objects' or absent (ours): the objects are ranked. 'files'
   * (our reading of SURGE's mout.txt, which gives every file a Zipf count): all files are ranked
   * at random, and an object is requested in proportion to its base file's (a loner's own)
   * weight r^-zipfAlpha; its embedded files come with it. SURGE's own code was not read.
   */
  popularity?: 'objects' | 'files'
  embedded: EmbeddedCount
  /** LRU stack distance (lognormal); null: a plain random permutation (no temporal locality). */
  stackDistance: Lognormal | null
  /**
   * 0 or absent (SURGE's ordering as we read it): one LRU stack over the whole sequence; it is not
   * stationary (an object deep in the initial stack, the hottest included, is only reached
   * once the objects above it are used up, so popular objects crowd the end). N > 0: the
   * requests are first spread evenly over blocks of about N (each object's requests by
   * systematic sampling), and the stack orders each block: every stretch of a few blocks has
   * the whole sequence's popularity, with the same stack-distance locality inside a block.
   */
  stationaryBlock?: number
  /** Think time between objects, seconds (Pareto). */
  inactiveOff: Pareto
  /** Gap between a base file and each embedded file, seconds (Weibull); null: none, as SURGE's code. */
  activeOff: Weibull | null
}

export const DEFAULT_SURGE_PARAMS: Readonly<SurgeParams> = Object.freeze({
  seed: 1,
  files: 2000,
  lonerFraction: 0.5,
  requests: 100_000,
  sizeBody: { mu: 9.357, sigma: 1.318 },
  sizeTail: { k: 133_000, alpha: 1.1 },
  zipfAlpha: 1,
  embedded: { k: 2, alpha: 1.245, max: 150 },
  stackDistance: { mu: 1.5, sigma: 0.8 },
  inactiveOff: { k: 1, alpha: 1.5 },
  activeOff: null,
})

/**
 * The seed paper's file set (Hong & Noh 2005): 2000 files, about 50 MB, 77 B to about 3.1 MB.
 * With the default tail share (the body's mass above 133 KB, 3.2% of files) 2000 files come
 * to about 78 MB (median over seeds), so the preset puts 1% of the files in the Pareto tail
 * (median total 50.1 MB over seeds 1..3000) and takes the first seed (of 1..60000) whose file
 * set has a total within 0.3 MB of 50 MB, a largest file of 3.05-3.2 MB and a smallest of
 * 70-85 B: seed 43800 gives 50,069,205 B, 77 B to 3,132,983 B.
 */
export const SURGE_PRESETS: Readonly<Record<string, Partial<SurgeParams>>> = Object.freeze({
  'hong-noh-2005': { files: 2000, seed: 43800, tailFraction: 0.01 },
})

export interface SurgeWorkload {
  params: SurgeParams
  /** File i is served as /<i>.txt. */
  files: SurgeFile[]
  /** File indices per object: loners first (one index), then base + embedded, as objout.txt. */
  objects: number[][]
  /** Requests per object over the whole sequence (Zipf). */
  objectRequests: number[]
  /** The request sequence of object indices (name.txt). */
  sequence: number[]
  /** Requests per file over the sequence (mout.txt's refs). */
  refs: number[]
}

export function resolveSurgeParams(options: Partial<SurgeParams> = {}): SurgeParams {
  const p: SurgeParams = { ...DEFAULT_SURGE_PARAMS, ...stripUndefined(options) }
  const positiveInt = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InvalidArgumentError(`${name} must be a positive integer, got ${v}`)
  }
  positiveInt('files', p.files)
  positiveInt('objects', p.objects)
  positiveInt('requests', p.requests)
  if (p.stationaryBlock !== undefined && (!Number.isInteger(p.stationaryBlock) || p.stationaryBlock < 0)) throw new InvalidArgumentError(`stationaryBlock must be an integer >= 0, got ${p.stationaryBlock}`)
  if (!Number.isInteger(p.seed)) throw new InvalidArgumentError(`seed must be an integer, got ${p.seed}`)
  if (p.objects !== undefined && p.objects > p.files) throw new InvalidArgumentError(`objects (${p.objects}) cannot exceed files (${p.files})`)
  if (!(p.lonerFraction >= 0 && p.lonerFraction <= 1)) throw new InvalidArgumentError(`lonerFraction must be in [0, 1], got ${p.lonerFraction}`)
  if (p.popularity !== undefined && p.popularity !== 'objects' && p.popularity !== 'files') throw new InvalidArgumentError(`popularity must be objects or files, got ${String(p.popularity)}`)
  if (!(p.zipfAlpha >= 0)) throw new InvalidArgumentError(`zipfAlpha must be >= 0, got ${p.zipfAlpha}`)
  if (!(p.sizeBody.sigma > 0) || !(p.sizeTail.k > 0) || !(p.sizeTail.alpha > 0)) throw new InvalidArgumentError('size distribution parameters must be positive')
  if (p.tailFraction !== undefined && !(p.tailFraction >= 0 && p.tailFraction < 1)) throw new InvalidArgumentError(`tailFraction must be in [0, 1), got ${p.tailFraction}`)
  if (!(p.embedded.k >= 1 && p.embedded.alpha > 0 && p.embedded.max >= 1)) throw new InvalidArgumentError('embedded: need k >= 1, alpha > 0, max >= 1')
  if (!(p.inactiveOff.k > 0 && p.inactiveOff.alpha > 0)) throw new InvalidArgumentError('inactiveOff: need k > 0 and alpha > 0')
  return p
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

export function sizeMixOf(p: SurgeParams): SizeMix {
  return { body: p.sizeBody, tail: p.sizeTail, tailFraction: p.tailFraction ?? defaultTailFraction(p.sizeBody, p.sizeTail) }
}

export function generateFileSizes(p: SurgeParams): number[] {
  const rng = new Random(p.seed, 'sizes')
  const mix = sizeMixOf(p)
  const sizes: number[] = []
  for (let i = 0; i < p.files; i++) sizes.push(Math.max(1, Math.round(sizeMixSample(rng, mix))))
  return sizes
}

/**
 * Embedded-file counts of the compound objects. Without a set object count, objects are made
 * until the files run out, each a loner with probability lonerFraction. With one, counts are
 * drawn until the embedded files fill `files - objects`; the rest of the objects are loners.
 */
export function generateObjectShapes(p: SurgeParams): { loners: number; embeddedCounts: number[] } {
  const rng = new Random(p.seed, 'objects')
  const embeddedCounts: number[] = []
  if (p.objects === undefined) {
    let left = p.files
    let loners = 0
    while (left > 0) {
      if (left === 1 || rng.uniform() < p.lonerFraction) {
        loners++
        left--
        continue
      }
      const m = Math.min(embeddedCountSample(rng, p.embedded), left - 1)
      embeddedCounts.push(m)
      left -= m + 1
    }
    return { loners, embeddedCounts }
  }
  let embeddedLeft = p.files - p.objects
  while (embeddedLeft > 0) {
    const m = Math.min(embeddedCountSample(rng, p.embedded), embeddedLeft)
    embeddedCounts.push(m)
    embeddedLeft -= m
  }
  if (embeddedCounts.length > p.objects) {
    throw new InvalidArgumentError(
      `${p.objects} objects cannot hold ${p.files} files with this embedded-count distribution (it needed ${embeddedCounts.length} compound objects): use more objects`,
    )
  }
  return { loners: p.objects - embeddedCounts.length, embeddedCounts }
}

/** Zipf request counts for n objects in rank order, summing exactly to `total` (largest remainders). */
export function zipfCounts(n: number, total: number, alpha: number): number[] {
  const weights: number[] = []
  for (let r = 1; r <= n; r++) weights.push(Math.pow(r, -alpha))
  return countsFromWeights(weights, total)
}

/** Request counts in proportion to the weights, summing exactly to `total` (largest remainders). */
export function countsFromWeights(weights: number[], total: number): number[] {
  const n = weights.length
  let sum = 0
  for (const w of weights) sum += w
  const exact = weights.map((w) => (w / sum) * total)
  const counts = exact.map(Math.floor)
  let missing = total - counts.reduce((a, b) => a + b, 0)
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (let j = 0; missing > 0; j++, missing--) counts[byRemainder[j % n][1]]++
  return counts
}

/**
 * The request sequence: an LRU stack of the objects with requests left (random initial order);
 * each step draws a stack distance, takes the object that deep (the bottom if deeper), and moves
 * it to the top; an object leaves the stack when its requests are used up. Distances are
 * mostly small (median e^1.5, about 4.5), so taking from near the top of the array is cheap.
 */
export function generateSequence(p: SurgeParams, objectRequests: number[]): number[] {
  const rng = new Random(p.seed, 'sequence')
  if (!p.stackDistance) {
    // no temporal locality: a uniform shuffle of the requests (O(requests), any size)
    const all: number[] = []
    objectRequests.forEach((count, object) => {
      for (let i = 0; i < count; i++) all.push(object)
    })
    return rng.shuffle(all)
  }
  if ((p.stationaryBlock ?? 0) > 0) return stationarySequence(p, objectRequests, rng)
  return stackOrder(objectRequests, p.stackDistance, rng)
}

/**
 * Spread every object's requests over blocks of about `stationaryBlock` requests (request k
 * of an object with c requests goes to block floor((k + u) * B / c), u uniform per object:
 * systematic sampling, so each block gets c/B of them, rounded up or down), then order each
 * block with the LRU stack. Exact counts are kept.
 */
function stationarySequence(p: SurgeParams, objectRequests: number[], rng: Random): number[] {
  const total = objectRequests.reduce((a, b) => a + b, 0)
  const blocks = Math.max(1, Math.round(total / p.stationaryBlock!))
  // per block, (object, count) pairs in object order: memory stays O(requests)
  const blockObjects: number[][] = Array.from({ length: blocks }, () => [])
  const blockCounts: number[][] = Array.from({ length: blocks }, () => [])
  objectRequests.forEach((count, object) => {
    const u = rng.uniform()
    for (let k = 0; k < count; k++) {
      const b = Math.min(blocks - 1, Math.floor(((k + u) * blocks) / count))
      const objects = blockObjects[b]
      if (objects.length > 0 && objects[objects.length - 1] === object) blockCounts[b][objects.length - 1]++
      else {
        objects.push(object)
        blockCounts[b].push(1)
      }
    }
  })
  const sequence: number[] = []
  for (let b = 0; b < blocks; b++) {
    const objects = blockObjects[b]
    for (const i of stackOrder(blockCounts[b], p.stackDistance!, rng)) sequence.push(objects[i])
  }
  return sequence
}

/** The LRU stack ordering of the given request counts (see generateSequence). */
function stackOrder(objectRequests: number[], stackDistance: Lognormal, rng: Random): number[] {
  const left = objectRequests.slice()
  // stack[stack.length - 1] is the top: taking near the top costs little
  const stack = rng.shuffle(objectRequests.map((_, i) => i).filter((i) => left[i] > 0))
  const sequence: number[] = []
  const total = left.reduce((a, b) => a + b, 0)
  for (let n = 0; n < total; n++) {
    const depth = Math.floor(lognormalQuantile(rng.uniform(), stackDistance))
    const at = Math.max(0, stack.length - 1 - depth)
    const object = stack[at]
    stack.splice(at, 1)
    sequence.push(object)
    if (--left[object] > 0) stack.push(object)
  }
  return sequence
}

export function generateSurge(options: Partial<SurgeParams> = {}): SurgeWorkload {
  const params = resolveSurgeParams(options)
  const sizes = generateFileSizes(params)
  const { loners, embeddedCounts } = generateObjectShapes(params)
  const files: SurgeFile[] = sizes.map((size) => ({ size, group: GROUP_LONER }))
  const objects: number[][] = []
  let next = 0
  for (let i = 0; i < loners; i++) objects.push([next++])
  for (const m of embeddedCounts) {
    const object = [next]
    files[next++].group = GROUP_BASE
    for (let j = 0; j < m; j++) {
      files[next].group = GROUP_EMBEDDED
      object.push(next++)
    }
    objects.push(object)
  }
  // popularity ranks are a random permutation of the objects, independent of their shape
  const ranked = new Random(params.seed, 'popularity').shuffle(objects.map((_, i) => i))
  const counts = zipfCounts(objects.length, params.requests, params.zipfAlpha)
  let objectRequests = new Array<number>(objects.length).fill(0)
  ranked.forEach((object, rank) => (objectRequests[object] = counts[rank]))
  if (params.popularity === 'files') {
    // every file gets a Zipf rank; an object goes with its base file's weight
    const fileRank = new Array<number>(files.length)
    new Random(params.seed, 'file-popularity').shuffle(files.map((_, i) => i)).forEach((file, rank) => (fileRank[file] = rank + 1))
    objectRequests = countsFromWeights(objects.map((object) => Math.pow(fileRank[object[0]], -params.zipfAlpha)), params.requests)
  }
  const refs = new Array<number>(files.length).fill(0)
  objects.forEach((object, i) => object.forEach((f) => (refs[f] += objectRequests[i])))
  return { params, files, objects, objectRequests, sequence: generateSequence(params, objectRequests), refs }
}
