// Chaos run: a local cluster under a steady, bounded open-loop load while its dispatcher is
// stopped (SIGSTOP) and continued, a node is killed, and the dispatcher is killed and brought
// back by the supervisor. Every request's latency counts from its scheduled send time (no
// coordinated omission); the run reports failures, the worst waits in each phase, how long the
// nodes took to call the dispatcher suspect, and how long routing took to come back. The chaos
// spec runs a short one on every CI run; the same function gives the figures for longer stops.

import { Pool } from 'undici'
import { getOnce, startCluster, type ClusterOptions, type RunningCluster } from './cluster.js'

export interface ChaosOptions {
  /** Requests per second, offered on a schedule to nodes 0 and 1 (the killed node is 2). */
  rate?: number
  /** Seconds of calm before the first fault. */
  warmupS?: number
  /** Seconds the dispatcher stays stopped. */
  stopS?: number
  /** Kill node 2 (SIGKILL) and the dispatcher (SIGKILL; the supervisor restarts both). */
  kills?: boolean
  /** Seconds after each fault before the next one (and before the end). */
  settleS?: number
  /** Per-request client time-out (ms): past it a request counts as failed. */
  timeoutMs?: number
  cluster?: ClusterOptions
  /** Progress lines (default: none). */
  log?: (line: string) => void
}

interface Sample {
  sent: number
  latency: number
  status: number
  route: string
  error?: string
}

export interface PhaseFigures {
  requests: number
  failed: number
  maxWaitMs: number
  p99WaitMs: number
  p50WaitMs: number
  routes: Record<string, number>
}

