// The node's counters and their Prometheus text exposition (served on the admin port).

import { PrometheusText } from '../core/prometheus.js'
import type { CacheStats } from './cache.js'
import type { LinkStats } from './control-link.js'

/** reused: sent by a recent dispatcher answer without asking (reuseMs), here or from a peer. */
export type Route = 'local' | 'dispatched' | 'handoff' | 'fallback' | 'reused'
export const ROUTES: Route[] = ['local', 'dispatched', 'handoff', 'fallback', 'reused']

/** Dispatcher round-trip buckets, seconds. */
const RTT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

export class NodeMetrics {
  readonly requests: Record<Route, number> = { local: 0, dispatched: 0, handoff: 0, fallback: 0, reused: 0 }
  readonly statuses = new Map<number, number>()
  handoffsOut = 0
  handoffsIn = 0
  handoffsOutFd = 0
  handoffsInFd = 0
  /** fd passing over the direct channels to siblings (service/cluster/fd-channel.ts counts here). */
  readonly fdChannels = { passed: 0, received: 0, takenBack: 0, ackTimeouts: 0 }
  /** fd passes that went through the cluster parent (no direct channel to that sibling). */
  fdViaParent = 0
  handoffRetries = 0
  handoffRefused = 0
  /** Connections the kernel could not hand over (accept failed: out of descriptors, ...) or refused past the connection limit. */
  acceptFailures = 0
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

  render(nodeId: number, cache: CacheStats, load: number, link: LinkStats | null = null, disk: { reads: number; busySeconds: number } | null = null): string {
    const l = `node="${nodeId}"`
    const handoff = (direction: string, mechanism: string, n: number) => [`${l},direction="${direction}",mechanism="${mechanism}"`, n] as const
    const text = new PrometheusText()
      .family('l7_node_requests_total', 'counter', 'Requests answered by this node, by route.', ROUTES.map((r) => [`${l},route="${r}"`, this.requests[r]] as const))
      .family(
        'l7_node_responses_total',
        'counter',
        'Responses written by this node, by status.',
        [...this.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => [`${l},status="${s}"`, n] as const),
      )
      .family('l7_node_response_bytes_total', 'counter', undefined, [[l, this.bytesSent]])
      .family('l7_node_cache_hits_total', 'counter', 'Content cache hits.', [[l, cache.hits]])
      .family('l7_node_cache_misses_total', 'counter', undefined, [[l, cache.misses]])
      .family('l7_node_cache_evictions_total', 'counter', undefined, [[l, cache.evictions]])
      .family('l7_node_cache_bytes', 'gauge', undefined, [[l, cache.bytes]])
      .family('l7_node_cache_capacity_bytes', 'gauge', undefined, [[l, cache.capacityBytes]])
      .family('l7_node_cache_files', 'gauge', undefined, [[l, cache.files]])
      .family('l7_node_handoffs_total', 'counter', 'Requests handed to a peer (out) or taken from one (in), by mechanism.', [
        handoff('out', 'relay', this.handoffsOut),
        handoff('in', 'relay', this.handoffsIn),
        handoff('out', 'fd', this.handoffsOutFd),
        handoff('in', 'fd', this.handoffsInFd),
      ])
      .family('l7_node_fd_passes_total', 'counter', 'Client sockets passed to a sibling, straight or through the cluster parent.', [
        [`${l},via="sibling"`, this.fdChannels.passed],
        [`${l},via="parent"`, this.fdViaParent],
      ])
      .family('l7_node_fd_passes_taken_back_total', 'counter', 'Passed client sockets the sibling did not take (it ended first), served here.', [[l, this.fdChannels.takenBack]])
      .family('l7_node_fd_ack_timeouts_total', 'counter', 'Passed client sockets closed because the sibling did not acknowledge in time.', [[l, this.fdChannels.ackTimeouts]])
      .family('l7_node_handoff_retries_total', 'counter', undefined, [[l, this.handoffRetries]])
      .family('l7_node_handoff_refused_total', 'counter', undefined, [[l, this.handoffRefused]])
      .family('l7_node_accept_failures_total', 'counter', 'Client connections not taken: accept failed (out of descriptors, ...) or the node was at its connection limit.', [[l, this.acceptFailures]])
      .histogram('l7_node_dispatcher_rtt_seconds', 'Round trip of an assign to the dispatcher.', l, RTT_BUCKETS, this.rttCounts, this.rttCount, this.rttSum)
      .family('l7_node_fallback_seconds_total', 'counter', 'Time spent routing without the dispatcher.', [[l, this.fallbackSeconds()]])
      .family('l7_node_load', 'gauge', undefined, [[l, load]])
    if (disk) {
      text
        .family('l7_node_disk_reads_total', 'counter', 'Reads of the emulated disk (cache misses).', [[l, disk.reads]])
        .family('l7_node_disk_busy_seconds_total', 'counter', 'Time the emulated disk spent reading.', [[l, disk.busySeconds]])
    }
    if (link) {
      text
        .family('l7_node_dispatcher_link_seconds_total', 'counter', 'Time the dispatcher link spent in each state.', [
          [`${l},state="connected"`, link.secondsConnected],
          [`${l},state="suspect"`, link.secondsSuspect],
          [`${l},state="unreachable"`, link.secondsUnreachable],
        ])
        .family('l7_node_dispatcher_suspects_total', 'counter', 'Times the link turned suspect, by what was missed.', [
          [`${l},reason="deadline"`, link.deadlineMisses],
          [`${l},reason="heartbeat"`, link.heartbeatMisses],
        ])
        .family('l7_node_dispatcher_reconnects_total', 'counter', undefined, [[l, link.reconnects]])
        .family('l7_node_dispatcher_assign_deadline_seconds', 'gauge', 'The assign deadline in force.', [[l, link.assignDeadlineMs / 1000]])
    }
    return text.toString()
  }
}
