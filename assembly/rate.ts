// Per-target rate estimators in requests per second, over three f64 fields of an entry.
// Bit-identical to service/policy/reference/rate.ts (same operations in the same order).
//   ewma:    R0 = last arrival time, R1 = decayed count
//   window:  R0 = index of the current unit, R1 = its count, R2 = the previous unit's count
//   literal: R0 = last arrival time, R1 = the rate the last arrival gave
import { estimator, unitUs, ESTIMATOR_EWMA, ESTIMATOR_WINDOW } from './state'
import { E_R0, E_R1, E_R2 } from './targets'

function ewmaDecay(e: usize, t: f64): f64 {
  const gap = t - load<f64>(e, E_R0)
  if (gap >= unitUs) return 0
  if (gap <= 0) return 1
  return 1 - gap / unitUs
}

function windowRate(t: f64, unit: f64, current: f64, previous: f64): f64 {
  const now = Math.floor(t / unitUs)
  if (now > unit) {
    previous = now == unit + 1 ? current : 0
    current = 0
  }
  let overlap = 1 - (t - now * unitUs) / unitUs
  if (overlap < 0) overlap = 0
  if (overlap > 1) overlap = 1
  return ((previous * overlap + current) * 1e6) / unitUs
}

/** `count` requests arrived at t: the updated rate. */
export function arrive(e: usize, t: f64, count: f64): f64 {
  if (estimator == ESTIMATOR_EWMA) {
    const score = load<f64>(e, E_R1) * ewmaDecay(e, t) + count
    store<f64>(e, score, E_R1)
    store<f64>(e, t, E_R0)
    return (score * 1e6) / unitUs
  }
  if (estimator == ESTIMATOR_WINDOW) {
    const unit = Math.floor(t / unitUs)
    const stored = load<f64>(e, E_R0)
    if (unit > stored) {
      store<f64>(e, unit == stored + 1 ? load<f64>(e, E_R1) : 0, E_R2)
      store<f64>(e, 0, E_R1)
      store<f64>(e, unit, E_R0)
    }
    store<f64>(e, load<f64>(e, E_R1) + count, E_R1)
    return windowRate(t, load<f64>(e, E_R0), load<f64>(e, E_R1), load<f64>(e, E_R2))
  }
  const gap = t - load<f64>(e, E_R0)
  const rate = gap > 0 ? (count * 1e6) / gap : Infinity
  store<f64>(e, rate, E_R1)
  store<f64>(e, t, E_R0)
  return rate
}

/** The rate at t with no new arrival. */
export function rateAt(e: usize, t: f64): f64 {
  if (estimator == ESTIMATOR_EWMA) return (load<f64>(e, E_R1) * ewmaDecay(e, t) * 1e6) / unitUs
  if (estimator == ESTIMATOR_WINDOW) return windowRate(t, load<f64>(e, E_R0), load<f64>(e, E_R1), load<f64>(e, E_R2))
  return load<f64>(e, E_R1)
}
