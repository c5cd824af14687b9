// A node's memory of the dispatcher's recent answers, for PolicyParams.reuseMs (ours, not the
// seed's; off by default). For `window` after the dispatcher said which node serves a target,
// the node sends further requests for that target there without asking again.
//
// Node side only: the real node (service/node/route.ts) and the simulator's node model
// (service/sim/model.ts) both use this class, so the simulator measures the table the node
// runs. The dispatcher's policies (TypeScript reference and Wasm core) do not change.
//
// Bounded memory, no allocation per request: a direct-mapped table of `slots` entries (like a
// CPU cache). A target's slot is its hash's low bits (target hashes are already mixed by
// fmix32, service/policy/hash.ts); a new answer for another target in the same slot evicts the
// older one, which only means that target asks the dispatcher again. Times are in whatever
// unit the caller uses (the node: ms, the simulator: us), the window in the same unit.

/** Slots of a node's table: 4096 x 16 bytes = 64 KiB; the hot targets of a Zipf mix fit with room to spare. */
export const RECENT_ASSIGNMENT_SLOTS = 4096

export class RecentAssignments {
  private readonly hashes: Uint32Array
  /** Node per slot; -1 = empty. */
  private readonly nodes: Int32Array
  /** Time from which the slot's answer may no longer be reused. */
  private readonly expires: Float64Array
  private readonly mask: number
  /** Answers remembered and then dropped for another target's (for specs and metrics). */
  evictions = 0

  /**
   * @param window how long an answer may be reused, in the caller's time unit (> 0)
   * @param slots table size, a power of two
   */
  constructor(
    readonly window: number,
    slots = RECENT_ASSIGNMENT_SLOTS,
  ) {
    if (!(window > 0) || !Number.isFinite(window)) throw new RangeError(`reuse window must be a finite number above 0, got ${window}`)
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`slots must be a power of two, got ${slots}`)
    this.hashes = new Uint32Array(slots)
    this.nodes = new Int32Array(slots).fill(-1)
    this.expires = new Float64Array(slots)
    this.mask = slots - 1
  }

  /** The dispatcher answered `node` for `hash` at `now`: reusable until now + window. */
  remember(hash: number, node: number, now: number): void {
    const slot = hash & this.mask
    if (this.nodes[slot] !== -1 && this.hashes[slot] !== hash && this.expires[slot] > now) this.evictions++
    this.hashes[slot] = hash
    this.nodes[slot] = node
    this.expires[slot] = now + this.window
  }

  /** The node to reuse for `hash` at `now`, or -1 (never answered, expired or evicted: ask). */
  lookup(hash: number, now: number): number {
    const slot = hash & this.mask
    const node = this.nodes[slot]
    if (node === -1 || this.hashes[slot] !== hash) return -1
    if (now >= this.expires[slot]) {
      this.nodes[slot] = -1
      return -1
    }
    return node
  }

  /** Drops every answer naming `node` (it failed or left). */
  forgetNode(node: number): void {
    const nodes = this.nodes
    for (let i = 0; i < nodes.length; i++) if (nodes[i] === node) nodes[i] = -1
  }

  /** Drops every answer (membership changed, the dispatcher link was lost). */
  clear(): void {
    this.nodes.fill(-1)
  }

  /** Answers held and not yet expired at `now`. */
  size(now: number): number {
    let n = 0
    for (let i = 0; i < this.nodes.length; i++) if (this.nodes[i] !== -1 && now < this.expires[i]) n++
    return n
  }
}
