// lc: LVS's weighted least connections: the node with the smallest load/weight
// (compared as load_a * weight_b < load_b * weight_a); ties: lower load, then lower id.
import { ReferenceScheduler } from './scheduler.js'

export class LcScheduler extends ReferenceScheduler {
  protected pick(): number {
    const { load, weight } = this.nodes
    let best = -1
    for (const id of this.nodes.upIds) {
      if (best < 0) {
        best = id
        continue
      }
      const mine = load[id] * weight[best]
      const theirs = load[best] * weight[id]
      if (mine < theirs || (mine === theirs && load[id] < load[best])) best = id
    }
    return best
  }
}
