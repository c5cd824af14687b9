// chbl: consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2016; HAProxy's
// hash-balance-factor). Each node up has ringPointsPerNode points on a 32-bit ring. With T
// connections in flight and weights summing to W, node i may carry
// ceil(factor/100 * (T + 1) * w_i / W); a target goes to the first node clockwise from its
// hash that is below that capacity (walking the ring, as HAProxy does, not Envoy's random jump).
// Accept test, in exact integers: 100 * W * load_i < factor * (T + 1) * w_i.
import { fmix32 } from '../hash.js'
import { ReferenceScheduler } from './scheduler.js'

/** Position of node's r-th point on the ring (assembly/chbl.ts computes the same). */
export function ringPoint(node: number, r: number): number {
  return fmix32(Math.imul(node + 1, 0x9e3779b1) ^ Math.imul(r + 1, 0x85ebca77))
}

interface RingPoint {
  point: number
  node: number
}

export class ChblScheduler extends ReferenceScheduler {
  private ring: RingPoint[] = []

  protected override membershipChanged(): void {
    const ring: RingPoint[] = []
    for (const node of this.nodes.upIds) {
      for (let r = 0; r < this.params.ringPointsPerNode; r++) ring.push({ point: ringPoint(node, r), node })
    }
    this.ring = ring.sort((a, b) => a.point - b.point || a.node - b.node)
  }

  /** Index of the first ring point at or after hash, wrapping to 0. */
  private firstPointFrom(hash: number): number {
    let lo = 0
    let hi = this.ring.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.ring[mid].point < hash) lo = mid + 1
      else hi = mid
    }
    return lo === this.ring.length ? 0 : lo
  }

  protected pick(_receiving: number, hash: number): number {
    const { load, weight } = this.nodes
    const room = this.params.balanceFactorPercent * (this.nodes.totalLoad() + 1)
    const scale = 100 * this.nodes.totalWeight()
    const start = this.firstPointFrom(hash)
    for (let k = 0; k < this.ring.length; k++) {
      const node = this.ring[(start + k) % this.ring.length].node
      if (scale * load[node] < room * weight[node]) return node
    }
    return this.nodes.leastLoaded() // unreachable: the capacities add up to more than T
  }
}
