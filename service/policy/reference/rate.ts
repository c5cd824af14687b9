// Per-target request rate estimators (DS), in requests per second. Only +, -, *, / and floor:
// the Wasm core (assembly/rate.ts) computes bit-identical values.
//   ewma:    an exponentially decayed count with time constant unitTimeUs, the decay linearised
//            (1 - gap/unit, floored at 0) so no exp() is needed; with requests every g us it
//            settles at unit/g per unit, i.e. exactly the true rate. Stable under bursts.
//   window:  a sliding window of one unit: the current unit's count plus the previous unit's,
//            weighted by how much of it still overlaps the window.
//   literal: the seed's reading: from the stored request time and the arrival time of the
//            current request, rate = 1 / gap (infinite when two requests share a time).
import type { RateEstimator } from '../types.js'

export interface RateEstimate {
  /** count requests arrived at timeUs: the updated rate. */
  arrive(timeUs: number, count: number): number
  /** The rate as it stands at timeUs, with no new arrival. */
  rateAt(timeUs: number): number
}

export class EwmaRate implements RateEstimate {
  private lastUs = -Infinity
  private score = 0
  constructor(private readonly unitUs: number) {}

  private decay(timeUs: number): number {
    const gap = timeUs - this.lastUs
    if (gap >= this.unitUs) return 0
    if (gap <= 0) return 1
    return 1 - gap / this.unitUs
  }

  arrive(timeUs: number, count: number): number {
    this.score = this.score * this.decay(timeUs) + count
    this.lastUs = timeUs
    return (this.score * 1e6) / this.unitUs
  }

  rateAt(timeUs: number): number {
    return (this.score * this.decay(timeUs) * 1e6) / this.unitUs
  }
}

export class WindowRate implements RateEstimate {
  private unit = -Infinity
  private current = 0
  private previous = 0
  constructor(private readonly unitUs: number) {}

  arrive(timeUs: number, count: number): number {
    const unit = Math.floor(timeUs / this.unitUs)
    if (unit > this.unit) {
      this.previous = unit === this.unit + 1 ? this.current : 0
      this.current = 0
      this.unit = unit
    }
    this.current += count
    return this.rateAt(timeUs)
  }

  rateAt(timeUs: number): number {
    const unit = Math.floor(timeUs / this.unitUs)
    let current = this.current
    let previous = this.previous
    if (unit > this.unit) {
      previous = unit === this.unit + 1 ? current : 0
      current = 0
    }
    let overlap = 1 - (timeUs - unit * this.unitUs) / this.unitUs
    if (overlap < 0) overlap = 0
    if (overlap > 1) overlap = 1
    return ((previous * overlap + current) * 1e6) / this.unitUs
  }
}

export class LiteralRate implements RateEstimate {
  private lastUs = -Infinity
  private rate = 0

  arrive(timeUs: number, count: number): number {
    const gap = timeUs - this.lastUs
    this.rate = gap > 0 ? (count * 1e6) / gap : Infinity
    this.lastUs = timeUs
    return this.rate
  }

  rateAt(_timeUs: number): number {
    return this.rate
  }
}

export function createRate(estimator: RateEstimator, unitTimeUs: number): RateEstimate {
  switch (estimator) {
    case 'ewma':
      return new EwmaRate(unitTimeUs)
    case 'window':
      return new WindowRate(unitTimeUs)
    case 'literal':
      return new LiteralRate()
  }
}
