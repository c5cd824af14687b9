// The file set `l7 cluster` serves when given no document root: SURGE-like sizes (lognormal
// body mu 9.357, sigma 1.318; Pareto tail k 133,000 B, alpha 1.1; clamped to the seed's
// 77 B .. 3,119,822 B), named as SURGE names them (`/<n>.txt`). Seeded, so a run is
// repeatable. Used until/unless the SURGE materialiser (service/surge/) is available.

import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const BODY_MU = 9.357
const BODY_SIGMA = 1.318
const TAIL_K = 133_000
const TAIL_ALPHA = 1.1
/** Fraction of files drawn from the tail (Barford & Crovella: about 7%). */
const TAIL_FRACTION = 0.07
const MIN_SIZE = 77
const MAX_SIZE = 3_119_822

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function fileSizes(count: number, seed = 1): number[] {
  const random = prng(seed)
  const sizes: number[] = []
  for (let i = 0; i < count; i++) {
    let size: number
    if (random() < TAIL_FRACTION) size = TAIL_K / Math.pow(1 - random(), 1 / TAIL_ALPHA)
    else {
      // Box-Muller
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
      size = Math.exp(BODY_MU + BODY_SIGMA * z)
    }
    sizes.push(Math.min(MAX_SIZE, Math.max(MIN_SIZE, Math.round(size))))
  }
  return sizes
}

/** Writes `count` files `<n>.txt` into `dir`; returns their sizes. */
export async function writeFileSet(dir: string, count: number, seed = 1): Promise<number[]> {
  await mkdir(dir, { recursive: true })
  const sizes = fileSizes(count, seed)
  const filler = Buffer.alloc(MAX_SIZE)
  for (let i = 0; i < filler.length; i++) filler[i] = 97 + (i % 26)
  for (let i = 0; i < sizes.length; i++) await writeFile(join(dir, `${i}.txt`), filler.subarray(0, sizes[i]))
  return sizes
}
