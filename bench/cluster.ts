// `l7 bench cluster`: the whole cluster against what a user would deploy today for
// content-aware distribution, in one run, on the same files and the same request mix:
//   peer: HAProxy (`mode http`, `balance uri`, consistent hashing, bounded loads) -> 4 nginx
//   l7:   HAProxy (`mode tcp`, round robin: the seed's layer-4 switch) -> `l7 cluster --nodes 4`
// for each policy, handoff mechanism and connection mode asked for. wrk replays a Zipf(1) mix
// over every file of the cluster's default SURGE document root. Rounds alternate peer and l7
// (and which goes first); medians are reported. CPU per request is per-process accounting
// (/proc/<pid>/stat) of every process of each side, balancer included. Figures, not
// assertions: only ratios within one run mean anything on a shared machine.

import { spawnSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { removeOnExit } from '../service/core/atomic-write.js'
import { canRun, childPids, processCpuTimes } from '../service/core/child-process.js'
import { InvalidArgumentError, MissingDependencyError } from '../service/core/errors.js'
import { startCluster, writeSurgeFileSet, type RunningCluster } from '../service/cluster/cluster.js'
import type { PolicyName, PolicyParams } from '../service/policy/types.js'
import { findHaproxy, HAPROXY_MISSING, startHaproxy, type RunningHaproxy } from './peers/haproxy.js'
import { findNginx, NGINX_MISSING, startNginx, type RunningNginx } from './peers/nginx.js'
import { startNodeFloor } from './peers/node-floor.js'
import { runWrkReport, WRK_MISSING, type WrkReport } from './peers/wrk.js'
import { listDocroot, wrkMixScript, zipfMix, type DocFile } from './zipf-mix.js'

export type Handoff = 'relay' | 'fd'
export type ConnectionMode = 'keep-alive' | 'close'

/**
 * How clients reach l7's nodes. haproxy: HAProxy in `mode tcp`, round robin over the nodes'
 * ports (the issue's stand-in for the seed's layer-4 switch; a user-space proxy, it reads and
 * writes every byte). shared: `l7 cluster --front`, one listening socket every node accepts
 * on (connections spread by the kernel, no process in between, as with a packet-forwarding
 * layer-4 switch).
 */
export type Front = 'haproxy' | 'shared'

export interface ClusterBenchOptions {
  policies?: PolicyName[]
  fronts?: Front[]
  handoffs?: Handoff[]
  connections?: ConnectionMode[]
  /** Whole seconds per measured wrk run (wrk takes no fractions). */
  duration?: number
  /** Rounds per configuration, each one peer run and one l7 run. */
  rounds?: number
  /** wrk connections (one thread). */
  clients?: number
  /** Files in the generated SURGE document root (the cluster's default: 2000, about 50 MB). */
  files?: number
  /** Seed of the request mix. */
  seed?: number
  /** Write the node processes' CPU profiles (node --cpu-prof) under this directory. */
  cpuProfDir?: string
  /**
   * Also measure the platform floor: 4 processes of the least Node.js server (files in memory,
   * no routing) through the same fronts, against the same peer (bench/peers/node-floor.ts).
   */
  floor?: boolean
  /** Policy parameters for every l7 cluster run (unset ones keep their defaults). */
  params?: Partial<PolicyParams>
  /** Where l7's dispatcher runs (ClusterOptions.dispatcherIn): its own process (default) or node 0's. */
  dispatcherIn?: 'own' | 'node0'
  /** Threads of both HAProxy instances (nbthread); absent: HAProxy's default, one per CPU. */
  haproxyThreads?: number
  signal?: AbortSignal
  log?: (line: string) => void
}

/** One side's figures from one wrk run. */
export interface RunFigures {
  requests: number
  requestsPerSec: number
  /** Responses with status >= 400 (wrk's count). */
  non2xx: number
  socketErrors: number
  p50Ms: number
  p99Ms: number
  /** Response bytes (headers included) per request, as wrk read them. */
  bytesPerRequest: number
  /** Server-side CPU (every process of the side, user + system) per request, microseconds. */
  cpuUsPerRequest: number
  /** The kernel's part of it (system time: syscalls, copies, loopback TCP), microseconds. */
  systemUsPerRequest: number
  /** The same CPU by process role (haproxy, nginx; parent, dispatcher, nodes), microseconds per request. */
  cpuUsPerRequestBy: Record<string, number>
  /** l7 only: requests by the route the answering node took (local, dispatched, handoff, fallback), and the nodes' "cache hits" and "cache misses", from /metrics. */
  routes?: Record<string, number>
}

export interface Summary {
  /** Medians over the rounds. */
  requestsPerSec: number
  cpuUsPerRequest: number
  systemUsPerRequest: number
  p99Ms: number
  /** Sums over the rounds. */
  requests: number
  non2xx: number
  socketErrors: number
}

export interface ConfigResult {
  /** floor: the platform floor (--floor), not l7. */
  policy: PolicyName | 'floor'
  handoff: Handoff | 'none'
  front: Front
  connection: ConnectionMode
  l7: Summary
  peer: Summary
  /** l7 / peer, the median of the per-round ratios (each round's two runs are neighbours in time). */
  ratio: { requestsPerSec: number; cpuPerRequest: number }
  rounds: Array<{ first: 'peer' | 'l7'; l7: RunFigures; peer: RunFigures; ratio: { requestsPerSec: number; cpuPerRequest: number } }>
}

export interface ClusterBenchResult {
  machine: { cpus: number; node: string; haproxy: string; loadavgStart: number[]; loadavgEnd: number[] }
  settings: {
    duration: number
    rounds: number
    clients: number
    threads: number
    policies: PolicyName[]
    fronts: Front[]
    handoffs: Handoff[]
    connections: ConnectionMode[]
    files: number
    bytes: number
    zipf: number
    sequence: number
    nodes: number
    dispatcherIn: 'own' | 'node0'
    /** HAProxy's nbthread on both sides; null: its default (one per CPU). */
    haproxyThreads: number | null
    /** The policy parameters given (--param); the rest were at their defaults. */
    params: Partial<PolicyParams>
  }
  results: ConfigResult[]
  /** Stopped by the signal before the whole matrix was measured: `results` holds what was. */
  interrupted: boolean
  cpuProfDir: string | null
}

const NODES = 4
const ZIPF_ALPHA = 1
const SEQUENCE_LENGTH = 1 << 16
const WARM_SECONDS = 1
/** Files fetched and compared byte for byte (by length) through each side before it is measured. */
const CHECK_FILES = 12

/** The processes of one side, by role, as they are at the moment of asking. */
type Processes = () => Array<{ role: string; pid: number }>

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function cpuSnapshot(processes: Processes): Promise<Map<number, { role: string; user: number; system: number }>> {
  const snapshot = new Map<number, { role: string; user: number; system: number }>()
  for (const { role, pid } of processes()) snapshot.set(pid, { role, ...(await processCpuTimes(pid)) })
  return snapshot
}

/** GET each path with a new connection; throws naming the first that is not 200 with the file's length. */
async function checkServes(port: number, files: DocFile[], side: string): Promise<void> {
  for (const file of files) {
    const { status, length } = await new Promise<{ status: number; length: number }>((done, fail) => {
      const req = http.get({ host: '127.0.0.1', port, path: file.path, agent: false, timeout: 10_000 }, (res) => {
        let length = 0
        res.on('data', (chunk: Buffer) => (length += chunk.length))
        res.on('end', () => done({ status: res.statusCode ?? 0, length }))
        res.on('error', fail)
      })
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')))
      req.on('error', fail)
    }).catch((err: Error) => {
      throw new Error(`${side}: GET ${file.path} failed: ${err.message}`)
    })
    if (status !== 200 || length !== file.size) {
      throw new Error(`${side}: GET ${file.path} answered ${status} with ${length} bytes, expected 200 with ${file.size}`)
    }
  }
}

/**
 * Every file once, eight at a time, and checked: both sides start measured runs with their
 * caches warm (nginx reads through the page cache the files were just written to; l7's nodes
 * serve from their own memory, which a short timed warm-up leaves cold for most of the tail).
 */
async function warmEveryFile(port: number, files: DocFile[], side: string): Promise<void> {
  const lanes = 8
  await Promise.all(Array.from({ length: lanes }, (_, lane) => checkServes(port, files.filter((_, i) => i % lanes === lane), side)))
}

/** Requests by route, summed over the nodes' /metrics (null when a node does not answer). */
async function scrapeRoutes(admin: string[]): Promise<Record<string, number> | null> {
  const routes: Record<string, number> = {}
  for (const url of admin) {
    const text = await fetch(`${url}/metrics`)
      .then((r) => r.text())
      .catch(() => null)
    if (text === null) return null
    for (const m of text.matchAll(/^l7_node_requests_total\{[^}]*route="([a-z]+)"[^}]*\} (\d+)/gm)) routes[m[1]] = (routes[m[1]] ?? 0) + Number(m[2])
    // Cache misses cost file system calls: a reader of the figures needs them beside the routes.
    for (const m of text.matchAll(/^l7_node_cache_(hits|misses)_total\{[^}]*\} (\d+)/gm)) routes[`cache ${m[1]}`] = (routes[`cache ${m[1]}`] ?? 0) + Number(m[2])
  }
  return routes
}

