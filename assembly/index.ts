// The Wasm policy core: one instance is one scheduler, one DS node-local table or one request
// hasher. The host (service/policy/wasm.ts) calls init*() once, writes batches straight into
// the column buffers whose addresses the *Ptr() exports give, and calls decide(n) / done(n).
// Input is checked here too, so that nothing the host writes can corrupt memory: a bad
// record makes decide/done return its index (see decide), and the host raises the error.
import { hashLine, hashTarget } from './hash'
import { reserve } from './memory'
import { pickChbl, chblMembershipChanged, initRing } from './chbl'
import { pickDs } from './ds'
import { pickLard } from './lard'
import { pickLardCost } from './lard-cost'
import { pickLardR } from './lard-r'
import { pickLc } from './lc'
import { arrive, rateAt } from './rate'
import {
  hotThreshold, initNodes, loadPtr, localRateServed, maxLoad, maxNodes, nodeLoad, nodeUp, policy, setNodeLoad, setNodeUp,
  setNodeWeight, setParams, upCount,
  POLICY_CHBL, POLICY_DS, POLICY_LARD, POLICY_LARD_COST, POLICY_LARD_R, POLICY_LC, POLICY_WRR, MODE_LOCAL_TABLE,
} from './state'
import {
  assignedCount, evictions, findTarget, forgetNode, initTargets, setAssigned, slotAt, tableSlots, targetCount,
  targetFor, touchTarget, E_FLAGS, E_LAST_USED, FLAG_ASSIGNED, tablePtr, entryBytes as targetEntryBytes,
} from './targets'
import { pickWrr, wrrMembershipChanged } from './wrr'
export { setChoices } from './state'

let batchCapacity: i32 = 0
let receivingPtr: usize = 0
let hashPtr: usize = 0
let timePtr: usize = 0
let reportedPtr: usize = 0
let chosenPtr: usize = 0
let doneNodePtr: usize = 0
let doneHashPtr: usize = 0
let inputPtr: usize = 0
let inputCapacity: i32 = 0
/** Requests whose table lines are loaded together, ahead of deciding them. */
const TOUCH_AHEAD = 16
/** Where the touched values go, so that the loads are not optimised away. */
let touchSink: u64 = 0
/** Latest request time decide() has seen: "now" for the host's hotTargets(). */
let nowUs: f64 = 0

function usesTargets(p: i32): bool {
  return p == POLICY_LARD || p == POLICY_LARD_R || p == POLICY_LARD_COST || p == POLICY_DS || p == MODE_LOCAL_TABLE
}

/**
 * Set up a scheduler (policy 0..6) or a node-local table (7). Returns 0, or -1 when memory
 * cannot hold the tables. `slots` is the target table size, a power of two.
 */
export function init(
  policy_: i32, maxNodes_: i32, slots: u32, batch: i32, tLow: i32, tHigh: i32, shrinkUs: f64, maxLoad_: i32,
  hit: f64, miss: f64, bal: f64, inval: f64, hot: f64, unitUs: f64, estimator: i32, factor: i32, points: i32,
): i32 {
  if (policy >= 0) return -2 // an instance is set up once
  setParams(policy_, maxNodes_, tLow, tHigh, shrinkUs, maxLoad_, hit, miss, bal, inval, hot, unitUs, estimator, factor, points)
  if (!initNodes()) return -1
  if (policy_ != MODE_LOCAL_TABLE) {
    batchCapacity = batch
    const b = <usize>batch
    receivingPtr = reserve(b << 2)
    hashPtr = reserve(b << 2)
    timePtr = reserve(b << 3)
    reportedPtr = reserve(b << 2)
    chosenPtr = reserve(b << 2)
    doneNodePtr = reserve(b << 2)
    doneHashPtr = reserve(b << 2)
    if (doneHashPtr == 0) return -1
    for (let i: usize = 0; i < b; i++) store<i32>(reportedPtr + (i << 2), -1)
  }
  if (usesTargets(policy_) && !initTargets(slots, policy_ == POLICY_LARD || policy_ == POLICY_LARD_COST)) return -1
  if (policy_ == POLICY_CHBL && !initRing()) return -1
  return 0
}

