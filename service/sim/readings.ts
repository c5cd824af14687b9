// Readings: named bundles of the interpretation choices the seed (Hong & Noh 2005) leaves open,
// so that a result can be stated per reading rather than for one silent choice. Each choice,
// with the seed's words, is documented in service/policy/README.md ("Readings"); the model-side
// choices (load reports, front, ordering of the SURGE sequence) in service/sim/README.md.
// `--reading NAME` picks a bundle; `--param key=value` overrides any one choice in it.

import { InvalidArgumentError } from '../core/errors.js'
import { CHOICE_PARAMS, DEFAULT_PARAMS, type PolicyParams } from '../policy/types.js'
import type { Front, LoadReports } from './types.js'

/** The choices outside the policy code: what the nodes report, how clients reach a node, the workload's ordering. */
export interface ModelChoices {
  /** Which policies' nodes piggyback their own load on each request (model: SimConfig.loadReports). */
  loadReports: LoadReports
  /** How a client connection picks its receiving node (model: SimConfig.front). */
  front: Front
  /** The SURGE sequence: 'stack' (one LRU stack over the whole sequence) or 'stationary' (blocks; service/surge/generate.ts). */
  ordering: 'stack' | 'stationary'
  /** What SURGE's Zipf ranks: the objects (absent: ours) or all files, an object going with its base file (service/surge/generate.ts). */
  popularity?: 'objects' | 'files'
}

export interface Reading {
  name: string
  /** One line: what this reading takes the seed to mean. */
  summary: string
  params: Partial<PolicyParams>
  model: ModelChoices
}

/** The resolved reading a run uses: the bundle with any --param overrides applied. */
export interface ResolvedReading {
  name: string
  params: Partial<PolicyParams>
  model: ModelChoices
  /** The keys --param changed (reported with the results). */
  overridden: string[]
}

const PROJECT_MODEL: ModelChoices = { loadReports: 'ds', front: 'round-robin', ordering: 'stack' }
const STATIONARY: ModelChoices = { ...PROJECT_MODEL, ordering: 'stationary' }

/** Fig. 11's get_node() as printed: min_cost starts at cost(0) with a strict `<`, node_id is never set. */
const FIG11: Partial<PolicyParams> = { costTies: 'id', ownerUpdate: 'never' }

export const READINGS: readonly Reading[] = Object.freeze([
  {
    name: 'project',
    summary: "the project's choices before readings existed (results identical to earlier runs): ties to the lower load, every choice becomes the owner, rate-sized hot sets, arrivals-only node rate, EWMA 1 s, one LRU stack over the SURGE sequence",
    params: {},
    model: PROJECT_MODEL,
  },
  {
    name: 'stationary',
    summary: "project's policy choices on a stationary SURGE sequence (the measured window sees the file set's popularity)",
    params: {},
    model: STATIONARY,
  },
  {
    name: 'fig11-ties',
    summary: 'stationary, with Fig. 11 ties: equal costs go to the lowest node id (node A fills before node B, section 4.2)',
    params: { costTies: 'id' },
    model: STATIONARY,
  },
  {
    name: 'fig11',
    summary: 'stationary, with Fig. 11 as printed: lowest-id ties and file[request].node_id never set (no locality in get_node)',
    params: FIG11,
    model: STATIONARY,
  },
  {
    name: 'seed-text',
    summary: "the seed's text: LARD sends a request to the node that last served it (owner updated), lowest-id ties, the gap estimator, the node half counting every request it serves, alloc_new_node = the receiving node",
    params: { costTies: 'id', ownerUpdate: 'always', rateEstimator: 'literal', localRate: 'served', hotAlloc: 'receiving' },
    model: STATIONARY,
  },
  {
    name: 'seed-literal',
    summary: "the figures' code and the text word for word: Fig. 11 as printed, the gap estimator, the node half counting every request it serves, alloc_new_node = reschedule(file, node) with the receiving node, clients reaching nodes by DNS (per SURGE process)",
    params: { ...FIG11, rateEstimator: 'literal', localRate: 'served', hotAlloc: 'receiving' },
    model: { ...STATIONARY, front: 'dns-process' },
  },
  {
    name: 'files',
    summary: "stationary, with SURGE's Zipf over all files (an object requested as its base file's rank says) instead of over objects",
    params: {},
    model: { ...STATIONARY, popularity: 'files' },
  },
  {
    name: 'seed-literal-files',
    summary: 'seed-literal, with Zipf over files',
    params: { ...FIG11, rateEstimator: 'literal', localRate: 'served', hotAlloc: 'receiving' },
    model: { ...STATIONARY, front: 'dns-process', popularity: 'files' },
  },
])

export const READING_NAMES = READINGS.map((r) => r.name)
export const DEFAULT_READING = 'project'

const MODEL_KEYS: Record<keyof Required<ModelChoices>, readonly string[]> = {
  loadReports: ['ds', 'all', 'none'],
  front: ['round-robin', 'dns-process', 'dns-machine'],
  ordering: ['stack', 'stationary'],
  popularity: ['objects', 'files'],
}

export function findReading(name: string): Reading {
  const reading = READINGS.find((r) => r.name === name)
  if (reading === undefined) throw new InvalidArgumentError(`unknown reading "${name}" (one of ${READING_NAMES.join(', ')})`)
  return reading
}

/** A reading with `key=value,...` overrides (policy parameters or model choices) applied. */
export function resolveReading(name: string, overrides = ''): ResolvedReading {
  const reading = findReading(name)
  const params: Record<string, number | string> = { ...(reading.params as Record<string, number | string>) }
  const model: Record<string, string> = { ...reading.model }
  const overridden: string[] = []
  for (const part of overrides.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new InvalidArgumentError(`--param: expected key=value, got "${part}"`)
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (key in MODEL_KEYS) {
      const allowed = MODEL_KEYS[key as keyof ModelChoices]
      if (!allowed.includes(value)) throw new InvalidArgumentError(`--param: ${key} must be one of ${allowed.join(', ')}, got "${value}"`)
      model[key] = value
    } else if (key in DEFAULT_PARAMS) {
      if (key in CHOICE_PARAMS) params[key] = value
      else {
        const n = Number(value)
        if (value === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--param: ${key} must be a number, got "${value}"`)
        params[key] = n
      }
    } else {
      throw new InvalidArgumentError(
        `--param: unknown parameter "${key}" (a policy parameter: ${Object.keys(DEFAULT_PARAMS).join(', ')}; or a model choice: ${Object.keys(MODEL_KEYS).join(', ')})`,
      )
    }
    overridden.push(key)
  }
  return { name: reading.name, params: params as Partial<PolicyParams>, model: model as unknown as ModelChoices, overridden }
}

/** Object requests per block of the stationary SURGE ordering (service/surge/generate.ts; checked by its spec). */
export const STATIONARY_BLOCK = 3000
