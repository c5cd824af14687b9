// The Zipf exponent of a rank-frequency curve.
//
// Estimator: ordinary least squares of ln(frequency) on ln(rank), with the points taken at
// log-spaced ranks (1, 2, 3, ... growing by 10% a step) over the ranks whose frequency is at
// least 2. Why: "the exponent of the rank-frequency curve" is what web-caching papers report
// (Breslau et al. 1999, Arlitt & Williamson 1996 fit the same log-log line), so the figure is
// comparable with theirs; log-spacing stops the thousands of tail ranks from outweighing the
// head, and dropping the one-timers removes the flat plateau at frequency 1 that is an
// artefact of a finite sample (it would bias the slope towards 0). An MLE for a discrete power
// law (Clauset et al.) fits the frequency *distribution*, a different quantity, and needs a
// cut-off search; the log-log line is the usual, reproducible choice here.

export interface ZipfFit {
  /** The exponent: frequency proportional to rank^-alpha. NaN when fewer than 2 ranks qualify. */
  alpha: number
  /** ln(frequency at rank 1) of the fitted line. */
  intercept: number
  /** Highest rank used in the fit. */
  maxRank: number
  /** Number of (log-spaced) points in the fit. */
  points: number
  /** Coefficient of determination of the line on those points. */
  r2: number
}

const RANK_STEP = 1.1
const MIN_FREQUENCY = 2

/** Log-spaced ranks 1..maxRank (1-based, distinct, ascending). */
export function logSpacedRanks(maxRank: number, step = RANK_STEP): number[] {
  const ranks: number[] = []
  for (let x = 1; Math.round(x) <= maxRank; x *= step) {
    const r = Math.round(x)
    if (ranks[ranks.length - 1] !== r) ranks.push(r)
  }
  return ranks
}

/** Fits the curve of frequencies sorted in descending order. */
export function fitZipf(descendingFrequencies: ArrayLike<number>): ZipfFit {
  let maxRank = 0
  while (maxRank < descendingFrequencies.length && descendingFrequencies[maxRank] >= MIN_FREQUENCY) maxRank++
  const ranks = logSpacedRanks(maxRank)
  const n = ranks.length
  if (n < 2) return { alpha: Number.NaN, intercept: Number.NaN, maxRank, points: n, r2: Number.NaN }
  let sx = 0
  let sy = 0
  let sxx = 0
  let sxy = 0
  let syy = 0
  for (const r of ranks) {
    const x = Math.log(r)
    const y = Math.log(descendingFrequencies[r - 1])
    sx += x
    sy += y
    sxx += x * x
    sxy += x * y
    syy += y * y
  }
  const cov = sxy - (sx * sy) / n
  const varX = sxx - (sx * sx) / n
  const varY = syy - (sy * sy) / n
  const slope = cov / varX
  const r2 = varY === 0 ? 1 : (cov * cov) / (varX * varY)
  return { alpha: -slope, intercept: (sy - slope * sx) / n, maxRank, points: n, r2 }
}
