// The node's counters and their Prometheus text exposition (served on the admin port).

import type { CacheStats } from './cache.js'

export type Route = 'local' | 'dispatched' | 'handoff' | 'fallback'
export const ROUTES: Route[] = ['local', 'dispatched', 'handoff', 'fallback']

/** Dispatcher round-trip buckets, seconds. */
const RTT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

export class NodeMetrics {
  readonly requests: Record<Route, number> = { local: 0, dispatched: 0, handoff: 0, fallback: 0 }
  readonly statuses = new Map<number, number>()
  handoffsOut = 0
  handoffsIn = 0
  handoffsOutFd = 0
  handoffsInFd = 0
  handoffRetries = 0
  handoffRefused = 0
  bytesSent = 0
  readonly rttCounts = new Array<number>(RTT_BUCKETS.length + 1).fill(0)
  rttSum = 0
  rttCount = 0
  /** Total time spent in fallback (dispatcher unreachable), ms; plus the running spell. */
  fallbackMs = 0
  fallbackSince: number | null = null

  served(route: Route, status: number, bytes: number): void {
    this.requests[route]++
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1)
    this.bytesSent += bytes
  }

  rtt(seconds: number): void {
    let i = 0
    while (i < RTT_BUCKETS.length && seconds > RTT_BUCKETS[i]) i++
    this.rttCounts[i]++
    this.rttSum += seconds
    this.rttCount++
  }

  enterFallback(): void {
    if (this.fallbackSince === null) this.fallbackSince = performance.now()
  }

  leaveFallback(): void {
    if (this.fallbackSince !== null) {
      this.fallbackMs += performance.now() - this.fallbackSince
      this.fallbackSince = null
    }
  }

  fallbackSeconds(): number {
    const running = this.fallbackSince === null ? 0 : performance.now() - this.fallbackSince
    return (this.fallbackMs + running) / 1000
  }

  render(nodeId: number, cache: CacheStats, load: number): string {
    const l = `node="${nodeId}"`
    const out: string[] = []
    out.push('# HELP l7_node_requests_total Requests answered by this node, by route.')
    out.push('# TYPE l7_node_requests_total counter')
    for (const r of ROUTES) out.push(`l7_node_requests_total{${l},route="${r}"} ${this.requests[r]}`)
    out.push('# HELP l7_node_responses_total Responses written by this node, by status.')
    out.push('# TYPE l7_node_responses_total counter')
    for (const [s, n] of [...this.statuses].sort((a, b) => a[0] - b[0])) out.push(`l7_node_responses_total{${l},status="${s}"} ${n}`)
    out.push('# TYPE l7_node_response_bytes_total counter')
    out.push(`l7_node_response_bytes_total{${l}} ${this.bytesSent}`)
    out.push('# HELP l7_node_cache_hits_total Content cache hits.')
    out.push('# TYPE l7_node_cache_hits_total counter')
    out.push(`l7_node_cache_hits_total{${l}} ${cache.hits}`)
    out.push('# TYPE l7_node_cache_misses_total counter')
    out.push(`l7_node_cache_misses_total{${l}} ${cache.misses}`)
    out.push('# TYPE l7_node_cache_evictions_total counter')
    out.push(`l7_node_cache_evictions_total{${l}} ${cache.evictions}`)
    out.push('# TYPE l7_node_cache_bytes gauge')
    out.push(`l7_node_cache_bytes{${l}} ${cache.bytes}`)
    out.push('# TYPE l7_node_cache_capacity_bytes gauge')
    out.push(`l7_node_cache_capacity_bytes{${l}} ${cache.capacityBytes}`)
    out.push('# TYPE l7_node_cache_files gauge')
    out.push(`l7_node_cache_files{${l}} ${cache.files}`)
    out.push('# HELP l7_node_handoffs_total Requests handed to a peer (out) or taken from one (in), by mechanism.')
    out.push('# TYPE l7_node_handoffs_total counter')
    out.push(`l7_node_handoffs_total{${l},direction="out",mechanism="relay"} ${this.handoffsOut}`)
    out.push(`l7_node_handoffs_total{${l},direction="in",mechanism="relay"} ${this.handoffsIn}`)
    out.push(`l7_node_handoffs_total{${l},direction="out",mechanism="fd"} ${this.handoffsOutFd}`)
    out.push(`l7_node_handoffs_total{${l},direction="in",mechanism="fd"} ${this.handoffsInFd}`)
    out.push('# TYPE l7_node_handoff_retries_total counter')
    out.push(`l7_node_handoff_retries_total{${l}} ${this.handoffRetries}`)
    out.push('# TYPE l7_node_handoff_refused_total counter')
    out.push(`l7_node_handoff_refused_total{${l}} ${this.handoffRefused}`)
    out.push('# HELP l7_node_dispatcher_rtt_seconds Round trip of an assign to the dispatcher.')
    out.push('# TYPE l7_node_dispatcher_rtt_seconds histogram')
    let cumulative = 0
    for (let i = 0; i < RTT_BUCKETS.length; i++) {
      cumulative += this.rttCounts[i]
      out.push(`l7_node_dispatcher_rtt_seconds_bucket{${l},le="${RTT_BUCKETS[i]}"} ${cumulative}`)
    }
    cumulative += this.rttCounts[RTT_BUCKETS.length]
    out.push(`l7_node_dispatcher_rtt_seconds_bucket{${l},le="+Inf"} ${cumulative}`)
    out.push(`l7_node_dispatcher_rtt_seconds_sum{${l}} ${this.rttSum}`)
    out.push(`l7_node_dispatcher_rtt_seconds_count{${l}} ${this.rttCount}`)
    out.push('# HELP l7_node_fallback_seconds_total Time spent routing without the dispatcher.')
    out.push('# TYPE l7_node_fallback_seconds_total counter')
    out.push(`l7_node_fallback_seconds_total{${l}} ${this.fallbackSeconds()}`)
    out.push('# TYPE l7_node_load gauge')
    out.push(`l7_node_load{${l}} ${load}`)
    return out.join('\n') + '\n'
  }
}
