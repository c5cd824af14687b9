// lard-cost: the seed's LARD variant, get_node() of its Fig. 11. Every node up gets a cost:
// hit_cost if it is the target's current node else miss_cost, plus bal_cost if its load is
// under MAX_LOAD else inval_cost; the cheapest wins (ties: lower load, then lower id) and
// becomes the target's node [inferred: the figure never says when file[request].node_id is
// set, nor initialises temp_id]. So a hot target stays put until its node reaches MAX_LOAD.
import type { PolicyName, PolicyParams } from '../types.js'
import type { NodeTable } from './nodes.js'
import { ReferenceScheduler } from './scheduler.js'
import { TargetTable, type TargetEntry } from './targets.js'

interface CostTarget extends TargetEntry {
  server: number
}

/** get_node(): the cheapest node for a target whose current node is `owner` (-1: none). */
export function cheapestNode(nodes: NodeTable, owner: number, params: Readonly<PolicyParams>): number {
  let best = -1
  let bestCost = Infinity
  for (const id of nodes.upIds) {
    const cost =
      (id === owner ? params.hitCost : params.missCost) +
      (nodes.load[id] < params.maxLoad ? params.balCost : params.invalCost)
    if (cost < bestCost || (cost === bestCost && nodes.lessLoaded(id, best))) {
      best = id
      bestCost = cost
    }
  }
  return best
}

export class LardCostScheduler extends ReferenceScheduler {
  private readonly targets: TargetTable<CostTarget>

  constructor(policy: PolicyName, params: Readonly<PolicyParams>) {
    super(policy, params)
    this.targets = new TargetTable(params.targetCapacity, (hash) => ({ hash, lastUsedUs: 0, server: -1 }))
  }

  protected override targetTable(): TargetTable<CostTarget> {
    return this.targets
  }

  protected override forgetNode(id: number): void {
    for (const target of this.targets.entries()) if (target.server === id) target.server = -1
  }

  protected pick(_receiving: number, hash: number, timeUs: number): number {
    const target = this.targets.getOrInsert(hash, timeUs)
    target.server = cheapestNode(this.nodes, target.server, this.params)
    return target.server
  }
}
