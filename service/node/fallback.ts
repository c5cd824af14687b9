// The node's own routing when the dispatcher is unreachable: bounded-load consistent
// hashing (chbl) over the last membership it heard, with this node's own view of load
// (its in-flight picks). Also gives "the next choice" when a peer fails mid-handoff:
// the failed peer is left out of the ring for a while.
// TEMPORARY until service/policy/index.ts lands: a small CHBL of our own.

const FAILED_PEER_PAUSE_MS = 2000

export class FallbackRouter {
  private members: number[] = []
  private ring: Array<{ point: number; node: number }> = []
  private readonly load = new Map<number, number>()
  private readonly failedUntil = new Map<number, number>()

  constructor(
    readonly self: number,
    private readonly balanceFactorPercent = 125,
    private readonly pointsPerNode = 100,
  ) {
    this.setMembers([self])
  }

  /** The membership (node ids that are up); this node is always part of it. */
  setMembers(ids: Iterable<number>): void {
    const set = new Set(ids)
    set.add(this.self)
    this.members = [...set].sort((a, b) => a - b)
    this.ring = []
    for (const node of this.members) {
      for (let i = 0; i < this.pointsPerNode; i++) this.ring.push({ point: mix32(node * 0x9e3779b1 + i), node })
    }
    this.ring.sort((a, b) => a.point - b.point || a.node - b.node)
  }

  /** A peer failed: leave it out of picks for a while. */
  peerFailed(node: number): void {
    if (node !== this.self) this.failedUntil.set(node, performance.now() + FAILED_PEER_PAUSE_MS)
  }

  private usable(node: number, exclude?: ReadonlySet<number>): boolean {
    if (exclude?.has(node)) return false
    const until = this.failedUntil.get(node)
    if (until === undefined) return true
    if (until > performance.now()) return false
    this.failedUntil.delete(node)
    return true
  }

  /** Chooses a node for `hash` and counts it as in flight (release() when done). */
  pick(hash: number, exclude?: ReadonlySet<number>): number {
    const usable = this.members.filter((n) => this.usable(n, exclude))
    if (usable.length === 0) return this.self
    let total = 0
    for (const n of usable) total += this.load.get(n) ?? 0
    const capacity = Math.ceil(((this.balanceFactorPercent / 100) * (total + 1)) / usable.length)
    const h = mix32(hash)
    let lo = 0
    let hi = this.ring.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.ring[mid].point < h) lo = mid + 1
      else hi = mid
    }
    let chosen = -1
    for (let k = 0; k < this.ring.length; k++) {
      const node = this.ring[(lo + k) % this.ring.length].node
      if (!this.usable(node, exclude)) continue
      if ((this.load.get(node) ?? 0) < capacity) {
        chosen = node
        break
      }
    }
    if (chosen < 0) chosen = this.self
    this.load.set(chosen, (this.load.get(chosen) ?? 0) + 1)
    return chosen
  }

  release(node: number): void {
    const l = this.load.get(node) ?? 0
    if (l > 0) this.load.set(node, l - 1)
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}
