// The target table: open addressing over a power-of-two array of 64-byte entries (one cache
// line each). A target lives in one of PROBE_WINDOW consecutive slots from its home slot
// fmix32(hash) & mask; when all of them hold other targets, the least recently used one
// (smallest lastUsed, the first in probe order on a tie) is evicted and its slot reused.
// Slots are never emptied, so a lookup stops at the first empty slot. Same rule as
// service/policy/reference/targets.ts.
// Probing reads a separate array of 8-byte tags ((1 << 32) | hash, 0 = empty), so a lookup
// touches one or two cache lines of tags and then the one entry it needs, instead of up to
// PROBE_WINDOW entries; only an eviction reads the window's entries (for lastUsed).
import { fmix32 } from './hash'
import { reserve } from './memory'

export const PROBE_WINDOW: u32 = 8
/** Full entries (lard-r, ds, the node half) take 64 bytes; lard and lard-cost need only the first 32. */
let entryShift: usize = 6

// Entry layout (byte offsets; a 32-byte entry stops after E_LAST_USED).
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
let tagsPtr: usize = 0
export let tableSlots: u32 = 0
let tableMask: u32 = 0
export let targetCount: i32 = 0
export let evictions: f64 = 0
/** Node-local table: how many entries carry FLAG_ASSIGNED. */
export let assignedCount: i32 = 0

export function initTargets(slots: u32, smallEntries: bool): bool {
  entryShift = smallEntries ? 5 : 6
  tablePtr = reserve(<usize>slots << entryShift)
  tagsPtr = reserve(<usize>slots << 3)
  if (tablePtr == 0 || tagsPtr == 0) return false
  tableSlots = slots
  tableMask = slots - 1
  return true
}

// @ts-ignore: decorator
@inline export function slotAt(i: u32): usize {
  return tablePtr + (<usize>i << entryShift)
}

// @ts-ignore: decorator
@inline function tagAt(i: u32): u64 {
  return load<u64>(tagsPtr + (<usize>i << 3))
}

// @ts-ignore: decorator
@inline function tagOf(hash: u32): u64 {
  return (<u64>1 << 32) | <u64>hash
}

/**
 * Load the home tag and home entry of `hash` and return something of them: a batch touches the
 * lines of its next requests together, so that their cache misses overlap instead of coming
 * one at a time (Wasm has no prefetch instruction).
 */
// @ts-ignore: decorator
@inline export function touchTarget(hash: u32): u64 {
  const i = fmix32(hash) & tableMask
  return tagAt(i) ^ load<u64>(slotAt(i), E_LAST_USED)
}

export function entryBytes(): usize {
  return <usize>1 << entryShift
}

/** The entry of `hash`, or 0. */
export function findTarget(hash: u32): usize {
  const home = fmix32(hash)
  const tag = tagOf(hash)
  for (let k: u32 = 0; k < PROBE_WINDOW; k++) {
    const i = (home + k) & tableMask
    const found = tagAt(i)
    if (found == tag) return slotAt(i)
    if (found == 0) return 0
  }
  return 0
}

/** The entry of `hash`, created when absent (evicting the coldest in the window); marked used at t. */
export function targetFor(hash: u32, t: f64): usize {
  const home = fmix32(hash)
  const tag = tagOf(hash)
  for (let k: u32 = 0; k < PROBE_WINDOW; k++) {
    const i = (home + k) & tableMask
    const found = tagAt(i)
    if (found == tag) {
      const e = slotAt(i)
      store<f64>(e, t, E_LAST_USED)
      return e
    }
    if (found == 0) {
      targetCount++
      return fresh(i, hash, t)
    }
  }
  let coldest = home & tableMask
  for (let k: u32 = 1; k < PROBE_WINDOW; k++) {
    const i = (home + k) & tableMask
    if (load<f64>(slotAt(i), E_LAST_USED) < load<f64>(slotAt(coldest), E_LAST_USED)) coldest = i
  }
  if (load<u32>(slotAt(coldest), E_FLAGS) & FLAG_ASSIGNED) assignedCount--
  evictions += 1
  return fresh(coldest, hash, t)
}

export function setAssigned(e: usize, assigned: bool): void {
  const flags = load<u32>(e, E_FLAGS)
  store<u32>(e, assigned ? flags | FLAG_ASSIGNED : flags & ~FLAG_ASSIGNED, E_FLAGS)
  assignedCount += assigned ? 1 : -1
}

function fresh(i: u32, hash: u32, t: f64): usize {
  store<u64>(tagsPtr + (<usize>i << 3), tagOf(hash))
  const e = slotAt(i)
  store<u32>(e, hash, E_HASH)
  store<u32>(e, FLAG_USED, E_FLAGS)
  store<i32>(e, -1, E_OWNER)
  store<u64>(e, 0, E_SET)
  store<f64>(e, t, E_LAST_USED)
  if (entryShift == 5) return e
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
