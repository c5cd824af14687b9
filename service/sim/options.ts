// Parsing of the simulator's textual options (shared by `l7 simulate`, `l7 bench paper` and
// `l7 experiment`): key=value lists of costs and policy parameters.

import { InvalidArgumentError } from '../core/errors.js'
import { DEFAULT_PARAMS, type PolicyParams } from '../policy/types.js'
import { DEFAULT_COSTS, type SimCosts } from './types.js'

function assignments(text: string, what: string): Array<[string, string]> {
  if (text.trim() === '') return []
  return text.split(',').map((part) => {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new InvalidArgumentError(`${what}: expected key=value, got "${part}"`)
    return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()]
  })
}

/** `connSetupUs=100,linkMbps=1000`: any SimCosts field, numbers only. */
export function parseCosts(text: string): Partial<SimCosts> {
  const out: Record<string, number> = {}
  for (const [key, value] of assignments(text, '--cost')) {
    if (!(key in DEFAULT_COSTS)) throw new InvalidArgumentError(`--cost: unknown cost "${key}" (one of ${Object.keys(DEFAULT_COSTS).join(', ')})`)
    const n = Number(value)
    if (value === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`--cost: ${key} must be a number >= 0, got "${value}"`)
    out[key] = n
  }
  return out as Partial<SimCosts>
}

/** `hotThreshold=100,maxLoad=40,rateEstimator=window`: any PolicyParams field. */
export function parsePolicyParams(text: string): Partial<PolicyParams> {
  const out: Record<string, number | string> = {}
  for (const [key, value] of assignments(text, '--param')) {
    if (!(key in DEFAULT_PARAMS)) throw new InvalidArgumentError(`--param: unknown parameter "${key}" (one of ${Object.keys(DEFAULT_PARAMS).join(', ')})`)
    if (key === 'rateEstimator') out[key] = value
    else {
      const n = Number(value)
      if (value === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--param: ${key} must be a number, got "${value}"`)
      out[key] = n
    }
  }
  return out as Partial<PolicyParams>
}
