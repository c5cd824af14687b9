// lard-cost: the seed's get_node() (Fig. 11); see service/policy/reference/lard-cost.ts.
import { balCost, costTiesById, hitCost, invalCost, maxLoad, missCost, nodeLoad, ownerAfter, upAt, upCount } from './state'
import { E_OWNER, targetFor } from './targets'

/** The cheapest node for a target whose node is `owner` (-1: none); ties: lower load, lower id, or (costTiesById) the lowest id. */
export function cheapestNode(owner: i32): i32 {
  // Shortcut, same answer as the scan: every other node costs at least miss + min(bal, inval),
  // so an owner under MAX_LOAD that costs strictly less is the unique cheapest.
  if (owner >= 0 && nodeLoad(owner) < maxLoad) {
    const floor = missCost + (balCost < invalCost ? balCost : invalCost)
    if (hitCost + balCost < floor) return owner
  }
  let best = -1
  let bestCost = Infinity
  let bestLoad: i32 = 0
  for (let i = 0; i < upCount; i++) {
    const id = upAt(i)
    const l = nodeLoad(id)
    const cost = (id == owner ? hitCost : missCost) + (l < maxLoad ? balCost : invalCost)
    if (cost < bestCost || (cost == bestCost && !costTiesById && l < bestLoad)) {
      best = id
      bestCost = cost
      bestLoad = l
    }
  }
  return best
}

export function pickLardCost(hash: u32, t: f64): i32 {
  const e = targetFor(hash, t)
  const owner = load<i32>(e, E_OWNER)
  const server = cheapestNode(owner)
  store<i32>(e, ownerAfter(owner, server), E_OWNER)
  return server
}
