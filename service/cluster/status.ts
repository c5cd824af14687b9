// The live status line of `l7 cluster` on a TTY: requests per second by route, cache hit
// ratio and handoffs, summed over the nodes' /metrics once a second.

import type { RunningCluster } from './cluster.js'

interface Totals {
  routes: Record<string, number>
  hits: number
  misses: number
  handoffs: number
}

function sumMetrics(texts: string[]): Totals {
  const totals: Totals = { routes: {}, hits: 0, misses: 0, handoffs: 0 }
  for (const text of texts) {
    for (const line of text.split('\n')) {
      let m = /^l7_node_requests_total\{[^}]*route="(\w+)"\} (\d+)/.exec(line)
      if (m) totals.routes[m[1]] = (totals.routes[m[1]] ?? 0) + Number(m[2])
      else if ((m = /^l7_node_cache_hits_total\{[^}]*\} (\d+)/.exec(line))) totals.hits += Number(m[1])
      else if ((m = /^l7_node_cache_misses_total\{[^}]*\} (\d+)/.exec(line))) totals.misses += Number(m[1])
      else if ((m = /^l7_node_handoffs_total\{[^}]*direction="out"[^}]*\} (\d+)/.exec(line))) totals.handoffs += Number(m[1])
    }
  }
  return totals
}

export function watchClusterStatus(cluster: RunningCluster, write: (line: string) => void): { stop(): void } {
  let previous: Totals | null = null
  let running = true
  const tick = async () => {
    const texts = await Promise.all(
      cluster.admin.map((url) =>
        url ? fetch(`${url}/metrics`, { signal: AbortSignal.timeout(800) }).then((r) => r.text(), () => '') : Promise.resolve(''),
      ),
    )
    if (!running) return
    const now = sumMetrics(texts)
    const up = texts.filter((t) => t !== '').length
    const rate = (route: string) => (now.routes[route] ?? 0) - (previous?.routes[route] ?? 0)
    const total = ['local', 'dispatched', 'reused', 'handoff', 'fallback'].reduce((s, r) => s + rate(r), 0)
    const lookups = now.hits + now.misses
    write(
      `nodes up ${up}/${cluster.nodes.length}  ${total} req/s  local ${rate('local')} dispatched ${rate('dispatched')} ` +
        (rate('reused') > 0 ? `reused ${rate('reused')} ` : '') +
        `handoff ${rate('handoff')} fallback ${rate('fallback')}  cache hit ${lookups ? ((100 * now.hits) / lookups).toFixed(1) : '-'}%  ` +
        `handoffs out ${now.handoffs - (previous?.handoffs ?? 0)}/s`,
    )
    previous = now
  }
  const timer = setInterval(() => void tick(), 1000)
  return {
    stop() {
      running = false
      clearInterval(timer)
    },
  }
}
