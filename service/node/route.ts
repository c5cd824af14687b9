// Routing stage: which node serves a request, and how that was decided.
//   DS node half says this node holds the target -> local, no question asked
//   dispatcher connected, reuseMs > 0 and it answered for this target less than reuseMs ago
//     -> the same node again, without asking -> reused (ours, off by default; below)
//   dispatcher connected -> ask it (batched round trip) -> dispatched
//   dispatcher unreachable, or no dispatcher with known peers -> chbl over the membership -> fallback
// and, when the request is finished, releasing what the decision counted.

import { RecentAssignments } from '../policy/recent-assignments.js'
import type { LocalTable, PolicyName } from '../policy/types.js'
import type { LinkStats } from './control-link.js'
import { FallbackRouter } from './fallback.js'
import type { NodeMetrics } from './metrics.js'

/** Where one request goes and how the decision was made. */
export interface Decision {
  node: number
  /** reused: the dispatcher's answer for this target, remembered for reuseMs (never counted by it). */
  route: 'local' | 'dispatched' | 'fallback' | 'reused'
}

/** A decision made elsewhere (a peer's, carried by the request): how the request came in. */
export type Arrival = Decision | { node: number; route: 'handoff-in' | 'fallback-in' | 'reused-in' }

/**
 * The node's view of the dispatcher (the control client, adapted in control-link.ts):
 * routing questions, load reports, membership. Absent = no dispatcher.
 */
export interface ControlLink {
  readonly connected: boolean
  /** connected; suspect (silent past its deadline: decisions go to the fallback); unreachable. */
  readonly state?: 'connected' | 'suspect' | 'unreachable'
  /** Policy the dispatcher runs (from its WELCOME); null until the first WELCOME. */
  readonly policy: PolicyName | null
  /** DS node half (policy ds only), built with the WELCOME's parameters. */
  readonly localTable: LocalTable | null
  /** The WELCOME's reuseMs (PolicyParams): how long an answer may be reused; 0 or absent = never. */
  readonly reuseMs?: number
  /**
   * Changes whenever what an answer was given under may have changed (a WELCOME, a membership
   * change, a change of link state): remembered answers from before are dropped.
   */
  readonly epoch?: number
  /** Resolves on the first WELCOME, or after timeoutMs (the node then starts in fallback). */
  ready(timeoutMs: number): Promise<void>
  /** Ask which node serves `hash`; rejects when the dispatcher is unreachable. */
  assign(hash: number, ownLoad: number): Promise<number>
  /** This node finished a request the dispatcher counted against it. */
  done(hash: number): void
  /** DS: this node served `hash` locally without asking. */
  reportLocal(hash: number): void
  /** Time in each state, suspects and reconnects (for /metrics). */
  stats?(): LinkStats
  close(): Promise<void>
}

export interface RouterOptions {
  self: number
  metrics: NodeMetrics
  /** This node's load: requests it is serving. */
  load: () => number
  /** Fixed routing (tests, benchmarks): replaces DS, the dispatcher and the fallback. */
  decide?: (hash: number, path: string) => Decision
}

export class Router {
  readonly self: number
  readonly fallback: FallbackRouter
  link: ControlLink | null = null
  /** Peers with a known address: a decision naming another node is only made for these. */
  private peers: ReadonlySet<number> = new Set()
  /** The dispatcher's recent answers (reuseMs > 0 only), and the link epoch they were given in. */
  private recent: RecentAssignments | null = null
  private recentEpoch: number | undefined = undefined

  constructor(private readonly options: RouterOptions) {
    this.self = options.self
    this.fallback = new FallbackRouter(options.self)
  }

  setPeers(ids: Iterable<number>): void {
    this.peers = new Set(ids)
    this.fallback.setMembers([...this.peers])
    // An answer given under the old membership may name a node that left.
    this.recent?.clear()
  }

  get peerCount(): number {
    return this.peers.size
  }

  fallbackDecision(hash: number, exclude?: ReadonlySet<number>): Decision {
    return { node: this.fallback.pick(hash, exclude), route: 'fallback' }
  }

