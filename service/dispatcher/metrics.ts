// The dispatcher's counters and their Prometheus text rendering (exposition format 0.0.4).
// Counters are plain numbers updated on the hot path; text is only built when scraped.
import { escapeLabel, PrometheusText } from '../core/prometheus.js'

/** Batch sizes are counted in power-of-two buckets: le=1,2,4,...,65536. */
export const BATCH_BUCKETS = Array.from({ length: 17 }, (_, i) => 2 ** i)

export class DispatcherMetrics {
  decisions = 0
  batches = 0
  doneRecords = 0
  localServed = 0
  /** Batches with size <= BATCH_BUCKETS[i] and > BATCH_BUCKETS[i-1] (not cumulative here). */
  readonly batchBuckets = new Float64Array(BATCH_BUCKETS.length)
  batchSizeSum = 0
  readonly framesIn = new Map<string, number>()
  readonly frameErrors = new Map<string, number>()
  readonly refused = new Map<string, number>()
  readonly disconnects = new Map<string, number>()

  observeBatch(size: number): void {
    this.batches++
    this.batchSizeSum += size
    // Index of the smallest power of two >= size (size 0 goes to the first bucket).
    const i = size <= 1 ? 0 : 32 - Math.clz32(size - 1)
    this.batchBuckets[Math.min(i, BATCH_BUCKETS.length - 1)]++
  }
}

export function count(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by)
}

export interface GaugeSnapshot {
  policy: string
  impl: string
  nodesUp: number
  connections: number
  /** Per registered node: id, load, up. */
  nodes: { id: number; load: number; up: boolean }[]
  targets: number
  targetCapacity: number
  evictions: number
}

export function renderMetrics(m: DispatcherMetrics, g: GaugeSnapshot): string {
  const byLabel = (label: string, map: Map<string, number>) => [...map].map(([key, value]) => [`${label}="${escapeLabel(key)}"`, value] as const)
  const perNode = (value: (n: GaugeSnapshot['nodes'][number]) => number) => g.nodes.map((n) => [`node="${n.id}"`, value(n)] as const)
  return new PrometheusText()
    .family('l7_dispatcher_decisions_total', 'counter', 'Assignment decisions made, by policy.', [[`policy="${escapeLabel(g.policy)}",impl="${g.impl}"`, m.decisions]])
    .histogram('l7_dispatcher_batch_size', 'Requests per ASSIGN batch (adaptive batching grows it with load).', '', BATCH_BUCKETS, m.batchBuckets, m.batches, m.batchSizeSum)
    .family('l7_dispatcher_done_records_total', 'counter', 'DONE records received (connections finished).', [['', m.doneRecords]])
    .family('l7_dispatcher_local_served_total', 'counter', 'Requests nodes reported serving locally (DS).', [['', m.localServed]])
    .family('l7_dispatcher_nodes_up', 'gauge', 'Nodes registered and up.', [['', g.nodesUp]])
    .family('l7_dispatcher_connections', 'gauge', 'Open control connections (registered or not).', [['', g.connections]])
    .family('l7_dispatcher_node_load', 'gauge', 'Load (in-flight connections) the scheduler counts per node.', perNode((n) => n.load))
    .family('l7_dispatcher_node_up', 'gauge', 'Whether a node that registered is up (1) or down (0).', perNode((n) => (n.up ? 1 : 0)))
    .family('l7_dispatcher_frames_total', 'counter', 'Frames received, by message type.', byLabel('type', m.framesIn))
    .family('l7_dispatcher_frame_errors_total', 'counter', 'Frames refused, by reason.', byLabel('reason', m.frameErrors))
    .family('l7_dispatcher_refused_total', 'counter', 'Registrations refused, by reason.', byLabel('reason', m.refused))
    .family('l7_dispatcher_disconnects_total', 'counter', 'Node connections closed, by reason.', byLabel('reason', m.disconnects))
    .family('l7_dispatcher_targets', 'gauge', 'Targets in the policy table.', [['', g.targets]])
    .family('l7_dispatcher_target_capacity', 'gauge', 'Capacity of the policy table.', [['', g.targetCapacity]])
    .family('l7_dispatcher_target_evictions_total', 'counter', 'Targets evicted from a full policy table.', [['', g.evictions]])
    .toString()
}
