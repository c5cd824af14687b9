// The instance's parameters and its node table. One Wasm instance = one scheduler (or one
// node-local table, or one hasher), so module globals are that scheduler's state.
import { reserve } from './memory'

// Ties everywhere: lower load, then lower node id; the up list is kept in ascending id
// order, so a scan that keeps the first best also keeps the lowest id.

export const POLICY_WRR = 0
export const POLICY_LC = 1
export const POLICY_LARD = 2
export const POLICY_LARD_R = 3
export const POLICY_LARD_COST = 4
export const POLICY_DS = 5
export const POLICY_CHBL = 6
export const MODE_LOCAL_TABLE = 7

export const ESTIMATOR_EWMA = 0
export const ESTIMATOR_WINDOW = 1
export const ESTIMATOR_LITERAL = 2

export const OWNER_ALWAYS = 0
export const OWNER_NEW = 1
export const OWNER_NEVER = 2

// Readings (service/policy/README.md): the interpretation choices, set once after init.
/** get_node() ties go to the lowest id (Fig. 11) instead of the lower load. */
export let costTiesById: bool = false
/** When get_node() records the target's node (OWNER_*). */
export let ownerUpdate: i32 = OWNER_ALWAYS
/** alloc_new_node() adds and picks the receiving node instead of a rate-sized set. */
export let hotAllocReceiving: bool = false
/** The DS node half counts handed-off requests in its rate too. */
export let localRateServed: bool = false

export function setChoices(tiesById: bool, owner: i32, allocReceiving: bool, rateServed: bool): void {
  costTiesById = tiesById
  ownerUpdate = owner
  hotAllocReceiving = allocReceiving
  localRateServed = rateServed
}

/** The target's node after get_node() chose `chosen` for it. */
export function ownerAfter(owner: i32, chosen: i32): i32 {
  if (ownerUpdate == OWNER_ALWAYS) return chosen
  if (ownerUpdate == OWNER_NEW && owner < 0) return chosen
  return owner
}

export let policy: i32 = -1
export let maxNodes: i32 = 0
export let tLow: i32 = 0
export let tHigh: i32 = 0
export let shrinkUs: f64 = 0
export let maxLoad: i32 = 0
export let hitCost: f64 = 0
export let missCost: f64 = 0
export let balCost: f64 = 0
export let invalCost: f64 = 0
export let hotThreshold: f64 = 0
export let unitUs: f64 = 0
export let estimator: i32 = 0
export let balanceFactor: i32 = 0
export let ringPoints: i32 = 0

export function setParams(
  policy_: i32, maxNodes_: i32, tLow_: i32, tHigh_: i32, shrinkUs_: f64, maxLoad_: i32,
  hit: f64, miss: f64, bal: f64, inval: f64, hot: f64, unit: f64, estimator_: i32, factor: i32, points: i32,
): void {
  policy = policy_
  maxNodes = maxNodes_
  tLow = tLow_
  tHigh = tHigh_
  shrinkUs = shrinkUs_
  maxLoad = maxLoad_
  hitCost = hit
  missCost = miss
  balCost = bal
  invalCost = inval
  hotThreshold = hot
  unitUs = unit
  estimator = estimator_
  balanceFactor = factor
  ringPoints = points
}

// Node table: i32 columns of maxNodes entries.
export let loadPtr: usize = 0
export let weightPtr: usize = 0
export let upPtr: usize = 0
/** Ids of the nodes up, ascending; upCount of them. */
export let upListPtr: usize = 0
export let upCount: i32 = 0

export function initNodes(): bool {
  const bytes = <usize>maxNodes << 2
  loadPtr = reserve(bytes)
  weightPtr = reserve(bytes)
  upPtr = reserve(bytes)
  upListPtr = reserve(bytes)
  if (upListPtr == 0) return false
  for (let n = 0; n < maxNodes; n++) setNodeWeight(n, 1)
  return true
}

// @ts-ignore: decorator
@inline export function nodeLoad(id: i32): i32 {
  return load<i32>(loadPtr + (<usize>id << 2))
}
// @ts-ignore: decorator
@inline export function setNodeLoad(id: i32, value: i32): void {
  store<i32>(loadPtr + (<usize>id << 2), value)
}
// @ts-ignore: decorator
@inline export function nodeWeight(id: i32): i32 {
  return load<i32>(weightPtr + (<usize>id << 2))
}
// @ts-ignore: decorator
@inline export function nodeUp(id: i32): bool {
  return load<i32>(upPtr + (<usize>id << 2)) != 0
}
// @ts-ignore: decorator
@inline export function upAt(i: i32): i32 {
  return load<i32>(upListPtr + (<usize>i << 2))
}

export function setNodeWeight(id: i32, weight: i32): void {
  store<i32>(weightPtr + (<usize>id << 2), weight)
}

export function setNodeUp(id: i32, up: bool): void {
  store<i32>(upPtr + (<usize>id << 2), up ? 1 : 0)
  if (!up) setNodeLoad(id, 0)
  upCount = 0
  for (let n = 0; n < maxNodes; n++) {
    if (nodeUp(n)) {
      store<i32>(upListPtr + (<usize>upCount << 2), n)
      upCount++
    }
  }
}

/** The least loaded node up (lower id on a tie). */
export function leastLoaded(): i32 {
  let best = upAt(0)
  let bestLoad = nodeLoad(best)
  for (let i = 1; i < upCount; i++) {
    const id = upAt(i)
    const l = nodeLoad(id)
    if (l < bestLoad) {
      best = id
      bestLoad = l
    }
  }
  return best
}

/** The least loaded node up whose bit is set in `set` (-1 if none). */
export function leastLoadedIn(set: u64): i32 {
  let best = -1
  let bestLoad: i32 = 0
  for (let i = 0; i < upCount; i++) {
    const id = upAt(i)
    if (((set >> <u64>id) & 1) == 0) continue
    const l = nodeLoad(id)
    if (best < 0 || l < bestLoad) {
      best = id
      bestLoad = l
    }
  }
  return best
}

/** The most loaded member of `set` (higher load, then higher id). */
export function mostLoadedIn(set: u64): i32 {
  let worst = -1
  let worstLoad: i32 = 0
  for (let i = 0; i < upCount; i++) {
    const id = upAt(i)
    if (((set >> <u64>id) & 1) == 0) continue
    const l = nodeLoad(id)
    if (worst < 0 || l >= worstLoad) {
      worst = id
      worstLoad = l
    }
  }
  return worst
}

export function minLoad(): i32 {
  let min = nodeLoad(upAt(0))
  for (let i = 1; i < upCount; i++) {
    const l = nodeLoad(upAt(i))
    if (l < min) min = l
  }
  return min
}

/** Pai et al.'s move test: over T_high while some node is under T_low, or at 2*T_high. */
export function overloaded(l: i32): bool {
  return (l > tHigh && minLoad() < tLow) || l >= 2 * tHigh
}
