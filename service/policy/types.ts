// The one interface every distribution policy implements, twice: a plain TypeScript
// reference (service/policy/reference/) and the Wasm core (assembly/, wrapped in
// service/policy/wasm.ts). The dispatcher, the simulator and the benchmarks only see this.
//
// Batches are column arrays that the caller fills in place and the scheduler reads in
// one call (for Wasm they are views on its linear memory, so nothing is copied).

export const POLICY_NAMES = ['wrr', 'lc', 'lard', 'lard-r', 'lard-cost', 'ds', 'chbl'] as const
export type PolicyName = (typeof POLICY_NAMES)[number]

export type RateEstimator = 'ewma' | 'window' | 'literal'

export interface PolicyParams {
  /** Node table size: node ids are 0 .. maxNodes-1 (at least 64). */
  maxNodes: number
  /** Target table capacity (open addressing); cold targets are evicted when full. */
  targetCapacity: number
  /** Largest batch decide()/done() accept. */
  batchCapacity: number
  /** LARD, LARD/R: T_low and T_high (Pai et al. 1998: 25, 65). */
  tLow: number
  tHigh: number
  /** LARD/R: drop the most loaded member of a set unchanged this long (K seconds, 20). */
  shrinkSeconds: number
  /** lard-cost (seed Fig. 11): MAX_LOAD and the four costs. */
  maxLoad: number
  hitCost: number
  missCost: number
  balCost: number
  invalCost: number
  /** DS: a target is hot at this many requests per second (seed: 200). */
  hotThreshold: number
  /** DS: the unit time of the rate estimate, microseconds. */
  unitTimeUs: number
  /** DS: how the rate is estimated (see ALGORITHMS.md). */
  rateEstimator: RateEstimator
  /** CHBL: capacity factor as a percentage (HAProxy hash-balance-factor; 125). */
  balanceFactorPercent: number
  /** CHBL: points on the ring per unit of weight. */
  ringPointsPerNode: number
}

/** One batch of assignment requests, written by the caller, read by decide(). */
export interface RequestColumns {
  /** The node the client connection landed on. */
  receiving: Int32Array
  /** 32-bit hash of the target key. */
  hash: Uint32Array
  /** Arrival time, microseconds (any origin; must not go backwards). */
  timeUs: Float64Array
  /** The receiving node's own reported load (DS piggybacks it); -1 = not reported. */
  reportedLoad: Int32Array
  /** Output: the chosen node per request. */
  chosen: Int32Array
}

/** One batch of "done" records: node finished a connection for hash (load -1). */
export interface DoneColumns {
  node: Int32Array
  hash: Uint32Array
}

export interface SchedulerStats {
  targets: number
  targetCapacity: number
  evictions: number
  nodesUp: number
}

export interface HotTarget {
  hash: number
  ratePerSec: number
  nodes: number[]
}

export interface Scheduler {
  readonly policy: PolicyName
  readonly impl: 'ts' | 'wasm'
  readonly params: Readonly<PolicyParams>
  readonly requests: RequestColumns
  readonly dones: DoneColumns

  /** Decide requests[0..n): writes requests.chosen[i]; each assignment adds 1 to the chosen node's load. */
  decide(n: number): void
  /** Release dones[0..n): each subtracts 1 from the node's load (never below 0). */
  done(n: number): void

  /** Membership: a node joins (or changes weight); weight >= 1. */
  addNode(id: number, weight?: number): void
  /** A node leaves: its load is cleared and its targets are reassigned on their next request. */
  removeNode(id: number): void
  setWeight(id: number, weight: number): void
  isUp(id: number): boolean
  load(id: number): number
  /** Overwrite a node's load with what the node itself reports (DS; resync after reconnect). */
  setLoad(id: number, load: number): void
  /**
   * DS: the node served `count` requests for `hash` locally since its last batch; the
   * dispatcher folds them into the target's rate. Other policies ignore it.
   */
  observeLocal(node: number, hash: number, count: number, timeUs: number): void

  stats(): SchedulerStats
  hotTargets(limit: number): HotTarget[]
  /** Release memory (Wasm instance); the scheduler is unusable afterwards. */
  close(): void
}

export const DEFAULT_PARAMS: Readonly<PolicyParams> = Object.freeze({
  maxNodes: 64,
  targetCapacity: 1 << 16,
  batchCapacity: 4096,
  tLow: 25,
  tHigh: 65,
  shrinkSeconds: 20,
  maxLoad: 80,
  hitCost: 1,
  missCost: 50,
  balCost: 1,
  invalCost: 1000,
  hotThreshold: 200,
  unitTimeUs: 1_000_000,
  rateEstimator: 'ewma',
  balanceFactorPercent: 125,
  ringPointsPerNode: 100,
})

/**
 * The DS node half (seed Fig. 12, "real server module"): a node-local table of targets the
 * dispatcher assigned to this node, with their rate estimate.
 */
export interface LocalTable {
  /** The dispatcher assigned `hash` to this node at `timeUs`. */
  assign(hash: number, timeUs: number): void
  /**
   * A client request for `hash` arrived at `timeUs` and this node's load is `ownLoad`:
   * true = serve locally without asking; false = the local assignment (if any) is cleared, ask.
   */
  check(hash: number, timeUs: number, ownLoad: number): boolean
  /** Targets currently assigned here. */
  size(): number
  close(): void
}
