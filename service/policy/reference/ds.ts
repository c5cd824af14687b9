// ds: the dispatcher half of Dual Scheduling (seed Fig. 12). Every request updates its
// target's rate. A hot target (rate >= hotThreshold) is served by a set of nodes whose size
// follows the rate, ceil(rate / hotThreshold) from 1 to all nodes up [inferred reading of
// alloc_new_node]: the set starts from the target's current node, grows with the least
// loaded nodes outside it and sheds its most loaded members when the rate falls. The request
// goes to the receiving node when it is in the set and under MAX_LOAD (no handoff; it will
// serve the next ones itself through the node half), else to the set's least loaded member
// [inferred]. A target that is not hot goes through get_node() (lard-cost) and loses its set.
// hotAlloc 'receiving' reads alloc_new_node() as reschedule(file, node) with schedule()'s node
// argument: the receiving node joins the set and serves the request (no load test, as written;
// a receiving node that is not up falls back to the set rule).
// The get_node() path follows costTies and ownerUpdate as lard-cost does.
import type { HotTarget, PolicyName, PolicyParams } from '../types.js'
import { cheapestNode, ownerAfter } from './lard-cost.js'
import { createRate, type RateEstimate } from './rate.js'
import { ReferenceScheduler } from './scheduler.js'
import { TargetTable, type TargetEntry } from './targets.js'

interface DsTarget extends TargetEntry {
  server: number
  servers: Set<number>
  rate: RateEstimate
}

export class DsScheduler extends ReferenceScheduler {
  private readonly targets: TargetTable<DsTarget>

  constructor(policy: PolicyName, params: Readonly<PolicyParams>) {
    super(policy, params)
    this.targets = new TargetTable(params.targetCapacity, (hash) => ({
      hash,
      lastUsedUs: 0,
      server: -1,
      servers: new Set<number>(),
      rate: createRate(params.rateEstimator, params.unitTimeUs),
    }))
  }

  protected override targetTable(): TargetTable<DsTarget> {
    return this.targets
  }

  protected override forgetNode(id: number): void {
    for (const target of this.targets.entries()) {
      if (target.server === id) target.server = -1
      target.servers.delete(id)
    }
  }

  protected override observe(hash: number, count: number, timeUs: number): void {
    const target = this.targets.get(hash)
    if (target === undefined) return
    target.lastUsedUs = timeUs
    target.rate.arrive(timeUs, count)
  }

  protected pick(receiving: number, hash: number, timeUs: number): number {
    const target = this.targets.getOrInsert(hash, timeUs)
    const rate = target.rate.arrive(timeUs, 1)
    const { nodes, params } = this
    if (rate >= params.hotThreshold && params.hotAlloc === 'receiving' && nodes.up[receiving]) {
      target.servers.add(receiving)
      target.server = receiving
    } else if (rate >= params.hotThreshold) {
      const wanted = Math.min(Math.max(Math.ceil(rate / params.hotThreshold), 1), nodes.upIds.length)
      const servers = target.servers
      if (servers.size === 0 && target.server >= 0) servers.add(target.server)
      while (servers.size < wanted) servers.add(nodes.leastLoadedOutside(servers))
      while (servers.size > wanted) servers.delete(nodes.mostLoadedOf(servers))
      target.server =
        servers.has(receiving) && nodes.load[receiving] < params.maxLoad ? receiving : nodes.leastLoadedOf(servers)
    } else {
      target.servers.clear()
      const chosen = cheapestNode(nodes, target.server, params)
      target.server = ownerAfter(target.server, chosen, params)
      return chosen
    }
    return target.server
  }

  override hotTargets(limit: number): HotTarget[] {
    const hot: HotTarget[] = []
    for (const target of this.targets.entries()) {
      const ratePerSec = target.rate.rateAt(this.nowUs)
      if (ratePerSec < this.params.hotThreshold) continue
      const nodes = target.servers.size > 0 ? [...target.servers].sort((a, b) => a - b) : [target.server]
      hot.push({ hash: target.hash, ratePerSec, nodes: nodes.filter((id) => id >= 0) })
    }
    return hot.sort((a, b) => b.ratePerSec - a.ratePerSec || a.hash - b.hash).slice(0, Math.max(0, limit))
  }
}
