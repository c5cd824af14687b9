// Seeded randomness for workloads: xoshiro128** (Blackman & Vigna) seeded through splitmix32,
// integer arithmetic only, so a seed gives the same numbers on any machine. Each component
// (sizes, objects, sequence, each user) draws from its own stream, derived from the seed and
// a label, so changing one parameter (say, the request count) leaves the file sizes alone.

function splitmix32(state: number): () => number {
  let s = state >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** FNV-1a of a label, to derive independent streams from one seed. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0
  return h
}

export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number, label = '') {
    const mix = splitmix32((Math.trunc(seed) ^ hashLabel(label)) >>> 0)
    this.a = mix()
    this.b = mix()
    this.c = mix()
    this.d = mix()
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  /** Uniform in the open interval (0, 1): never 0 or 1, so inverse CDFs stay finite. */
  uniform(): number {
    return (this.nextUint32() + 0.5) / 4294967296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n)
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = items[i]
      items[i] = items[j]
      items[j] = t
    }
    return items
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