export interface ChaosResult {
  rate: number
  assignDeadlineMaxMs: number
  requests: number
  failed: number
  errors: string[]
  phases: { warmup: PhaseFigures; stopped: PhaseFigures; afterStop: PhaseFigures; kills: PhaseFigures | null }
  /** One service time: the p99 wait of the second half of the warm-up (caches warm, dispatcher healthy). */
  serviceMs: number
  /** From SIGSTOP to a node's /healthz saying `suspect` (ms). */
  timeToSuspectMs: number | null
  /** From SIGCONT to the first request sent after it that the dispatcher routed (ms). */
  backToDispatchedAfterContMs: number | null
  /** From the dispatcher's SIGKILL to the first request the restarted one routed (ms). */
  backToDispatchedAfterKillMs: number | null
  /** Requests sent 3 s or more after SIGCONT that still went to the fallback. */
  fallbackLateAfterCont: number
  /** The machine's load average (1, 5, 15 min) at the end: the figures are only as good as the machine was quiet. */
  loadAverage: number[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const DISPATCHED = new Set(['dispatched', 'handoff'])

/** The dispatcher link's state in a node's /healthz (a fresh connection each time: nothing is left open when a process is killed). */
function healthOf(adminUrl: string): Promise<string> {
  return getOnce(`${adminUrl}/healthz`).then(
    (body) => {
      try {
        return String((JSON.parse(body) as { dispatcher?: string }).dispatcher)
      } catch {
        return 'bad-json'
      }
    },
    () => 'error',
  )
}

function figures(samples: Sample[]): PhaseFigures {
  const waits = samples.map((s) => s.latency).sort((a, b) => a - b)
  const routes: Record<string, number> = {}
  for (const s of samples) routes[s.route] = (routes[s.route] ?? 0) + 1
  return {
    requests: samples.length,
    failed: samples.filter((s) => s.status !== 200).length,
    maxWaitMs: waits.length ? Math.round(waits[waits.length - 1]) : 0,
    p99WaitMs: waits.length ? Math.round(waits[Math.min(waits.length - 1, Math.floor(waits.length * 0.99))]) : 0,
    p50WaitMs: waits.length ? Math.round(waits[Math.floor(waits.length / 2)]) : 0,
    routes,
  }
}

export async function runChaos(options: ChaosOptions = {}): Promise<ChaosResult> {
  const rate = options.rate ?? 200
  const warmupMs = (options.warmupS ?? 1.5) * 1000
  const stopMs = (options.stopS ?? 5) * 1000
  const settleMs = (options.settleS ?? 2) * 1000
  const timeoutMs = options.timeoutMs ?? 5000
  const kills = options.kills ?? true
  const log = options.log ?? (() => {})
  const assignDeadlineMaxMs = options.cluster?.assignDeadlineMaxMs ?? 500
  const { loadavg } = await import('node:os')

  const cluster: RunningCluster = await startCluster({ nodes: 3, port: 0, files: 200, policy: 'lard', restart: 'on-failure', ...options.cluster, log: options.cluster?.log ?? ((event, fields) => log(`${event} ${JSON.stringify(fields)}`)) })
  const dispatcherProcess = () => cluster.children.find((c) => c.role === 'dispatcher')!.process
  const targets = cluster.nodes.slice(0, 2)
  const pools = targets.map((url) => new Pool(url, { connections: 256, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }))
  const samples: Sample[] = []
  const inFlight = new Set<Promise<void>>()
  const start = performance.now()
  const now = () => performance.now() - start
  let stopped = false
  try {
    // ---- the load: `rate` requests per second on a 5 ms schedule, until told to stop
    let issued = 0
    const send = (scheduled: number) => {
      const i = issued++
      const pool = pools[i % pools.length]
      const path = `/${(i * 7919) % 200}.txt`
      const sample: Sample = { sent: scheduled, latency: 0, status: 0, route: 'none' }
      const p = pool
        .request({ method: 'GET', path, signal: AbortSignal.timeout(timeoutMs) })
        .then(async (res) => {
          await res.body.arrayBuffer()
          sample.status = res.statusCode
          sample.route = String(res.headers['x-l7-route'] ?? 'none')
        })
        .catch((err: Error) => {
          sample.error = err.message
          sample.route = 'error'
        })
        .finally(() => {
          sample.latency = now() - scheduled
          samples.push(sample)
          inFlight.delete(p)
        })
      inFlight.add(p)
    }
    const loader = (async () => {
      while (!stopped) {
        const due = Math.floor((now() / 1000) * rate)
        while (issued < due) send((issued / rate) * 1000)
        await sleep(5)
      }
    })()

    // ---- the faults
    await sleep(warmupMs)
    const tStop = now()
    log(`SIGSTOP dispatcher at ${(tStop / 1000).toFixed(1)} s`)
    dispatcherProcess().kill('SIGSTOP')
    let timeToSuspectMs: number | null = null
    try {
      const watchUntil = tStop + stopMs
      while (now() < watchUntil) {
        if (timeToSuspectMs === null && (await healthOf(cluster.admin[0])) === 'suspect') timeToSuspectMs = Math.round(now() - tStop)
        await sleep(timeToSuspectMs === null ? 20 : 100)
      }
    } finally {
      dispatcherProcess().kill('SIGCONT')
    }
    const tCont = now()
    log(`SIGCONT dispatcher at ${(tCont / 1000).toFixed(1)} s (suspect after ${timeToSuspectMs} ms)`)
    await sleep(Math.max(settleMs, 3500))

    let tKillNode = -1
    let tKillDispatcher = -1
    if (kills) {
      tKillNode = now()
      log(`SIGKILL node 2 at ${(tKillNode / 1000).toFixed(1)} s`)
      await cluster.killNode(2)
      await sleep(settleMs)
      tKillDispatcher = now()
      log(`SIGKILL dispatcher at ${(tKillDispatcher / 1000).toFixed(1)} s`)
      const back = cluster.waitRestarted('dispatcher')
      await cluster.killDispatcher()
      await back
      await sleep(settleMs + 1000)
    }
    stopped = true
    await loader
    await Promise.all([...inFlight])

    // ---- the figures
    samples.sort((a, b) => a.sent - b.sent)
    const between = (from: number, to: number) => samples.filter((s) => s.sent >= from && s.sent < to)
    const firstRouted = (from: number) => samples.find((s) => s.sent >= from && DISPATCHED.has(s.route))
    const afterCont = firstRouted(tCont)
    const afterKill = kills ? firstRouted(tKillDispatcher) : undefined
    const end = samples.length ? samples[samples.length - 1].sent + 1 : 0
    const failedSamples = samples.filter((s) => s.status !== 200)
    return {
      rate,
      assignDeadlineMaxMs,
      requests: samples.length,
      failed: failedSamples.length,
      errors: [...new Set(failedSamples.map((s) => s.error ?? `status ${s.status}`))].slice(0, 5),
      phases: {
        warmup: figures(between(0, tStop)),
        stopped: figures(between(tStop, tCont)),
        afterStop: figures(between(tCont, kills ? tKillNode : end)),
        kills: kills ? figures(between(tKillNode, end)) : null,
      },
      serviceMs: figures(between(tStop / 2, tStop)).p99WaitMs,
      timeToSuspectMs,
      backToDispatchedAfterContMs: afterCont ? Math.round(afterCont.sent - tCont) : null,
      backToDispatchedAfterKillMs: afterKill ? Math.round(afterKill.sent - tKillDispatcher) : null,
      fallbackLateAfterCont: between(tCont + 3000, kills ? tKillNode : end).filter((s) => s.route === 'fallback').length,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    }
  } finally {
    stopped = true
    try {
      dispatcherProcess().kill('SIGCONT')
    } catch {
      // already gone
    }
    await Promise.all(pools.map((p) => p.destroy()))
    await cluster.close()
  }
}