  decide(hash: number, path: string): Decision | Promise<Decision> {
    if (this.options.decide) return this.options.decide(hash, path)
    const link = this.link
    // No dispatcher: alone, every request is local; with known peers, chbl over them.
    if (!link) return this.peers.size === 0 ? { node: this.self, route: 'local' } : this.fallbackDecision(hash)
    const metrics = this.options.metrics
    const localTable = link.localTable
    if (localTable && localTable.check(hash, performance.now() * 1000, this.options.load())) {
      link.reportLocal(hash)
      return { node: this.self, route: 'local' }
    }
    if (!link.connected) {
      // Answers from before the loss are dropped at the first lookup once it is back (reusable):
      // marking costs nothing here, where every request of the spell passes.
      this.recentEpoch = Number.NaN
      metrics.enterFallback()
      return this.fallbackDecision(hash)
    }
    const reuseMs = link.reuseMs ?? 0
    if (reuseMs > 0) {
      const node = this.reusable(link, reuseMs, hash, performance.now())
      if (node === this.self) {
        // As for the dispatcher's own answer naming this node: DS's node half learns the target is ours.
        localTable?.assign(hash, performance.now() * 1000)
        return { node, route: 'reused' }
      }
      if (node !== -1) return { node, route: 'reused' }
    }
    const started = performance.now()
    return link.assign(hash, this.options.load()).then(
      (node) => {
        metrics.leaveFallback()
        const now = performance.now()
        metrics.rtt((now - started) / 1000)
        if (node === this.self) {
          link.localTable?.assign(hash, now * 1000)
          if (reuseMs > 0) this.recent?.remember(hash, node, now)
          return { node, route: 'dispatched' as const }
        }
        // A member we have no address for (membership lagging): serve it ourselves.
        if (!this.peers.has(node)) return { node: this.self, route: 'fallback' as const }
        if (reuseMs > 0) this.recent?.remember(hash, node, now)
        return { node, route: 'dispatched' as const }
      },
      () => {
        metrics.enterFallback()
        return this.fallbackDecision(hash)
      },
    )
  }

  /**
   * The node a recent answer for `hash` names, or -1 (ask). Only this node or a known peer
   * that has not failed; the table is made (or remade) for the WELCOME's window and emptied
   * when the link's epoch moves on.
   */
  private reusable(link: ControlLink, reuseMs: number, hash: number, now: number): number {
    let recent = this.recent
    if (recent === null || recent.window !== reuseMs) recent = this.recent = new RecentAssignments(reuseMs)
    if (link.epoch !== this.recentEpoch) {
      recent.clear()
      this.recentEpoch = link.epoch
    }
    const node = recent.lookup(hash, now)
    if (node === -1 || node === this.self) return node
    if (!this.peers.has(node) || this.fallback.isPaused(node)) {
      recent.forgetNode(node)
      return -1
    }
    return node
  }

  /**
   * A request routed here by a peer's dispatcher decision: DS's node half learns the target is
   * ours (and, with the `localRate=served` reading, counts the request in its rate). Also for
   * a reused decision: it replays the dispatcher's answer, so the node half learns the same.
   */
  handedIn(hash: number): void {
    this.link?.localTable?.assign(hash, performance.now() * 1000, true)
  }

  /**
   * The request is finished: release what its decision counted.
   *
   * A reused decision ('reused', and 'reused-in' on the peer that serves it) sends no DONE:
   * the dispatcher counts a request from its answer until the serving node's DONE, and it was
   * never asked for this one, so it never counted it. We chose this over reporting reuses to
   * the dispatcher so that it counts them: that report would be a message per reused request
   * (the round trip the option saves, or most of it) plus a scheduler call to add load without
   * deciding, in both policy twins. The cost: the dispatcher's count of a node leaves out the
   * reused requests it is serving, as it leaves out DS's local serves; each node's own load,
   * which it sends with every ASSIGN (and the dispatcher then takes), is what corrects it.
   */
  finished(hash: number, decision: Arrival): void {
    if (decision.route === 'fallback') this.fallback.release(decision.node, hash)
    else if (decision.node === this.self && (decision.route === 'dispatched' || decision.route === 'handoff-in')) this.link?.done(hash)
  }

  peerFailed(id: number): void {
    this.fallback.peerFailed(id)
    this.recent?.forgetNode(id)
  }

  close(): void {
    this.fallback.close()
  }
}
