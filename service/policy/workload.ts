// Synthetic request streams for the differential tests and the scheduler benchmark: seeded,
// so that both implementations (and reruns) see exactly the same input.
import { mulberry32 } from '../core/random.js'
import { fmix32 } from './hash.js'

/** The hash standing for the target of popularity rank `rank` (distinct ranks, distinct hashes). */
export function rankHash(rank: number): number {
  return fmix32(rank + 1)
}

/** Draws ranks 0..n-1 with P(rank) proportional to 1 / (rank + 1)^alpha (alpha 0: uniform). */
export class ZipfSampler {
  private readonly cdf: Float64Array

  constructor(
    readonly n: number,
    readonly alpha: number,
    private readonly random: () => number,
  ) {
    this.cdf = new Float64Array(n)
    let sum = 0
    for (let r = 0; r < n; r++) {
      sum += 1 / Math.pow(r + 1, alpha)
      this.cdf[r] = sum
    }
    for (let r = 0; r < n; r++) this.cdf[r] /= sum
  }

  next(): number {
    const u = this.random()
    let lo = 0
    let hi = this.n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** The burst target's rate, requests per second. */
export const BURST_RATE = 5000

export type StreamKind = 'uniform' | 'zipf-0.8' | 'zipf-1.0' | 'burst' | 'churn'
export const STREAM_KINDS: readonly StreamKind[] = ['uniform', 'zipf-0.8', 'zipf-1.0', 'burst', 'churn']

/** One request of a stream. */
export interface StreamRequest {
  receiving: number
  hash: number
  timeUs: number
}

export interface StreamOptions {
  kind: StreamKind
  targets: number
  nodes: number
  /** Mean request rate of the whole cluster, requests per second. */
  ratePerSec: number
  seed: number
}

/**
 * Requests of a stream, in time order. 'burst' is a uniform background at ratePerSec with
 * one target suddenly at BURST_RATE (5,000 req/s) for the middle third of the stream;
 * 'churn' is Zipf 1.0 (the driver adds and removes nodes).
 */
export function* streamRequests(options: StreamOptions, count: number): Generator<StreamRequest> {
  const random = mulberry32(options.seed)
  const alpha = options.kind === 'zipf-0.8' ? 0.8 : options.kind === 'zipf-1.0' || options.kind === 'churn' ? 1 : 0
  const sampler = new ZipfSampler(options.targets, alpha, random)
  const burstHash = rankHash(options.targets) // a target outside the background set
  const burstShare = BURST_RATE / (BURST_RATE + options.ratePerSec)
  let timeUs = 0
  for (let i = 0; i < count; i++) {
    const inBurst = options.kind === 'burst' && i >= count / 3 && i < (2 * count) / 3
    const rate = inBurst ? options.ratePerSec + BURST_RATE : options.ratePerSec
    timeUs += -Math.log(1 - random()) * (1e6 / rate)
    const receiving = Math.floor(random() * options.nodes)
    const hash = inBurst && random() < burstShare ? burstHash : rankHash(sampler.next())
    yield { receiving, hash, timeUs }
  }
}
