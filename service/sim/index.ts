// `l7 simulate` as a library: run the cluster model once per policy on one workload, with
// the same schedulers the dispatcher uses (the Wasm core by default, or the TypeScript
// reference), in simulated microseconds.

import { InvalidArgumentError } from '../core/errors.js'
import { createLocalTable, createScheduler, type Impl } from '../policy/index.js'
import { checkPolicy } from '../policy/params.js'
import type { PolicyName, PolicyParams } from '../policy/types.js'
import { runClusterModel } from './model.js'
import { DEFAULT_COSTS, type ClientModel, type Front, type LoadReports, type OverloadModel, type SimConfig, type SimCosts, type SimResult, type SimWorkload } from './types.js'

export * from './types.js'
export { runClusterModel, type SimPolicy } from './model.js'
export { closedLoopFromSurge, openLoopFromTrace, surgeParams, surgeWorkload, traceWorkload, SEED_PRESET, type SurgeWorkloadOptions } from './workload.js'
export { formatResultsMarkdown, formatResultsTable } from './format.js'
export { parseCosts, parsePolicyParams, parseOverload, parseClients } from './options.js'
export { READINGS, READING_NAMES, DEFAULT_READING, STATIONARY_BLOCK, findReading, resolveReading, type Reading, type ResolvedReading, type ModelChoices } from './readings.js'

export interface SimulateOptions {
  nodes: number
  users: number
  policies: PolicyName[]
  cacheMb: number
  durationSeconds: number
  warmupSeconds: number
  seed: number
  impl: Impl
  /** Start with warm caches (see SimConfig.prewarm); default true. */
  prewarm?: boolean
  loadReports?: LoadReports
  costs?: Partial<SimCosts>
  params?: Partial<PolicyParams>
  front?: Front
  /** Overload model (per-node connection limit, backlog, SYN drops); absent: off. */
  overload?: OverloadModel
  /** Client machines and processes; absent: the seed's counts (for the DNS fronts), NIC not modelled. */
  clients?: ClientModel
}

export const DEFAULT_SIMULATE: Readonly<Omit<SimulateOptions, 'policies'>> = Object.freeze({
  nodes: 16,
  users: 7000,
  cacheMb: 64,
  durationSeconds: 60,
  warmupSeconds: 30,
  seed: 1,
  impl: 'wasm' as Impl,
})

export function resolveCosts(partial: Partial<SimCosts> = {}): SimCosts {
  const costs: SimCosts = { ...DEFAULT_COSTS }
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in DEFAULT_COSTS)) throw new InvalidArgumentError(`unknown cost "${key}" (one of ${Object.keys(DEFAULT_COSTS).join(', ')})`)
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new InvalidArgumentError(`cost ${key} must be a finite number >= 0, got ${value}`)
    ;(costs as unknown as Record<string, number>)[key] = value
  }
  if (!(costs.linkMbps > 0)) throw new InvalidArgumentError('linkMbps must be above 0')
  return costs
}

/** One model run of `policy` on `workload`. */
export function simulatePolicy(policy: PolicyName, workload: SimWorkload, options: Omit<SimulateOptions, 'policies'>): SimResult {
  checkPolicy(policy)
  if (!(options.cacheMb >= 0)) throw new InvalidArgumentError(`cache size must be >= 0 MB, got ${options.cacheMb}`)
  const config: SimConfig = {
    nodes: options.nodes,
    users: options.users,
    cacheBytes: Math.round(options.cacheMb * (1 << 20)),
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    seed: options.seed,
    costs: resolveCosts(options.costs),
    prewarm: options.prewarm ?? true,
    loadReports: options.loadReports,
    front: options.front,
    overload: options.overload,
    clients: options.clients,
  }
  const params = options.params ?? {}
  const scheduler = createScheduler(policy, params, options.impl)
  try {
    return runClusterModel(config, workload, {
      scheduler,
      createLocalTable: policy === 'ds' ? () => createLocalTable(params, options.impl) : undefined,
    })
  } finally {
    scheduler.close()
  }
}

/** Every policy on the same workload, in the order given. */
export function simulate(workload: SimWorkload, options: SimulateOptions): SimResult[] {
  if (options.policies.length === 0) throw new InvalidArgumentError('no policy to simulate')
  return options.policies.map((policy) => simulatePolicy(policy, workload, options))
}
