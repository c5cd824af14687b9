// chbl: consistent hashing with bounded loads; see service/policy/reference/chbl.ts.
// The ring is an array of u64 (point << 32 | node), sorted, so equal points order by node id.
import { fmix32 } from './hash'
import { reserve } from './memory'
import { balanceFactor, leastLoaded, maxNodes, nodeLoad, nodeWeight, ringPoints, upAt, upCount } from './state'

let ringPtr: usize = 0
let ringLength: i32 = 0

export function initRing(): bool {
  ringPtr = reserve(<usize>maxNodes * <usize>ringPoints * 8)
  return ringPtr != 0
}

function ringPoint(node: i32, r: i32): u32 {
  return fmix32((<u32>(node + 1) * 0x9e3779b1) ^ (<u32>(r + 1) * 0x85ebca77))
}

// @ts-ignore: decorator
@inline function ringAt(i: i32): u64 {
  return load<u64>(ringPtr + (<usize>i << 3))
}

function siftDown(start: i32, end: i32): void {
  let root = start
  for (;;) {
    let child = 2 * root + 1
    if (child >= end) return
    if (child + 1 < end && ringAt(child + 1) > ringAt(child)) child++
    if (ringAt(root) >= ringAt(child)) return
    const swap = ringAt(root)
    store<u64>(ringPtr + (<usize>root << 3), ringAt(child))
    store<u64>(ringPtr + (<usize>child << 3), swap)
    root = child
  }
}

export function chblMembershipChanged(): void {
  ringLength = 0
  for (let i = 0; i < upCount; i++) {
    const node = upAt(i)
    for (let r = 0; r < ringPoints; r++) {
      store<u64>(ringPtr + (<usize>ringLength << 3), (<u64>ringPoint(node, r) << 32) | <u64>node)
      ringLength++
    }
  }
  // heap sort, ascending
  for (let start = ringLength / 2 - 1; start >= 0; start--) siftDown(start, ringLength)
  for (let end = ringLength - 1; end > 0; end--) {
    const top = ringAt(0)
    store<u64>(ringPtr, ringAt(end))
    store<u64>(ringPtr + (<usize>end << 3), top)
    siftDown(0, end)
  }
}

function firstPointFrom(hash: u32): i32 {
  let lo = 0
  let hi = ringLength
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (<u32>(ringAt(mid) >> 32) < hash) lo = mid + 1
    else hi = mid
  }
  return lo == ringLength ? 0 : lo
}

export function pickChbl(hash: u32): i32 {
  let total: f64 = 0
  let weights: f64 = 0
  for (let i = 0; i < upCount; i++) {
    const id = upAt(i)
    total += <f64>nodeLoad(id)
    weights += <f64>nodeWeight(id)
  }
  const room = <f64>balanceFactor * (total + 1)
  const scale = 100 * weights
  let at = firstPointFrom(hash)
  for (let k = 0; k < ringLength; k++) {
    const node = <i32>(ringAt(at) & 0xffffffff)
    if (scale * <f64>nodeLoad(node) < room * <f64>nodeWeight(node)) return node
    at++
    if (at == ringLength) at = 0
  }
  return leastLoaded()
}
