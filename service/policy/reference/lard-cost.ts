// lard-cost: the seed's LARD variant, get_node() of its Fig. 11. Every node up gets a cost:
// hit_cost if it is the target's current node else miss_cost, plus bal_cost if its load is
// under MAX_LOAD else inval_cost; the cheapest wins and becomes the target's node. Two choices
// the figure leaves to the reader are parameters (service/policy/README.md, "Readings"):
//   costTies 'load' (ours): ties go to the lower load, then the lower id; 'id': the figure's
//     `min_cost = cost(0)` and strict `<` give a tie to the lowest id.
//   ownerUpdate 'always' (ours): the chosen node becomes file[request].node_id; 'new': only a
//     target without a node gets one; 'never': the figure never assigns it.
// So a hot target stays put until its node reaches MAX_LOAD.
import type { PolicyName, PolicyParams } from '../types.js'
import type { NodeTable } from './nodes.js'
import { ReferenceScheduler } from './scheduler.js'
import { TargetTable, type TargetEntry } from './targets.js'

interface CostTarget extends TargetEntry {
  server: number
}

/** The target's node after get_node() chose `chosen` for it (ownerUpdate). */
export function ownerAfter(owner: number, chosen: number, params: Readonly<PolicyParams>): number {
  if (params.ownerUpdate === 'always') return chosen
  if (params.ownerUpdate === 'new' && owner < 0) return chosen
  return owner
}

/** get_node(): the cheapest node for a target whose current node is `owner` (-1: none). */
export function cheapestNode(nodes: NodeTable, owner: number, params: Readonly<PolicyParams>): number {
  let best = -1
  let bestCost = Infinity
  for (const id of nodes.upIds) {
    const cost =
      (id === owner ? params.hitCost : params.missCost) +
      (nodes.load[id] < params.maxLoad ? params.balCost : params.invalCost)
    if (cost < bestCost || (cost === bestCost && params.costTies === 'load' && nodes.lessLoaded(id, best))) {
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
    const chosen = cheapestNode(this.nodes, target.server, this.params)
    target.server = ownerAfter(target.server, chosen, this.params)
    return chosen
  }
}
