// Reading the cluster's Prometheus text: the few counters the experiment compares, summed
// over label sets as asked. Snapshots are taken before and after the measured run and
// subtracted, so warm-up traffic does not count.

/** Sums every sample of `name` whose labels include all of `labels` (exact values). */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== '{' && rest[0] !== ' ') continue
    let labelText = ''
    let valueText = rest
    if (rest[0] === '{') {
      const close = rest.indexOf('}')
      if (close < 0) continue
      labelText = rest.slice(1, close)
      valueText = rest.slice(close + 1)
    }
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue
    const value = Number(valueText.trim().split(/\s+/)[0])
    if (Number.isFinite(value)) total += value
  }
  return total
}

export interface NodeCounters {
  requests: number
  local: number
  dispatched: number
  /** Requests sent on by a reused dispatcher answer (reuseMs, off by default). */
  reused: number
  handoffIn: number
  handoffOut: number
  fallback: number
  hits: number
  misses: number
}

export function nodeCounters(text: string): NodeCounters {
  return {
    requests: sumMetric(text, 'l7_node_requests_total'),
    local: sumMetric(text, 'l7_node_requests_total', { route: 'local' }),
    dispatched: sumMetric(text, 'l7_node_requests_total', { route: 'dispatched' }),
    reused: sumMetric(text, 'l7_node_requests_total', { route: 'reused' }),
    handoffIn: sumMetric(text, 'l7_node_handoffs_total', { direction: 'in' }),
    handoffOut: sumMetric(text, 'l7_node_handoffs_total', { direction: 'out' }),
    fallback: sumMetric(text, 'l7_node_requests_total', { route: 'fallback' }),
    hits: sumMetric(text, 'l7_node_cache_hits_total'),
    misses: sumMetric(text, 'l7_node_cache_misses_total'),
  }
}

export interface DispatcherCounters {
  assignFrames: number
  doneFrames: number
  decisions: number
  batches: number
  localServed: number
}

export function dispatcherCounters(text: string): DispatcherCounters {
  return {
    assignFrames: sumMetric(text, 'l7_dispatcher_frames_total', { type: 'ASSIGN' }),
    doneFrames: sumMetric(text, 'l7_dispatcher_frames_total', { type: 'DONE' }),
    decisions: sumMetric(text, 'l7_dispatcher_decisions_total'),
    batches: sumMetric(text, 'l7_dispatcher_batch_size_count'),
    localServed: sumMetric(text, 'l7_dispatcher_local_served_total'),
  }
}

/** after - before, field by field. */
export function difference<T extends object>(after: T, before: T): T {
  const out = { ...after } as Record<string, number>
  for (const key of Object.keys(out)) out[key] -= (before as Record<string, number>)[key]
  return out as T
}
