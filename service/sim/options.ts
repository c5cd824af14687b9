// Parsing of the simulator's textual options (shared by `l7 simulate`, `l7 bench paper` and
// `l7 experiment`): key=value lists of costs and policy parameters.

import { InvalidArgumentError } from '../core/errors.js'
import { CHOICE_PARAMS, DEFAULT_PARAMS, type PolicyParams } from '../policy/types.js'
import { DEFAULT_COSTS, DEFAULT_OVERLOAD, SEED_CLIENTS, type ClientModel, type OverloadModel, type SimCosts } from './types.js'

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

/** `hotThreshold=100,maxLoad=40,rateEstimator=window,costTies=id`: any PolicyParams field. */
export function parsePolicyParams(text: string): Partial<PolicyParams> {
  const out: Record<string, number | string> = {}
  for (const [key, value] of assignments(text, '--param')) {
    if (!(key in DEFAULT_PARAMS)) throw new InvalidArgumentError(`--param: unknown parameter "${key}" (one of ${Object.keys(DEFAULT_PARAMS).join(', ')})`)
    if (key in CHOICE_PARAMS) out[key] = value // checked with the rest by resolveParams
    else {
      const n = Number(value)
      if (value === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--param: ${key} must be a number, got "${value}"`)
      out[key] = n
    }
  }
  return out as Partial<PolicyParams>
}

/** Numeric key=value overrides of a record of defaults (`what` names the flag in errors). */
function numericRecord<T extends object>(text: string, defaults: Readonly<T>, what: string): T {
  const out: Record<string, number> = { ...(defaults as Record<string, number>) }
  for (const [key, value] of assignments(text, what)) {
    if (!(key in defaults)) throw new InvalidArgumentError(`${what}: unknown field "${key}" (one of ${Object.keys(defaults).join(', ')})`)
    const n = Number(value)
    if (value === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what}: ${key} must be a number >= 0, got "${value}"`)
    out[key] = n
  }
  return out as T
}

/** `off` (default), `on` (the documented defaults) or `maxClients=150,listenBacklog=128,...`. */
export function parseOverload(text: string): OverloadModel | undefined {
  const t = text.trim()
  if (t === '' || t === 'off') return undefined
  return numericRecord(t === 'on' ? '' : t, DEFAULT_OVERLOAD, '--overload')
}

/** `off` (default: the seed's 4 machines and 80 processes for the DNS fronts, NIC not modelled), `on` (100 Mb/s NICs) or `machines=4,processes=80,nicMbps=100`. */
export function parseClients(text: string): ClientModel | undefined {
  const t = text.trim()
  if (t === '' || t === 'off') return undefined
  return numericRecord(t === 'on' ? '' : t, SEED_CLIENTS, '--clients')
}
