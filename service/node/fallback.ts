// The node's own routing when the dispatcher is unreachable: bounded-load consistent
// hashing (the policy core's `chbl`) over the last membership it heard, with this node's own
// view of load (its in-flight picks). Also gives "the next choice" when a peer fails
// mid-handoff: the failed peer is left out of the ring for a while.

import { createScheduler, type PolicyParams, type Scheduler } from '../policy/index.js'

const FAILED_PEER_PAUSE_MS = 2000

function chblScheduler(params: Partial<PolicyParams>): Scheduler {
  try {
    return createScheduler('chbl', params, 'wasm')
  } catch {
    return createScheduler('chbl', params, 'ts')
  }
}

export class FallbackRouter {
  private readonly scheduler: Scheduler
  private members = new Set<number>()
  private readonly failedUntil = new Map<number, number>()

  constructor(
    readonly self: number,
    params: Partial<PolicyParams> = {},
  ) {
    this.scheduler = chblScheduler({ ...params, batchCapacity: 16 })
    this.setMembers([self])
  }

  /** The membership (node ids that are up); this node is always part of it. */
  setMembers(ids: Iterable<number>): void {
    const next = new Set(ids)
    next.add(this.self)
    for (const id of this.members) if (!next.has(id) && this.scheduler.isUp(id)) this.scheduler.removeNode(id)
    this.members = next
    this.refresh()
  }

  /** A peer failed: leave it out of picks for a while. */
  peerFailed(node: number): void {
    if (node === this.self) return
    this.failedUntil.set(node, performance.now() + FAILED_PEER_PAUSE_MS)
    if (this.scheduler.isUp(node)) this.scheduler.removeNode(node)
  }

  /** True while `node` is left out after failing (a remembered answer must not send to it either). */
  isPaused(node: number): boolean {
    if (this.failedUntil.size === 0) return false
    const until = this.failedUntil.get(node)
    return until !== undefined && until > performance.now()
  }

  /** Puts members back whose pause is over. */
  private refresh(): void {
    const now = performance.now()
    for (const id of this.members) {
      const until = this.failedUntil.get(id)
      if (until !== undefined && until > now) continue
      this.failedUntil.delete(id)
      if (!this.scheduler.isUp(id)) this.scheduler.addNode(id)
    }
  }

  /** Chooses a node for `hash` (never one in `exclude`) and counts it in flight: release() when done. */
  pick(hash: number, exclude?: ReadonlySet<number>): number {
    if (this.failedUntil.size > 0) this.refresh()
    const removed: number[] = []
    if (exclude) {
      for (const id of exclude) {
        if (id !== this.self && this.scheduler.isUp(id)) {
          this.scheduler.removeNode(id)
          removed.push(id)
        }
      }
    }
    const r = this.scheduler.requests
    r.receiving[0] = this.self
    r.hash[0] = hash
    r.timeUs[0] = performance.now() * 1000
    r.reportedLoad[0] = -1
    this.scheduler.decide(1)
    const chosen = r.chosen[0]
    for (const id of removed) this.scheduler.addNode(id)
    return chosen
  }

  release(node: number, hash: number): void {
    if (!this.scheduler.isUp(node)) return
    this.scheduler.dones.node[0] = node
    this.scheduler.dones.hash[0] = hash
    this.scheduler.done(1)
  }

  close(): void {
    this.scheduler.close()
  }
}
