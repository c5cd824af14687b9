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
  // one member: no scan (the usual case for a target that is not hot)
  let node = popcnt<u64>(set) == 1 ? <i32>ctz<u64>(set) : leastLoadedIn(set)
  const before = set
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
    // the most loaded member of the set as it was before any addition (Pai's order);
    // loads have not changed since, so computing it now gives the same node
    set &= ~(<u64>1 << <u64>mostLoadedIn(before))
    changed = true
  }
  if (changed) {
    store<u64>(e, set, E_SET)
    store<f64>(e, t, E_CHANGED)
  }
  return node
}
