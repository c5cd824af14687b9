// Flag values several commands read the same way: comma-separated lists (of policies, of
// numbers), numbers with a lower bound, durations where 0 means none, and the emulated disk.
// Outside cli/commands/ so that oclif does not take it for a command. Bad input throws
// InvalidArgumentError naming the flag; the commands turn it into exit code 2.

import { Flags } from '@oclif/core'
import { InvalidArgumentError } from '../service/core/errors.js'
import { parseDiskModel, type DiskModel } from '../service/node/disk.js'
import { checkPolicy } from '../service/policy/params.js'
import type { PolicyName } from '../service/policy/types.js'
import { parseSeconds } from '../service/core/duration.js'

export { parseSeconds }

/** "a, b,,c" -> ["a", "b", "c"]: items trimmed, empty ones dropped. */
export function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** Comma-separated policy names, each checked (an unknown one is named in the error). */
export function parsePolicyList(text: string): PolicyName[] {
  const policies = commaList(text)
  for (const p of policies) checkPolicy(p)
  return policies as PolicyName[]
}

export interface NumberBounds {
  integer?: boolean
  /** Smallest value allowed. */
  min?: number
  max?: number
}

/** Comma-separated numbers within bounds, e.g. "4,16" for --nodes. */
export function parseNumberList(text: string, flag: string, bounds: NumberBounds = {}): number[] {
  const items = text.split(',').map((item) => item.trim())
  const values = items.map(Number)
  const fits = (value: number, i: number) =>
    items[i] !== '' &&
    Number.isFinite(value) &&
    (!bounds.integer || Number.isInteger(value)) &&
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.max === undefined || value <= bounds.max)
  if (!values.every(fits)) {
    const kind = bounds.integer ? 'integers' : 'numbers'
    const range =
      bounds.min !== undefined && bounds.max !== undefined
        ? ` from ${bounds.min} to ${bounds.max}`
        : bounds.min !== undefined
          ? ` >= ${bounds.min}`
          : bounds.max !== undefined
            ? ` <= ${bounds.max}`
            : ''
    throw new InvalidArgumentError(`${flag}: expected comma-separated ${kind}${range}, got "${text}"`)
  }
  return values
}

/** A number given as text (flags such as --zipf or --cache-mb): at least `min`, or above `above`. */
export function parseNumber(text: string, flag: string, bound: { min: number } | { above: number }): number {
  const value = Number(text)
  const ok = text.trim() !== '' && Number.isFinite(value) && ('min' in bound ? value >= bound.min : value > bound.above)
  if (!ok) throw new InvalidArgumentError(`${flag} must be a number ${'min' in bound ? `>= ${bound.min}` : `above ${bound.above}`}, got "${text}"`)
  return value
}

/** A duration such as 20s, 1500ms or 2m in seconds, where "0" means none (a warm-up, an OFF time). */
export function parseSecondsOrZero(text: string, flag: string): number {
  return text.trim() === '0' ? 0 : parseSeconds(text, flag)
}

/** --disk: the emulated disk for cache misses (node, cluster). */
export const diskFlag = Flags.string({ description: 'emulate a disk for cache misses, e.g. seek=8ms,mbps=20 (off by default)' })

/** The --disk value: a disk model, or null when the flag is absent or "none". */
export function parseDiskFlag(text: string | undefined): DiskModel | null {
  return text === undefined || text === 'none' ? null : parseDiskModel(text)
}
