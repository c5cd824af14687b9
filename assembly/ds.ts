// ds: the dispatcher half of Dual Scheduling (seed Fig. 12); see service/policy/reference/ds.ts
// for the rule and what is inferred.
import { cheapestNode } from './lard-cost'
import { arrive } from './rate'
import { hotAllocReceiving, hotThreshold, leastLoadedIn, maxLoad, mostLoadedIn, nodeLoad, nodeUp, ownerAfter, upCount } from './state'
import { E_OWNER, E_SET, targetFor } from './targets'

export function pickDs(receiving: i32, hash: u32, t: f64): i32 {
  const e = targetFor(hash, t)
  const rate = arrive(e, t, 1)
  let server = load<i32>(e, E_OWNER)
  if (rate >= hotThreshold && hotAllocReceiving && nodeUp(receiving)) {
    store<u64>(e, load<u64>(e, E_SET) | (<u64>1 << <u64>receiving), E_SET)
    server = receiving
  } else if (rate >= hotThreshold) {
    let wanted = Math.ceil(rate / hotThreshold)
    if (wanted < 1) wanted = 1
    if (wanted > <f64>upCount) wanted = <f64>upCount
    const want = <i32>wanted
    let set = load<u64>(e, E_SET)
    if (set == 0 && server >= 0) set = <u64>1 << <u64>server
    while (<i32>popcnt<u64>(set) < want) set |= <u64>1 << <u64>leastLoadedIn(~set)
    while (<i32>popcnt<u64>(set) > want) set &= ~(<u64>1 << <u64>mostLoadedIn(set))
    store<u64>(e, set, E_SET)
    if (((set >> <u64>receiving) & 1) != 0 && nodeLoad(receiving) < maxLoad) server = receiving
    else server = leastLoadedIn(set)
  } else {
    store<u64>(e, 0, E_SET)
    const chosen = cheapestNode(server)
    store<i32>(e, ownerAfter(server, chosen), E_OWNER)
    return chosen
  }
  store<i32>(e, server, E_OWNER)
  return server
}
