// The SURGE model's distributions, each with its inverse-CDF sampler and its CDF (the CDFs
// let tests compare generated values with the model: Kolmogorov-Smirnov and friends).
import type { Random } from './random.js'

/** Standard normal CDF, through erfc (fractional error < 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2)
}

function erfc(x: number): number {
  // Numerical Recipes' erfc (Chebyshev fit), fractional error < 1.2e-7 everywhere.
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? r : 2 - r
}

/** Inverse standard normal CDF (P. J. Acklam's algorithm, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const low = 0.02425
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  const q = p - 0.5
  const r = q * q
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
}

export interface Lognormal {
  /** Mean of ln x. */
  mu: number
  /** Standard deviation of ln x. */
  sigma: number
}

export interface Pareto {
  /** Scale: the smallest value. */
  k: number
  /** Shape (tail index). */
  alpha: number
}

export interface Weibull {
  scale: number
  shape: number
}

export function lognormalCdf(x: number, p: Lognormal): number {
  return x <= 0 ? 0 : normalCdf((Math.log(x) - p.mu) / p.sigma)
}

export function lognormalQuantile(u: number, p: Lognormal): number {
  return Math.exp(p.mu + p.sigma * normalQuantile(u))
}

export function paretoCdf(x: number, p: Pareto): number {
  return x < p.k ? 0 : 1 - Math.pow(p.k / x, p.alpha)
}

export function paretoSample(rng: Random, p: Pareto): number {
  return p.k * Math.pow(rng.uniform(), -1 / p.alpha)
}

export function weibullCdf(x: number, p: Weibull): number {
  return x <= 0 ? 0 : 1 - Math.exp(-Math.pow(x / p.scale, p.shape))
}

export function weibullSample(rng: Random, p: Weibull): number {
  return p.scale * Math.pow(-Math.log(rng.uniform()), 1 / p.shape)
}

/**
 * SURGE's file sizes: a lognormal body below the tail's k and a Pareto tail above it. The tail
 * holds `tailFraction` of the files; by default the share the body itself would put above k,
 * which makes the density continuous in mass at the cut (Barford & Crovella's hybrid).
 */
export interface SizeMix {
  body: Lognormal
  tail: Pareto
  tailFraction: number
}

export function defaultTailFraction(body: Lognormal, tail: Pareto): number {
  return 1 - lognormalCdf(tail.k, body)
}

export function sizeMixCdf(x: number, m: SizeMix): number {
  const bodyAtCut = lognormalCdf(m.tail.k, m.body)
  if (x <= m.tail.k) return ((1 - m.tailFraction) * lognormalCdf(x, m.body)) / bodyAtCut
  return 1 - m.tailFraction + m.tailFraction * paretoCdf(x, m.tail)
}

/** One size by inversion of the mix's CDF (a continuous value; callers round to bytes). */
export function sizeMixSample(rng: Random, m: SizeMix): number {
  const u = rng.uniform()
  const bodyShare = 1 - m.tailFraction
  if (u < bodyShare) return lognormalQuantile((u / bodyShare) * lognormalCdf(m.tail.k, m.body), m.body)
  const v = (u - bodyShare) / m.tailFraction // uniform in (0, 1)
  return m.tail.k * Math.pow(1 - v, -1 / m.tail.alpha)
}

/** Embedded files of a compound object: floor of a Pareto draw, at most `max` (SURGE's object.c). */
export interface EmbeddedCount extends Pareto {
  max: number
}

export function embeddedCountSample(rng: Random, p: EmbeddedCount): number {
  return Math.min(p.max, Math.floor(paretoSample(rng, p)))
}

/** P(count <= n) of embeddedCountSample. */
export function embeddedCountCdf(n: number, p: EmbeddedCount): number {
  if (n >= p.max) return 1
  return paretoCdf(Math.floor(n) + 1, p) // floor(X) <= n  <=>  X < n + 1
}