function diffRoutes(before: Record<string, number> | null, after: Record<string, number> | null): Record<string, number> | undefined {
  if (!before || !after) return undefined
  return Object.fromEntries(Object.entries(after).map(([route, n]) => [route, n - (before[route] ?? 0)]))
}

export async function runClusterBench(options: ClusterBenchOptions = {}): Promise<ClusterBenchResult> {
  const began = performance.now()
  const log = (line: string) => options.log?.(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`)
  const signal = options.signal
  const policies = options.policies ?? ['ds', 'lard', 'chbl']
  const fronts = options.fronts ?? ['haproxy', 'shared']
  const handoffs = options.handoffs ?? ['relay', 'fd']
  const connections = options.connections ?? ['keep-alive', 'close']
  const duration = options.duration ?? 1
  const rounds = options.rounds ?? 3
  const clients = options.clients ?? 32
  const fileCount = options.files ?? 2000
  if (!Number.isInteger(duration) || duration < 1) throw new InvalidArgumentError(`--duration: wrk takes whole seconds, write e.g. 1s or 3s (got ${duration} s)`)
  if (!Number.isInteger(rounds) || rounds < 1) throw new InvalidArgumentError(`--rounds must be an integer >= 1, got ${rounds}`)
  for (const [flag, list] of [['--policies', policies], ['--front', fronts], ['--handoff', handoffs], ['--connection', connections]] as const) {
    if (list.length === 0) throw new InvalidArgumentError(`${flag} names nothing to run`)
  }

  const haproxy = findHaproxy()
  const nginx = findNginx()
  const missing = [haproxy ? null : HAPROXY_MISSING, nginx ? null : NGINX_MISSING, canRun('wrk', ['-v']) ? null : WRK_MISSING].filter(Boolean)
  if (!haproxy || !nginx || missing.length) throw new MissingDependencyError(missing.join('; '))

  const loadavgStart = os.loadavg()
  const haproxyVersion = /version (\S+)/i.exec(spawnSync(haproxy, ['-v'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown'
  log(`load average at start: ${loadavgStart.map((x) => x.toFixed(2)).join(' ')}`)

  // Everything this run starts, stopped in reverse order on every exit path; a process exit
  // that skips the finally (process.exit after a second Ctrl-C) still kills the servers and
  // removes the temp dir.
  const dir = await mkdtemp(join(os.tmpdir(), 'l7-bench-cluster-'))
  const forgetDir = removeOnExit(dir)
  const started: Array<{ stop(): Promise<void> }> = []
  const onExit = () => {
    // Every child of this process is this run's (servers, wrk, the cluster's children, and one
    // still starting); nginx's workers outlive a killed master, so grandchildren go first.
    const children = childPids(process.pid)
    for (const pid of [...children.flatMap((pid) => childPids(pid)), ...children]) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  process.on('exit', onExit)
  const track = <T extends { stop(): Promise<void> }>(server: T): T => (started.push(server), server)

  try {
    // nginx's workers run as nobody: the files must be readable to them from the top down.
    await chmod(dir, 0o755)
    const docroot = join(dir, 'www')
    log(`generating the SURGE file set (${fileCount} files, the cluster's default) in ${docroot}`)
    await writeSurgeFileSet(docroot, fileCount)
    const files = await listDocroot(docroot)
    const mix = zipfMix(files, { alpha: ZIPF_ALPHA, length: SEQUENCE_LENGTH, seed: options.seed ?? 1 })
    const script = join(dir, 'zipf-mix.lua')
    await writeFile(script, wrkMixScript(mix))
    // The most popular files and a few from the tail: each side must serve them whole.
    const checked = [...mix.ranked.slice(0, CHECK_FILES / 2), ...mix.ranked.slice(-CHECK_FILES / 2)]

    // The peer: 4 nginx instances with one worker each rather than one nginx with 4 workers.
    // That is the shape of 4 l7 nodes: one event loop per back end, each back end its own
    // process behind its own port, so `balance uri` sends a URL to one process as l7's policy
    // sends it to one node, and an imbalance between back ends shows as it does for l7 (4
    // workers of one nginx would all accept on every port and smooth it away).
    const backends: RunningNginx[] = []
    for (let i = 0; i < NODES; i++) {
      const nginxDir = join(dir, `nginx-${i}`)
      await mkdir(nginxDir)
      backends.push(track(await startNginx({ nginx, docroot, dir: nginxDir })))
    }
    const peerFront = track(await startHaproxy({ haproxy, dir, mode: 'http', servers: backends.map((b) => b.port), threads: options.haproxyThreads }))
    const peerProcesses: Processes = () => [
      { role: 'haproxy', pid: peerFront.pid },
      ...backends.flatMap((b) => [b.pid, ...childPids(b.pid)].map((pid) => ({ role: 'nginx', pid }))),
    ]
    await checkServes(peerFront.port, checked, 'HAProxy+nginx')
    const wrk = { duration, connections: clients, threads: 1, script }
    log(`warming the peer (every file once, then ${WARM_SECONDS} s)`)
    await warmEveryFile(peerFront.port, mix.ranked, 'HAProxy+nginx')
    await runWrkReport(`http://127.0.0.1:${peerFront.port}/`, { ...wrk, duration: WARM_SECONDS }, signal)

    async function measure(port: number, processes: Processes, close: boolean, admin?: string[]): Promise<RunFigures> {
      const routesBefore = admin ? await scrapeRoutes(admin) : null
      const before = await cpuSnapshot(processes)
      const report: WrkReport = await runWrkReport(`http://127.0.0.1:${port}/`, { ...wrk, close }, signal)
      const after = await cpuSnapshot(processes)
      const routes = admin ? diffRoutes(routesBefore, await scrapeRoutes(admin)) : undefined
      const requests = Math.max(1, report.requests)
      const byRole: Record<string, number> = {}
      let total = 0
      let system = 0
      for (const [pid, now] of after) {
        const then = before.get(pid)
        const kernel = now.system - (then?.system ?? 0)
        const used = now.user - (then?.user ?? 0) + kernel
        byRole[now.role] = (byRole[now.role] ?? 0) + (used * 1e6) / requests
        total += used
        system += kernel
      }
      return {
        requests: report.requests,
        requestsPerSec: report.requests / (report.durationUs / 1e6),
        non2xx: report.non2xx,
        socketErrors: report.socketErrors,
        p50Ms: report.p50Us / 1000,
        p99Ms: report.p99Us / 1000,
        bytesPerRequest: report.bytes / requests,
        cpuUsPerRequest: (total * 1e6) / requests,
        systemUsPerRequest: (system * 1e6) / requests,
        cpuUsPerRequestBy: byRole,
        ...(routes ? { routes } : {}),
      }
    }

    /** A way into one side under test: its port and every process of that side behind it. */
    interface Entry {
      front: Front
      port: number
      processes: Processes
    }
    let pair = 0

    /** Alternating rounds of the peer and each entry, in one connection mode: a result per entry. */
    async function compare(policy: ConfigResult['policy'], handoff: ConfigResult['handoff'], entries: Entry[], connection: ConnectionMode, admin?: string[]): Promise<ConfigResult[]> {
      const close = connection === 'close'
      const done = new Map<Front, ConfigResult['rounds']>(entries.map((e) => [e.front, []]))
      for (let round = 0; round < rounds; round++) {
        const first = pair++ % 2 === 0 ? 'peer' : 'l7'
        log(`${policy} ${handoff} ${connection}: round ${round + 1}/${rounds}, ${first} first, ${duration} s each`)
        let peerRun: RunFigures | null = null
        if (first === 'peer') peerRun = await measure(peerFront.port, peerProcesses, close)
        const runs: Array<[Front, RunFigures]> = []
        for (const e of entries) runs.push([e.front, await measure(e.port, e.processes, close, admin)])
        if (first === 'l7') peerRun = await measure(peerFront.port, peerProcesses, close)
        for (const [front, run] of runs) {
          done.get(front)!.push({
            first,
            l7: run,
            peer: peerRun!,
            ratio: { requestsPerSec: run.requestsPerSec / peerRun!.requestsPerSec, cpuPerRequest: run.cpuUsPerRequest / peerRun!.cpuUsPerRequest },
          })
        }
      }
      return entries.map(({ front }) => {
        const runs = done.get(front)!
        const summary = (side: 'l7' | 'peer'): Summary => ({
          requestsPerSec: median(runs.map((r) => r[side].requestsPerSec)),
          cpuUsPerRequest: median(runs.map((r) => r[side].cpuUsPerRequest)),
          systemUsPerRequest: median(runs.map((r) => r[side].systemUsPerRequest)),
          p99Ms: median(runs.map((r) => r[side].p99Ms)),
          requests: runs.reduce((sum, r) => sum + r[side].requests, 0),
          non2xx: runs.reduce((sum, r) => sum + r[side].non2xx, 0),
          socketErrors: runs.reduce((sum, r) => sum + r[side].socketErrors, 0),
        })
        return {
          policy,
          handoff,
          front,
          connection,
          l7: summary('l7'),
          peer: summary('peer'),
          ratio: {
            requestsPerSec: median(runs.map((r) => r.ratio.requestsPerSec)),
            cpuPerRequest: median(runs.map((r) => r.ratio.cpuPerRequest)),
          },
          rounds: runs,
        }
      })
    }

    /**
     * The ways into one side under test, one per front: HAProxy tcp round robin over `ports`
     * (started here; `stop` stops it) or the side's own shared port. `processes`: the side's.
     */
    async function openFronts(ports: number[], sharedPort: number, processes: Processes, side: string): Promise<{ entries: Entry[]; stop(): Promise<void> }> {
      const proxies: RunningHaproxy[] = []
      const stop = async () => {
        for (const proxy of proxies) {
          started.splice(started.indexOf(proxy), 1)
          await proxy.stop()
        }
      }
      try {
        const entries: Entry[] = []
        for (const front of fronts) {
          if (front === 'haproxy') {
            const proxy = track(await startHaproxy({ haproxy: haproxy!, dir, mode: 'tcp', servers: ports, threads: options.haproxyThreads }))
            proxies.push(proxy)
            entries.push({ front, port: proxy.port, processes: () => [{ role: 'haproxy', pid: proxy.pid }, ...processes()] })
          } else entries.push({ front, port: sharedPort, processes })
        }
        for (const e of entries) await checkServes(e.port, checked, `${side} (front ${e.front})`)
        return { entries, stop }
      } catch (err) {
        await stop()
        throw err
      }
    }

    const results: ConfigResult[] = []
    let interrupted = false
    try {
      for (const policy of policies) {
        for (const handoff of handoffs) {
          signal?.throwIfAborted()
          const profiles = options.cpuProfDir ? resolve(options.cpuProfDir, `${policy}-${handoff}`) : null
          if (profiles) await mkdir(profiles, { recursive: true })
          log(`l7 cluster --nodes ${NODES} --policy ${policy} --handoff ${handoff}`)
          // The cluster's parent is this process: its CPU (fd hand-overs go through it) is counted.
          const cluster: RunningCluster = await startCluster({
            nodes: NODES,
            policy,
            params: options.params,
            handoff,
            dispatcherIn: options.dispatcherIn,
            docroot,
            port: 0,
            front: fronts.includes('shared') ? '127.0.0.1:0' : undefined,
            nodeExecArgv: profiles ? ['--cpu-prof', '--cpu-prof-dir', profiles] : undefined,
          })
          let opened: { entries: Entry[]; stop(): Promise<void> } | null = null
          try {
            const nodeProcesses = () => [
              { role: 'parent', pid: process.pid },
              ...cluster.children.map((c) => ({ role: c.role === 'node' ? 'nodes' : c.role, pid: c.process.pid! })),
            ]
            const nodePorts = cluster.nodes.map((u) => Number(new URL(u).port))
            opened = await openFronts(nodePorts, cluster.front ? Number(new URL(cluster.front).port) : 0, nodeProcesses, `l7 ${policy} ${handoff}`)
            const entries = opened.entries
            log(`warming l7 ${policy} ${handoff} (every file once, then ${WARM_SECONDS} s)`)
            await warmEveryFile(entries[0].port, mix.ranked, `l7 ${policy} ${handoff}`)
            await runWrkReport(`http://127.0.0.1:${entries[0].port}/`, { ...wrk, duration: WARM_SECONDS }, signal)
            for (const connection of connections) results.push(...(await compare(policy, handoff, entries, connection, cluster.admin)))
          } finally {
            await opened?.stop()
            // startCluster kills its children itself should this process exit first.
            await cluster.close()
          }
        }
      }
      if (options.floor) {
        signal?.throwIfAborted()
        log(`the platform floor: ${NODES} processes of the least Node.js server, files in memory`)
        const floor = track(await startNodeFloor(docroot, NODES))
        let opened: { entries: Entry[]; stop(): Promise<void> } | null = null
        try {
          const floorProcesses = () => floor.pids.map((pid) => ({ role: 'floor', pid }))
          opened = await openFronts(floor.ports, floor.sharedPort, floorProcesses, 'node floor')
          const entries = opened.entries
          await runWrkReport(`http://127.0.0.1:${entries[0].port}/`, { ...wrk, duration: WARM_SECONDS }, signal)
          for (const connection of connections) results.push(...(await compare('floor', 'none', entries, connection)))
        } finally {
          await opened?.stop()
          started.splice(started.indexOf(floor), 1)
          await floor.stop()
        }
      }
    } catch (err) {
      // Interrupted: the configurations finished so far are the result.
      if (!signal?.aborted) throw err
      interrupted = true
    }

    const loadavgEnd = os.loadavg()
    log(`load average at end: ${loadavgEnd.map((x) => x.toFixed(2)).join(' ')}`)
    return {
      machine: { cpus: os.cpus().length, node: process.version, haproxy: haproxyVersion, loadavgStart, loadavgEnd },
      settings: {
        duration,
        rounds,
        clients,
        threads: 1,
        policies,
        fronts,
        handoffs,
        connections,
        files: files.length,
        bytes: files.reduce((sum, f) => sum + f.size, 0),
        zipf: ZIPF_ALPHA,
        sequence: SEQUENCE_LENGTH,
        nodes: NODES,
        dispatcherIn: options.dispatcherIn ?? 'own',
        haproxyThreads: options.haproxyThreads ?? null,
        params: { ...options.params },
      },
      results,
      interrupted,
      cpuProfDir: options.cpuProfDir ? resolve(options.cpuProfDir) : null,
    }
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => {})
    process.off('exit', onExit)
    await rm(dir, { recursive: true, force: true })
    forgetDir()
  }
}

