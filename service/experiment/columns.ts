// The experiment's columns, one definition each: the HTML report shows them all, the terminal
// the compact subset (verdict.ts).
import type { PolicyOutcome } from './index.js'

export const f = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-')

/** Measured vs simulated, as a ratio sim / real ("-" when not simulated). */
function simRatio(o: PolicyOutcome, real: number, sim: (s: NonNullable<PolicyOutcome['sim']>) => number): string {
  return o.sim && real > 0 ? f(sim(o.sim) / real, 2) : '-'
}

/** Every column, in the report's order. */
export const COLUMNS: Array<[string, (o: PolicyOutcome) => string]> = [
  ['policy', (o) => o.policy],
  ['conn/s', (o) => f(o.throughput, 1)],
  ['mean ms', (o) => f(o.meanMs, 1)],
  ['p50 ms', (o) => f(o.p50Ms, 1)],
  ['p99 ms', (o) => f(o.p99Ms, 1)],
  ['errors', (o) => String(o.errors)],
  ['hit', (o) => f(o.hitRate, 3)],
  ['local', (o) => f(o.localFraction, 3)],
  ['reused', (o) => f(o.reusedFraction, 3)],
  ['handoff', (o) => f(o.handoffFraction, 3)],
  ['msgs/req', (o) => f(o.dispatcherMsgsPerRequest, 2)],
  ['batch', (o) => f(o.meanBatch, 1)],
  ['max/mean', (o) => f(o.loadImbalance, 2)],
  ['node cpu us/req', (o) => f(o.nodeCpuUsPerRequest, 0)],
  ['sim conn/s', (o) => (o.sim ? f(o.sim.throughput, 1) : '-')],
  ['sim/real conn/s', (o) => simRatio(o, o.throughput, (s) => s.throughput)],
  ['sim hit', (o) => (o.sim ? f(o.sim.hitRate, 3) : '-')],
  ['sim/real hit', (o) => simRatio(o, o.hitRate, (s) => s.hitRate)],
  ['sim mean ms', (o) => (o.sim ? f(o.sim.meanResponseMs, 1) : '-')],
]

