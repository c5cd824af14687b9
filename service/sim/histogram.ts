// Response-time histogram for the model: log-linear buckets (64 per doubling, about 1.1%
// resolution) over microseconds, so percentiles cost one array increment per request.

const BUCKETS_PER_OCTAVE = 64
const OCTAVES = 44

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS_PER_OCTAVE * OCTAVES + 1)
  private total = 0
  private sum = 0

  record(us: number): void {
    const bucket = us < 1 ? 0 : Math.min(this.counts.length - 1, 1 + Math.floor(Math.log2(us) * BUCKETS_PER_OCTAVE))
    this.counts[bucket]++
    this.total++
    this.sum += us
  }

  get count(): number {
    return this.total
  }

  mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total
  }

  /** Value at quantile q (0..1), reported as its bucket's upper bound. */
  quantile(q: number): number {
    if (this.total === 0) return 0
    const rank = Math.ceil(q * this.total)
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]
      if (seen >= rank) return i === 0 ? 1 : Math.pow(2, i / BUCKETS_PER_OCTAVE)
    }
    return Math.pow(2, (this.counts.length - 1) / BUCKETS_PER_OCTAVE)
  }
}