function paramsText(params: Partial<PolicyParams>): string {
  const set = Object.entries(params).map(([key, value]) => `${key}=${value}`)
  return set.length === 0 ? 'the defaults' : `${set.join(', ')} (the rest at their defaults)`
}

/** The nodes' routes (metrics.ts) as the table names them; the last two only when they occur. */
const ROUTE_LABELS: Array<{ route: string; label: string; always: boolean }> = [
  { route: 'local', label: 'local', always: true },
  { route: 'dispatched', label: 'dispatched', always: true },
  { route: 'handoff', label: 'handed off', always: true },
  { route: 'fallback', label: 'fallback', always: false },
  { route: 'reused', label: 'reused', always: false },
]

/** "local 25%, dispatched 21%, handed off 54%, ..., cache misses 0.0%", or null without route counts. */
function routeShares(x: ConfigResult): string | null {
  const sums: Record<string, number> = {}
  for (const round of x.rounds) {
    if (!round.l7.routes) return null
    for (const [route, n] of Object.entries(round.l7.routes)) sums[route] = (sums[route] ?? 0) + n
  }
  const count = (route: string) => sums[route] ?? 0
  const served = ROUTE_LABELS.reduce((sum, { route }) => sum + count(route), 0)
  if (served === 0) return null
  const text = ROUTE_LABELS.filter(({ route, always }) => always || count(route) > 0).map(({ route, label }) => `${label} ${Math.round((100 * count(route)) / served)}%`)
  const lookups = count('cache hits') + count('cache misses')
  if (lookups > 0) text.push(`cache misses ${((100 * count('cache misses')) / lookups).toFixed(1)}%`)
  return text.join(', ')
}

