// lard-r: LARD with replication (Pai et al. 1998); see service/policy/reference/lard-r.ts.
// The server set is a 64-bit mask in the entry.
import { leastLoaded, leastLoadedIn, mostLoadedIn, nodeLoad, overloaded, shrinkUs } from './state'
import { E_CHANGED, E_SET, targetFor } from './targets'

export function pickLardR(hash: u32, t: f64): i32 {
  const e = targetFor(hash, t)
  let set = load<u64>(e, E_SET)
  if (set == 0) {
    const first = leastLoaded()
    store<u64>(e, <u64>1 << <u64>first, E_SET)
    store<f64>(e, t, E_CHANGED)
    return first
  }
  let node = leastLoadedIn(set)
  const mostLoaded = mostLoadedIn(set)
  let changed = false
  if (overloaded(nodeLoad(node))) {
    const spare = leastLoaded()
    const bit = <u64>1 << <u64>spare
    if ((set & bit) == 0) {
      set |= bit
      changed = true
    }
    node = spare
  }
  if (popcnt<u64>(set) > 1 && t - load<f64>(e, E_CHANGED) > shrinkUs) {
    set &= ~(<u64>1 << <u64>mostLoaded)
    changed = true
  }
  if (changed) {
    store<u64>(e, set, E_SET)
    store<f64>(e, t, E_CHANGED)
  }
  return node
}
