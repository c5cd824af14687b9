// Routing stage: which node serves a request, and how that was decided.
//   DS node half says this node holds the target -> local, no question asked
//   dispatcher connected -> ask it (batched round trip) -> dispatched
//   dispatcher unreachable, or no dispatcher with known peers -> chbl over the membership -> fallback
// and, when the request is finished, releasing what the decision counted.

import type { LocalTable, PolicyName } from '../policy/types.js'
import type { LinkStats } from './control-link.js'
import { FallbackRouter } from './fallback.js'
import type { NodeMetrics } from './metrics.js'

/** Where one request goes and how the decision was made. */
export interface Decision {
  node: number
  route: 'local' | 'dispatched' | 'fallback'
}

/** A decision made elsewhere (a peer's, carried by the request): how the request came in. */
export type Arrival = Decision | { node: number; route: 'handoff-in' | 'fallback-in' }

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

  constructor(private readonly options: RouterOptions) {
    this.self = options.self
    this.fallback = new FallbackRouter(options.self)
  }

  setPeers(ids: Iterable<number>): void {
    this.peers = new Set(ids)
    this.fallback.setMembers([...this.peers])
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
      metrics.enterFallback()
      return this.fallbackDecision(hash)
    }
    const started = performance.now()
    return link.assign(hash, this.options.load()).then(
      (node) => {
        metrics.leaveFallback()
        const now = performance.now()
        metrics.rtt((now - started) / 1000)
        if (node === this.self) {
          link.localTable?.assign(hash, now * 1000)
          return { node, route: 'dispatched' as const }
        }
        // A member we have no address for (membership lagging): serve it ourselves.
        if (!this.peers.has(node)) return { node: this.self, route: 'fallback' as const }
        return { node, route: 'dispatched' as const }
      },
      () => {
        metrics.enterFallback()
        return this.fallbackDecision(hash)
      },
    )
  }

  /**
   * A request routed here by a peer's dispatcher decision: DS's node half learns the target is
   * ours (and, with the `localRate=served` reading, counts the request in its rate).
   */
  handedIn(hash: number): void {
    this.link?.localTable?.assign(hash, performance.now() * 1000, true)
  }

  /** The request is finished: release what its decision counted. */
  finished(hash: number, decision: Arrival): void {
    if (decision.route === 'fallback') this.fallback.release(decision.node, hash)
    else if (decision.node === this.self && (decision.route === 'dispatched' || decision.route === 'handoff-in')) this.link?.done(hash)
  }

  peerFailed(id: number): void {
    this.fallback.peerFailed(id)
  }

  close(): void {
    this.fallback.close()
  }
}
