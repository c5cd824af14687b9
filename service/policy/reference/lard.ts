// lard: basic LARD (Pai et al. 1998). A target stays on its node until that node is over
// T_high while some node is under T_low, or reaches 2*T_high; then it moves to the least
// loaded node. A target with no node (new, evicted, or its node left) goes to the least loaded.
import type { PolicyName, PolicyParams } from '../types.js'
import { ReferenceScheduler } from './scheduler.js'
import { TargetTable, type TargetEntry } from './targets.js'

interface LardTarget extends TargetEntry {
  server: number
}

export class LardScheduler extends ReferenceScheduler {
  private readonly targets: TargetTable<LardTarget>

  constructor(policy: PolicyName, params: Readonly<PolicyParams>) {
    super(policy, params)
    this.targets = new TargetTable(params.targetCapacity, (hash) => ({ hash, lastUsedUs: 0, server: -1 }))
  }

  protected override targetTable(): TargetTable<LardTarget> {
    return this.targets
  }

  protected override forgetNode(id: number): void {
    for (const target of this.targets.entries()) if (target.server === id) target.server = -1
  }

  protected pick(_receiving: number, hash: number, timeUs: number): number {
    const target = this.targets.getOrInsert(hash, timeUs)
    if (target.server < 0 || overloaded(this.nodes.load[target.server], this.nodes.minLoad(), this.params)) {
      target.server = this.nodes.leastLoaded()
    }
    return target.server
  }
}

/** Pai et al.'s move test: over T_high while some node is under T_low, or at 2*T_high. */
export function overloaded(load: number, minLoad: number, params: Readonly<PolicyParams>): boolean {
  return (load > params.tHigh && minLoad < params.tLow) || load >= 2 * params.tHigh
}
