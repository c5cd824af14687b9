// Whether a replay counts as a failure: a run where too many requests failed must not end
// with exit code 0 and a table of latencies that reads like success.
import type { ReplayResult } from './types.js'

/** Default share of the sent requests that may fail (errors of any kind, or no answer). */
export const DEFAULT_MAX_ERROR_SHARE = 0.01

/**
 * One line saying why the run failed, or undefined when it did not: nothing was sent, or more
 * than `maxErrorShare` of the sent requests failed (transport errors, 4xx/5xx, unfinished).
 */
export function replayFailure(result: ReplayResult, maxErrorShare = DEFAULT_MAX_ERROR_SHARE): string | undefined {
  const skipped = Object.values(result.skipped).reduce((sum, count) => sum + count, 0)
  if (result.requests === 0) {
    return skipped > 0 ? `no request was sent: all ${skipped} trace requests were skipped (see the reasons above)` : 'no request was sent'
  }
  const failed = result.errors + result.unfinished
  if (failed <= result.requests * maxErrorShare) return undefined
  const kinds = Object.entries(result.errorsByKind)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${kind} ${count}`)
  if (result.unfinished > 0) kinds.push(`unfinished ${result.unfinished}`)
  const share = (failed / result.requests) * 100
  return (
    `${failed} of ${result.requests} requests failed (${share.toFixed(share < 10 ? 2 : 1)}%: ${kinds.join(', ')}), ` +
    `more than --max-errors ${+(maxErrorShare * 100).toFixed(4)}%`
  )
}
