// The one interface every distribution policy implements, twice: a plain TypeScript
// reference (service/policy/reference/) and the Wasm core (assembly/, wrapped in
// service/policy/wasm.ts). The dispatcher, the simulator and the benchmarks only see this.
//
// Batches are column arrays that the caller fills in place and the scheduler reads in
// one call (for Wasm they are views on its linear memory, so nothing is copied).

export const POLICY_NAMES = ['wrr', 'lc', 'lard', 'lard-r', 'lard-cost', 'ds', 'chbl'] as const
export type PolicyName = (typeof POLICY_NAMES)[number]

export type RateEstimator = 'ewma' | 'window' | 'literal'
/** get_node() ties: lower load then lower id (ours), or the lowest id (Fig. 11's strict `<` from cost(0)). */
export type CostTies = 'load' | 'id'
/** When get_node() records the target's node: every decision (ours), only a target without one, or never (Fig. 11 as written). */
export type OwnerUpdate = 'always' | 'new' | 'never'
/** DS alloc_new_node(): a node set sized by the rate (ours), or the receiving node (reschedule(file, node)). */
export type HotAlloc = 'set' | 'receiving'
/** DS node half: the rate counts requests arriving here (ours) or every request this node serves, handed-off ones too. */
export type LocalRate = 'arrivals' | 'served'

/** The string-valued parameters and their allowed values (parsing and checks). */
export const CHOICE_PARAMS = {
  rateEstimator: ['ewma', 'window', 'literal'],
  costTies: ['load', 'id'],
  ownerUpdate: ['always', 'new', 'never'],
  hotAlloc: ['set', 'receiving'],
  localRate: ['arrivals', 'served'],
} as const

export interface PolicyParams {
  /** Node table size: node ids are 0 .. maxNodes-1 (1 to 64; server sets are 64-bit masks). */
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
  /** lard-cost and DS's get_node(): how cost ties are broken (service/policy/README.md, readings). */
  costTies: CostTies
  /** lard-cost and DS's get_node(): when the chosen node becomes the target's node. */
  ownerUpdate: OwnerUpdate
  /** DS: what alloc_new_node() does with a hot target. */
  hotAlloc: HotAlloc
  /** DS node half: which requests its rate counts. */
  localRate: LocalRate
  /** CHBL: capacity factor as a percentage (HAProxy hash-balance-factor; 125). */
  balanceFactorPercent: number
  /** CHBL: points on the ring per unit of weight. */
  ringPointsPerNode: number
  /**
   * Ours, not the seed's (off by default; service/node/README.md, "Reusing a recent
   * assignment"): for this many milliseconds after the dispatcher answers which node serves a
   * target, the node that asked sends further requests for that target to the same node
   * without asking again. Saves a dispatcher round trip per reused request; the dispatcher
   * then neither decides nor counts them, so it changes the policy's decisions (locality and
   * balance: `l7 simulate --param reuseMs=N`). 0 = ask every time, as the seed and every policy
   * here do. Node side only: the schedulers (TypeScript and Wasm) ignore it.
   */
  reuseMs: number
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

// Where each default comes from (see service/policy/README.md and ALGORITHMS.md).
export const DEFAULT_PARAMS: Readonly<PolicyParams> = Object.freeze({
  /** The node table holds 64 nodes (the minimum; server sets are 64-bit masks). */
  maxNodes: 64,
  /** Ours: 65,536 targets, 64 bytes each in Wasm (4 MiB); the seed's file set has 2,000. */
  targetCapacity: 1 << 16,
  /** Ours: large enough for the dispatcher's adaptive batches (Aron et al. 2000 batch per round trip). */
  batchCapacity: 4096,
  /** Pai et al. 1998 T_low = 25 [V-2nd]. */
  tLow: 25,
  /** Pai et al. 1998 T_high = 65 [V-2nd]. */
  tHigh: 65,
  /** LARD/R K = 20 s [unverified] (IPVS lblcr uses 24 h). */
  shrinkSeconds: 20,
  /** Seed Fig. 11 MAX_LOAD = 80, taken by the seed from Pai et al. [paper]. */
  maxLoad: 80,
  /** Seed Fig. 11 gives no cost values. Hit: 1, Aron et al. 1999's locality cost of a cached target [inferred]. */
  hitCost: 1,
  /** Miss: 50, Aron et al. 1999's miss cost [V]. */
  missCost: 50,
  /** Balance cost of a node under MAX_LOAD: the same constant for every such node, 0 [inferred]. */
  balCost: 0,
  /** Cost of a node at MAX_LOAD or above: Aron et al. 1999's "infinity", as a large finite number [inferred]. */
  invalCost: 1_000_000,
  /** Seed: a target is hot at 200 requests per second [paper]. */
  hotThreshold: 200,
  /** Seed leaves the unit time open; 1 s matches the threshold's unit [inferred]. */
  unitTimeUs: 1_000_000,
  /** Ours: an exponentially decayed count, stable under bursts; 'literal' keeps the seed's reading. */
  rateEstimator: 'ewma',
  /** Ours: lower load, then lower id (as every other policy). 'id' is Fig. 11 as written. */
  costTies: 'load',
  /** Ours [inferred]: the chosen node becomes the target's node. Fig. 11 never sets it ('never'). */
  ownerUpdate: 'always',
  /** Ours [inferred]: a set of ceil(rate / hotThreshold) nodes. */
  hotAlloc: 'set',
  /** Ours: the node counts the requests that arrive at it (what it observes before asking). */
  localRate: 'arrivals',
  /** HAProxy hash-balance-factor 125 (its recommended range is 125 to 200) [V]. */
  balanceFactorPercent: 125,
  /** Ours: 100 ring points per node (HAProxy uses weight-scaled points; Envoy 1024 total by default). */
  ringPointsPerNode: 100,
  /** Ours, not the seed's: 0 = off, every request the node does not serve by DS's node half asks the dispatcher. */
  reuseMs: 0,
})

/**
 * The DS node half (seed Fig. 12, "real server module"): a node-local table of targets the
 * dispatcher assigned to this node, with their rate estimate.
 */
export interface LocalTable {
  /**
   * The dispatcher assigned `hash` to this node at `timeUs`. `handedOff`: the request arrived
   * at another node (with localRate 'served' it then counts in this node's rate too).
   */
  assign(hash: number, timeUs: number, handedOff?: boolean): void
  /**
   * A client request for `hash` arrived at `timeUs` and this node's load is `ownLoad`:
   * true = serve locally without asking; false = the local assignment (if any) is cleared, ask.
   */
  check(hash: number, timeUs: number, ownLoad: number): boolean
  /** Targets currently assigned here. */
  size(): number
  close(): void
}
