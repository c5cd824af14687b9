// lard-r: LARD with replication (Pai et al. 1998, Fig. "LARD/R"). Each target has a server set.
// Send to its least loaded member; if that member is overloaded (the LARD test), add the
// cluster's least loaded node to the set and send there. If the set has more than one member
// and has not changed for K seconds, drop its most loaded member (chosen before any addition,
// as in Pai's pseudo-code; K counts from the last change, strictly more than K).
import type { PolicyName, PolicyParams } from '../types.js'
import { overloaded } from './lard.js'
import { ReferenceScheduler } from './scheduler.js'
import { TargetTable, type TargetEntry } from './targets.js'

interface LardRTarget extends TargetEntry {
  servers: Set<number>
  changedUs: number
}

export class LardRScheduler extends ReferenceScheduler {
  private readonly targets: TargetTable<LardRTarget>

  constructor(policy: PolicyName, params: Readonly<PolicyParams>) {
    super(policy, params)
    this.targets = new TargetTable(params.targetCapacity, (hash) => ({
      hash,
      lastUsedUs: 0,
      servers: new Set<number>(),
      changedUs: 0,
    }))
  }

  protected override targetTable(): TargetTable<LardRTarget> {
    return this.targets
  }

  protected override forgetNode(id: number): void {
    for (const target of this.targets.entries()) target.servers.delete(id)
  }

  protected pick(_receiving: number, hash: number, timeUs: number): number {
    const target = this.targets.getOrInsert(hash, timeUs)
    const nodes = this.nodes
    if (target.servers.size === 0) {
      const node = nodes.leastLoaded()
      target.servers.add(node)
      target.changedUs = timeUs
      return node
    }
    let node = nodes.leastLoadedOf(target.servers)
    const mostLoaded = nodes.mostLoadedOf(target.servers)
    let changed = false
    if (overloaded(nodes.load[node], nodes.minLoad(), this.params)) {
      const spare = nodes.leastLoaded()
      if (!target.servers.has(spare)) {
        target.servers.add(spare)
        changed = true
      }
      node = spare
    }
    if (target.servers.size > 1 && timeUs - target.changedUs > this.params.shrinkSeconds * 1e6) {
      target.servers.delete(mostLoaded)
      changed = true
    }
    if (changed) target.changedUs = timeUs
    return node
  }
}
