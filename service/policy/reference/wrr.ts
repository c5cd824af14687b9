// wrr: LVS's weighted round robin (ip_vs_wrr.c). Walks node ids in order; each time the walk
// wraps, the current weight drops by the gcd of the weights (back to the largest weight when
// it reaches 0); a node is picked when its weight is at least the current weight. No content
// awareness: the hash is ignored.
import { ReferenceScheduler } from './scheduler.js'

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

export class WrrScheduler extends ReferenceScheduler {
  private index = -1
  private currentWeight = 0
  private maxWeight = 0
  private weightGcd = 1

  protected override membershipChanged(): void {
    this.maxWeight = 0
    this.weightGcd = 0
    for (const id of this.nodes.upIds) {
      this.maxWeight = Math.max(this.maxWeight, this.nodes.weight[id])
      this.weightGcd = gcd(this.weightGcd, this.nodes.weight[id])
    }
    if (this.currentWeight > this.maxWeight) this.currentWeight = this.maxWeight
  }

  protected pick(): number {
    const { up, weight, maxNodes } = this.nodes
    for (;;) {
      this.index = (this.index + 1) % maxNodes
      if (this.index === 0) {
        this.currentWeight -= this.weightGcd
        if (this.currentWeight <= 0) this.currentWeight = this.maxWeight
      }
      if (up[this.index] && weight[this.index] >= this.currentWeight) return this.index
    }
  }
}