const FRONT_TEXT: Record<Front, string> = {
  haproxy: 'HAProxy tcp round robin (front haproxy)',
  shared: 'a listening socket all nodes share (front shared)',
}

export function formatClusterBench(r: ClusterBenchResult): string {
  const s = r.settings
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ')
  const k = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0))
  const pct = (x: Summary) => `${Math.round((100 * x.systemUsPerRequest) / x.cpuUsPerRequest)}%`
  const errors = (x: Summary) => String(x.non2xx + x.socketErrors)
  const widths = [29, 6, 6, 5, 6, 5, 5, 4, 4, 6, 6, 5, 5]
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ')
  // A label right-aligned over each group of columns.
  const group = (groups: Array<[string, number]>) => {
    let at = 0
    return groups
      .map(([label, span]) => {
        const width = widths.slice(at, at + span).reduce((a, b) => a + b, 0) + span - 1
        at += span
        return label.padStart(width)
      })
      .join(' ')
  }
  const lines = [
    `l7 cluster (${s.nodes} nodes${s.dispatcherIn === 'node0' ? ', the dispatcher inside node 0' : ''}), its clients coming through ${s.fronts.map((f) => FRONT_TEXT[f]).join(' or ')},`,
    `vs HAProxy http balance uri -> ${s.nodes} nginx;`,
    `wrk -t1 -c${s.clients} -d${s.duration}s, Zipf(${s.zipf}) over ${s.files} files (${(s.bytes / 1e6).toFixed(1)} MB), median of ${s.rounds} alternating rounds;`,
    `${r.machine.cpus} CPUs, Node ${r.machine.node}, HAProxy ${r.machine.haproxy} (${s.haproxyThreads === null ? 'its default threads, one per CPU' : `nbthread ${s.haproxyThreads}`}, both sides)`,
    `policy parameters: ${paramsText(s.params)}`,
    `load average at start ${load(r.machine.loadavgStart)}, at end ${load(r.machine.loadavgEnd)}`,
    '',
    group([['', 1], ['req/s', 3], ['CPU us/req', 3], ['kernel', 2], ['p99 ms', 2], ['errors', 2]]),
    row(['configuration', 'l7', 'peer', 'ratio', 'l7', 'peer', 'ratio', 'l7', 'peer', 'l7', 'peer', 'l7', 'peer']),
  ]
  for (const x of r.results) {
    lines.push(
      row([
        x.policy === 'floor' ? `node floor ${x.connection} ${x.front}` : `${x.policy} ${x.handoff} ${x.connection} ${x.front}`,
        k(x.l7.requestsPerSec),
        k(x.peer.requestsPerSec),
        x.ratio.requestsPerSec.toFixed(2),
        x.l7.cpuUsPerRequest.toFixed(0),
        x.peer.cpuUsPerRequest.toFixed(0),
        x.ratio.cpuPerRequest.toFixed(1),
        pct(x.l7),
        pct(x.peer),
        x.l7.p99Ms.toFixed(1),
        x.peer.p99Ms.toFixed(1),
        errors(x.l7),
        errors(x.peer),
      ]),
    )
  }
  // How l7's requests were served decides most of their cost (a handed-off request pays a
  // second process and a second copy): the routes, summed over the rounds, beside the table.
  const routed = r.results.map((x) => [x, routeShares(x)] as const).filter(([, shares]) => shares !== null)
  if (routed.length > 0) {
    lines.push('', 'l7 requests by route (all rounds; local = DS\'s node half, without asking):')
    for (const [x, shares] of routed) lines.push(`  ${`${x.policy} ${x.handoff} ${x.connection} ${x.front}`.padEnd(widths[0])} ${shares}`)
  }
  lines.push(
    '',
    'ratio: l7 / peer, median of the per-round ratios (req/s: higher is better for l7; CPU: lower is).',
    'CPU: user + system of every process of a side per request (/proc): peer = haproxy + nginx masters',
    'and workers; l7 = the cluster parent + dispatcher + nodes (+ haproxy with front haproxy).',
    'kernel: the system-time share. front: haproxy = HAProxy mode tcp round robin over the nodes\' ports;',
    'shared = l7 cluster --front (one listening socket all nodes accept on; no proxy in between).',
    'floor (--floor): 4 processes of the least Node.js server (files in memory, a fixed head, no',
    'routing), through the same fronts: what any Node.js process pays here, without l7\'s work.',
    'errors: responses with status >= 400 + socket errors. --json: every round, CPU by process role,',
    'the response bytes per request and l7 requests by route.',
  )
  if (r.interrupted) lines.push('interrupted: only the configurations above were measured')
  if (r.cpuProfDir) lines.push(`node CPU profiles: ${r.cpuProfDir}/<policy>-<handoff>/*.cpuprofile`)
  return lines.join('\n')
}
