// The target table: open addressing over a power-of-two array of 64-byte entries (one cache
// line each). A target lives in one of PROBE_WINDOW consecutive slots from its home slot
// fmix32(hash) & mask; when all of them hold other targets, the least recently used one
// (smallest lastUsed, the first in probe order on a tie) is evicted and its slot reused.
// Slots are never emptied, so a lookup stops at the first empty slot. Same rule as
// service/policy/reference/targets.ts.
import { fmix32 } from './hash'
import { reserve } from './memory'

export const PROBE_WINDOW: u32 = 8
export const ENTRY_BYTES: usize = 64

// Entry layout (byte offsets).
export const E_HASH = 0 // u32
export const E_FLAGS = 4 // u32: FLAG_USED | FLAG_ASSIGNED
export const E_OWNER = 8 // i32: the target's node, -1 = none
export const E_SET = 16 // u64: server set (lard-r, ds), bit i = node i
export const E_LAST_USED = 24 // f64: time of the last request (eviction)
export const E_CHANGED = 32 // f64: lard-r: when the set last changed
export const E_R0 = 40 // f64 x3: rate estimator state (rate.ts)
export const E_R1 = 48
export const E_R2 = 56

export const FLAG_USED: u32 = 1
export const FLAG_ASSIGNED: u32 = 2

export let tablePtr: usize = 0
export let tableSlots: u32 = 0
let tableMask: u32 = 0
export let targetCount: i32 = 0
export let evictions: f64 = 0
/** Node-local table: how many entries carry FLAG_ASSIGNED. */
export let assignedCount: i32 = 0

export function initTargets(slots: u32): bool {
  tablePtr = reserve(<usize>slots * ENTRY_BYTES)
  if (tablePtr == 0) return false
  tableSlots = slots
  tableMask = slots - 1
  return true
}

// @ts-ignore: decorator
@inline export function slotAt(i: u32): usize {
  return tablePtr + <usize>i * ENTRY_BYTES
}

/** The entry of `hash`, or 0. */
export function findTarget(hash: u32): usize {
  const home = fmix32(hash)
  for (let k: u32 = 0; k < PROBE_WINDOW; k++) {
    const e = slotAt((home + k) & tableMask)
    if (load<u32>(e, E_FLAGS) == 0) return 0
    if (load<u32>(e, E_HASH) == hash) return e
  }
  return 0
}

/** The entry of `hash`, created when absent (evicting the coldest in the window); marked used at t. */
export function targetFor(hash: u32, t: f64): usize {
  const home = fmix32(hash)
  let coldest: usize = 0
  for (let k: u32 = 0; k < PROBE_WINDOW; k++) {
    const e = slotAt((home + k) & tableMask)
    if (load<u32>(e, E_FLAGS) == 0) {
      targetCount++
      return fresh(e, hash, t)
    }
    if (load<u32>(e, E_HASH) == hash) {
      store<f64>(e, t, E_LAST_USED)
      return e
    }
    if (coldest == 0 || load<f64>(e, E_LAST_USED) < load<f64>(coldest, E_LAST_USED)) coldest = e
  }
  if (load<u32>(coldest, E_FLAGS) & FLAG_ASSIGNED) assignedCount--
  evictions += 1
  return fresh(coldest, hash, t)
}

export function setAssigned(e: usize, assigned: bool): void {
  const flags = load<u32>(e, E_FLAGS)
  store<u32>(e, assigned ? flags | FLAG_ASSIGNED : flags & ~FLAG_ASSIGNED, E_FLAGS)
  assignedCount += assigned ? 1 : -1
}

function fresh(e: usize, hash: u32, t: f64): usize {
  store<u32>(e, hash, E_HASH)
  store<u32>(e, FLAG_USED, E_FLAGS)
  store<i32>(e, -1, E_OWNER)
  store<u64>(e, 0, E_SET)
  store<f64>(e, t, E_LAST_USED)
  store<f64>(e, 0, E_CHANGED)
  store<f64>(e, -Infinity, E_R0)
  store<f64>(e, 0, E_R1)
  store<f64>(e, 0, E_R2)
  return e
}

/** A node left: no target names it any more (reassigned on its next request). */
export function forgetNode(id: i32): void {
  const bit: u64 = ~(<u64>1 << <u64>id)
  for (let i: u32 = 0; i < tableSlots; i++) {
    const e = slotAt(i)
    if (load<u32>(e, E_FLAGS) == 0) continue
    if (load<i32>(e, E_OWNER) == id) store<i32>(e, -1, E_OWNER)
    store<u64>(e, load<u64>(e, E_SET) & bit, E_SET)
  }
}