/** Set up a request hasher with an input buffer of `capacity` bytes. 0, or -1 without memory. */
export function initHasher(capacity: i32): i32 {
  inputPtr = reserve(<usize>capacity)
  if (inputPtr == 0) return -1
  inputCapacity = capacity
  return 0
}

export function receivingColumn(): usize { return receivingPtr }
export function hashColumn(): usize { return hashPtr }
export function timeColumn(): usize { return timePtr }
export function reportedLoadColumn(): usize { return reportedPtr }
export function chosenColumn(): usize { return chosenPtr }
export function doneNodeColumn(): usize { return doneNodePtr }
export function doneHashColumn(): usize { return doneHashPtr }
export function loadColumn(): usize { return loadPtr }
export function inputBuffer(): usize { return inputPtr }
export function tableStart(): usize { return tablePtr }
export function tableSize(): u32 { return tableSlots }
export function entryBytes(): usize { return targetEntryBytes() }
export function now(): f64 { return nowUs }
/** Never used by the host: keeps the touch loads alive. */
export function touched(): u64 { return touchSink }

/**
 * Decide requests [0, n). Returns -1 when done; else nothing was decided and the first bad
 * record is reported as 2*i (receiving node out of range) or 2*i + 1 (time not finite).
 * Returns -2 when n is out of range or no node is up.
 */
export function decide(n: i32): i32 {
  if (n < 0 || n > batchCapacity || (n > 0 && upCount == 0)) return -2
  for (let i = 0; i < n; i++) {
    const receiving = load<i32>(receivingPtr + (<usize>i << 2))
    if (<u32>receiving >= <u32>maxNodes) return 2 * i
    const t = load<f64>(timePtr + (<usize>i << 3))
    if (t - t != 0) return 2 * i + 1
  }
  const p = policy
  const touch = usesTargets(p)
  for (let i = 0; i < n; i++) {
    if (touch && (i & (TOUCH_AHEAD - 1)) == 0) {
      // touch the table lines of the next TOUCH_AHEAD requests together (see touchTarget)
      const end = min(i + TOUCH_AHEAD, n)
      let seen: u64 = 0
      for (let j = i; j < end; j++) seen ^= touchTarget(load<u32>(hashPtr + (<usize>j << 2)))
      touchSink ^= seen
    }
    const receiving = load<i32>(receivingPtr + (<usize>i << 2))
    const reported = load<i32>(reportedPtr + (<usize>i << 2))
    if (reported >= 0) setNodeLoad(receiving, reported)
    const hash = load<u32>(hashPtr + (<usize>i << 2))
    const t = load<f64>(timePtr + (<usize>i << 3))
    let node: i32
    switch (p) {
      case POLICY_LARD: node = pickLard(hash, t); break
      case POLICY_LARD_R: node = pickLardR(hash, t); break
      case POLICY_LARD_COST: node = pickLardCost(hash, t); break
      case POLICY_DS: node = pickDs(receiving, hash, t); break
      case POLICY_CHBL: node = pickChbl(hash); break
      case POLICY_LC: node = pickLc(); break
      default: node = pickWrr()
    }
    setNodeLoad(node, nodeLoad(node) + 1)
    store<i32>(chosenPtr + (<usize>i << 2), node)
    if (t > nowUs) nowUs = t
  }
  return -1
}

/** Release dones [0, n): -1, or the index of the first record whose node is out of range; -2 for a bad n. */
export function done(n: i32): i32 {
  if (n < 0 || n > batchCapacity) return -2
  for (let i = 0; i < n; i++) {
    if (<u32>load<i32>(doneNodePtr + (<usize>i << 2)) >= <u32>maxNodes) return i
  }
  for (let i = 0; i < n; i++) {
    const node = load<i32>(doneNodePtr + (<usize>i << 2))
    const l = nodeLoad(node)
    if (l > 0) setNodeLoad(node, l - 1)
  }
  return -1
}

