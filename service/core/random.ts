// mulberry32: a small, fast, seeded PRNG giving floats in [0, 1). Used where runs must be
// repeatable with the same seed (synthetic request streams, Poisson send times); the SURGE
// generator keeps its own documented xoshiro, and the simulator its own sfc32.

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
