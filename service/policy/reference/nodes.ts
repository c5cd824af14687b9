// The node table of the reference: who is up, with what weight, carrying how many connections.
// Ties everywhere: lower load first, then lower node id (ALGORITHMS.md, common model).

export class NodeTable {
  readonly up: boolean[]
  readonly load: number[]
  readonly weight: number[]
  /** Ids of the nodes that are up, ascending. */
  upIds: number[] = []

  constructor(readonly maxNodes: number) {
    this.up = new Array<boolean>(maxNodes).fill(false)
    this.load = new Array<number>(maxNodes).fill(0)
    this.weight = new Array<number>(maxNodes).fill(1)
  }

  add(id: number, weight: number): void {
    this.up[id] = true
    this.weight[id] = weight
    this.upIds = this.listUp()
  }

  remove(id: number): void {
    this.up[id] = false
    this.load[id] = 0
    this.upIds = this.listUp()
  }

  private listUp(): number[] {
    const ids: number[] = []
    for (let id = 0; id < this.maxNodes; id++) if (this.up[id]) ids.push(id)
    return ids
  }

  /** a before b in "least loaded" order: lower load, then lower id. */
  lessLoaded(a: number, b: number): boolean {
    return this.load[a] < this.load[b] || (this.load[a] === this.load[b] && a < b)
  }

  /** The least loaded of `candidates` (all of them up, at least one). */
  leastLoadedOf(candidates: Iterable<number>): number {
    let best = -1
    for (const id of candidates) if (best < 0 || this.lessLoaded(id, best)) best = id
    return best
  }

  /** The most loaded of `candidates`: higher load, then higher id (the mirror of leastLoadedOf). */
  mostLoadedOf(candidates: Iterable<number>): number {
    let worst = -1
    for (const id of candidates) if (worst < 0 || this.lessLoaded(worst, id)) worst = id
    return worst
  }

  leastLoaded(): number {
    return this.leastLoadedOf(this.upIds)
  }

  /** The least loaded node that is up and not in `excluded` (-1 if none). */
  leastLoadedOutside(excluded: Set<number>): number {
    return this.leastLoadedOf(this.upIds.filter((id) => !excluded.has(id)))
  }

  minLoad(): number {
    let min = Infinity
    for (const id of this.upIds) min = Math.min(min, this.load[id])
    return min
  }

  totalLoad(): number {
    let total = 0
    for (const id of this.upIds) total += this.load[id]
    return total
  }

  totalWeight(): number {
    let total = 0
    for (const id of this.upIds) total += this.weight[id]
    return total
  }
}
