// Durations as users type them on the command line: `20s`, `2m`, `1500ms`, `1h`; a bare
// number is seconds. Every command reads durations through this one parser.
import { InvalidArgumentError } from './errors.js'

const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600 } as const

/** Seconds in `text` (above 0); `what` names the flag in the error. */
export function parseSeconds(text: string, what = 'duration'): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (!m) throw new InvalidArgumentError(`${what}: cannot read "${text}" (e.g. 20s, 2m, 1500ms)`)
  const value = Number(m[1]) * UNIT_SECONDS[(m[2] ?? 's') as keyof typeof UNIT_SECONDS]
  if (!(value > 0)) throw new InvalidArgumentError(`${what} must be above 0, got "${text}"`)
  return value
}