function membershipChanged(): void {
  if (policy == POLICY_WRR) wrrMembershipChanged()
  else if (policy == POLICY_CHBL) chblMembershipChanged()
}

// Membership: the host has checked ids (0..maxNodes-1) and weights (>= 1); the checks here
// only keep memory safe.
export function addNode(id: i32, weight: i32): void {
  if (<u32>id >= <u32>maxNodes || weight < 1) return
  setNodeWeight(id, weight)
  setNodeUp(id, true)
  membershipChanged()
}

export function removeNode(id: i32): void {
  if (<u32>id >= <u32>maxNodes || !nodeUp(id)) return
  setNodeUp(id, false)
  if (usesTargets(policy)) forgetNode(id)
  membershipChanged()
}

export function setWeight(id: i32, weight: i32): void {
  if (<u32>id >= <u32>maxNodes || weight < 1) return
  setNodeWeight(id, weight)
  membershipChanged()
}

export function isUp(id: i32): bool {
  return <u32>id < <u32>maxNodes && nodeUp(id)
}

export function nodesUp(): i32 { return upCount }

export function getLoad(id: i32): i32 {
  return <u32>id < <u32>maxNodes ? nodeLoad(id) : 0
}

export function setLoad(id: i32, value: i32): void {
  if (<u32>id < <u32>maxNodes && value >= 0) setNodeLoad(id, value)
}

/** DS: a node served `count` requests for hash locally; fold them into the target's rate. */
export function observeLocal(hash: u32, count: f64, t: f64): void {
  if (policy != POLICY_DS) return
  const e = findTarget(hash)
  if (e == 0) return
  store<f64>(e, t, E_LAST_USED)
  arrive(e, t, count)
}

export function targetsStored(): i32 { return targetCount }
export function evictionCount(): f64 { return evictions }

/** The rate of the target in slot i at time t (hotTargets). */
export function slotRate(i: u32, t: f64): f64 {
  if (i >= tableSlots || load<u32>(slotAt(i), E_FLAGS) == 0) return 0
  return rateAt(slotAt(i), t)
}

// The DS node half (see service/policy/reference/local-table.ts for the rule).

export function localAssign(hash: u32, t: f64, handedOff: bool): void {
  let e = findTarget(hash)
  if (e == 0) {
    e = targetFor(hash, t)
    arrive(e, t, 1)
  } else if (handedOff && localRateServed) {
    arrive(e, t, 1)
  }
  store<f64>(e, t, E_LAST_USED)
  const flags = load<u32>(e, E_FLAGS)
  if ((flags & FLAG_ASSIGNED) == 0) setAssigned(e, true)
}

export function localCheck(hash: u32, t: f64, ownLoad: i32): bool {
  const e = findTarget(hash)
  if (e == 0) return false
  store<f64>(e, t, E_LAST_USED)
  const rate = arrive(e, t, 1)
  const flags = load<u32>(e, E_FLAGS)
  const assigned = (flags & FLAG_ASSIGNED) != 0
  if (assigned && rate >= hotThreshold && ownLoad < maxLoad) return true
  if (assigned) setAssigned(e, false)
  return false
}

export function localSize(): i32 { return assignedCount }

// Request hashing over the input buffer.

export function hashPath(length: i32, keepQuery: bool): f64 {
  if (length < 0 || length > inputCapacity) return -2
  return <f64>hashTarget(inputPtr, inputPtr + <usize>length, keepQuery)
}

export function hashRequestLine(length: i32, keepQuery: bool): f64 {
  if (length < 0 || length > inputCapacity) return -2
  return hashLine(inputPtr, inputPtr + <usize>length, keepQuery)
}
