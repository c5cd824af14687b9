// `l7 bench dispatcher`: decisions/s and round-trip latency of the dispatcher with N simulated
// nodes in child processes (the client side is never on the dispatcher's event loop), with
// adaptive batching and with batching off (the peer, measured in the same run), and one run at
// a fixed offered load. Figures, not assertions: on a shared 2-core machine the dispatcher and
// the simulated nodes compete for the same cores.
import { fork, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import * as hdr from 'hdr-histogram-js'
import { waitForMessage } from '../service/core/child-process.js'
import { startDispatcher } from '../service/dispatcher/dispatcher.js'
import type { Impl } from '../service/policy/index.js'
import type { PolicyName } from '../service/policy/types.js'
import { initHistograms, mergeEncoded } from '../service/replay/histograms.js'
import type { ChildMessage, NodeChildConfig, ParentMessage } from './dispatcher-node.js'

const CHILD = fileURLToPath(new URL('./dispatcher-node.js', import.meta.url))
const TOKEN = 'bench-dispatcher'

export interface DispatcherBenchOptions {
  policy?: PolicyName
  impl?: Impl
  /** Node counts for the throughput runs. */
  nodes?: number[]
  /** Child processes the simulated nodes are spread over (per run: at most one per node). */
  processes?: number
  /** Requests outstanding per node in the throughput runs. */
  concurrency?: number
  warmupSeconds?: number
  durationSeconds?: number
  /** Offered load of the fixed-rate run, decisions/s in total (0 = skip it). */
  offeredRate?: number
  /** Nodes in the fixed-rate run. */
  offeredNodes?: number
  /** Which batching modes to run (both by default; one of them to profile it alone). */
  batchingModes?: boolean[]
  targets?: number
  zipfExponent?: number
  log?: (line: string) => void
}

export interface DispatcherBenchRow {
  nodes: number
  batching: boolean
  /** echo: the open schedule against a bare TCP echo server instead of the dispatcher (the floor). */
  mode: 'closed' | 'open' | 'echo'
  /** Offered decisions/s (open loop), null in closed-loop runs. */
  offeredPerSec: number | null
  decisionsPerSec: number
  rttP50Us: number
  rttP99Us: number
  rttP999Us: number
  rttMaxUs: number
  /** Mean requests per ASSIGN frame as the nodes sent them. */
  meanBatch: number
  errors: number
  /** CPU the dispatcher process (echo: the echo server's) used during the run, percent of one core (user + system). */
  dispatcherCpuPct: number
  /** CPU the simulated-node processes used together, percent of one core. */
  nodesCpuPct: number
}

export interface DispatcherBenchResult {
  machine: { cpus: number; node: string }
  settings: Required<Omit<DispatcherBenchOptions, 'log'>>
  results: DispatcherBenchRow[]
  /**
   * The fixed-load run's schedule, processes and batching against a bare TCP echo server in the
   * dispatcher's process (no dispatcher, WebSocket, codec or promises): the round trips this
   * machine gives whatever the dispatcher does. Null when the fixed-load run is skipped.
   */
  floor: DispatcherBenchRow | null
  /** Batching over batching off, decisions/s, per node count. */
  ratios: { nodes: number; batchingOverOff: number }[]
}

interface RunSpec {
  nodes: number
  batching: boolean
  mode: 'closed' | 'open' | 'echo'
  offeredPerSec: number | null
}

/** What the node processes talk to in one run: the dispatcher, or the echo server of the floor run. */
interface BenchServer {
  url: string
  close(): Promise<void>
}

async function startBenchDispatcher(spec: RunSpec, o: Required<Omit<DispatcherBenchOptions, 'log'>>): Promise<BenchServer> {
  const dispatcher = await startDispatcher({
    policy: o.policy,
    impl: o.impl,
    port: 0,
    token: TOKEN,
    params: { maxNodes: Math.max(64, spec.nodes) },
    // Quiet: the per-node join/leave lines would only add noise to the figures.
    log: (level, event, fields) => {
      if (level === 'error') process.stderr.write(JSON.stringify({ level, event, ...fields }) + '\n')
    },
  })
  return { url: `ws://127.0.0.1:${dispatcher.port}/control`, close: () => dispatcher.close() }
}

/** A TCP echo server with Nagle off, as uWS runs its sockets. */
async function startEchoServer(): Promise<BenchServer> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.setNoDelay(true)
    socket.on('data', (chunk) => socket.write(chunk))
    socket.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}

function waitFor<T extends ChildMessage['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
  return waitForMessage<ChildMessage, T>(child, type, timeoutMs, (failure) => {
    if (failure.kind === 'timeout') return new Error(`bench node process: no "${type}" within ${timeoutMs} ms`)
    if (failure.kind === 'failed') return new Error(`bench node process failed: ${failure.message}`)
    return new Error(`bench node process exited (${failure.code}) before "${type}"`)
  })
}

async function runOne(spec: RunSpec, o: Required<Omit<DispatcherBenchOptions, 'log'>>): Promise<DispatcherBenchRow> {
  const server = spec.mode === 'echo' ? await startEchoServer() : await startBenchDispatcher(spec, o)
  const processes = Math.max(1, Math.min(o.processes, spec.nodes))
  const children: ChildProcess[] = []
  try {
    for (let p = 0; p < processes; p++) {
      const nodeIds = Array.from({ length: spec.nodes }, (_, i) => i).filter((i) => i % processes === p)
      // execArgv: [] so that `node --cpu-prof` on the bench profiles the dispatcher only;
      // L7_BENCH_NODE_ARGV (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p") profiles the node side.
      const execArgv = (process.env.L7_BENCH_NODE_ARGV ?? '').split(' ').filter(Boolean)
      const child = fork(CHILD, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      children.push(child)
      const config: NodeChildConfig = {
        url: server.url,
        token: TOKEN,
        nodeIds,
        batching: spec.batching,
        mode: spec.mode,
        concurrency: o.concurrency,
        ratePerNode: spec.offeredPerSec ? spec.offeredPerSec / spec.nodes : 0,
        warmupMs: o.warmupSeconds * 1000,
        durationMs: o.durationSeconds * 1000,
        targets: o.targets,
        zipfExponent: o.zipfExponent,
        seed: 12345 + p,
      }
      child.send({ type: 'config', config } satisfies ParentMessage)
    }
    await Promise.all(children.map((c) => waitFor(c, 'ready', 20_000)))
    const results = children.map((c) => waitFor(c, 'result', (o.warmupSeconds + o.durationSeconds) * 1000 + 30_000))
    const cpuBefore = process.cpuUsage()
    const wallBefore = performance.now()
    for (const c of children) c.send({ type: 'start' } satisfies ParentMessage)
    const parts = await Promise.all(results)
    const cpu = process.cpuUsage(cpuBefore)
    const wallUs = (performance.now() - wallBefore) * 1000
    const percent = (us: number) => Math.round((us / wallUs) * 1000) / 10
    const completed = parts.reduce((n, r) => n + r.completed, 0)
    const merged = await mergeEncoded(parts.map((r) => r.histogram))
    const histogram = hdr.decodeFromCompressedBase64(merged, 32, true)
    try {
      const batches = parts.reduce((n, r) => n + r.batches, 0)
      const requests = parts.reduce((n, r) => n + r.requests, 0)
      return {
        nodes: spec.nodes,
        batching: spec.batching,
        mode: spec.mode,
        offeredPerSec: spec.offeredPerSec,
        decisionsPerSec: Math.round(completed / o.durationSeconds),
        rttP50Us: histogram.getValueAtPercentile(50),
        rttP99Us: histogram.getValueAtPercentile(99),
        rttP999Us: histogram.getValueAtPercentile(99.9),
        rttMaxUs: histogram.maxValue,
        meanBatch: batches > 0 ? Math.round((requests / batches) * 10) / 10 : 0,
        errors: parts.reduce((n, r) => n + r.errors, 0),
        dispatcherCpuPct: percent(cpu.user + cpu.system),
        nodesCpuPct: percent(parts.reduce((n, r) => n + r.cpuUs, 0)),
      }
    } finally {
      histogram.destroy()
    }
  } finally {
    // Children exit by themselves after their result (and write a profile if asked); stragglers are killed.
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve()
            const timer = setTimeout(() => c.kill(), 5000)
            c.once('exit', () => {
              clearTimeout(timer)
              resolve()
            })
          }),
      ),
    )
    await server.close()
  }
}

export async function runDispatcherBench(options: DispatcherBenchOptions = {}): Promise<DispatcherBenchResult> {
  const o: Required<Omit<DispatcherBenchOptions, 'log'>> = {
    policy: options.policy ?? 'ds',
    impl: options.impl ?? 'wasm',
    nodes: options.nodes ?? [4, 16],
    processes: options.processes ?? 2,
    concurrency: options.concurrency ?? 1024,
    warmupSeconds: options.warmupSeconds ?? 1,
    durationSeconds: options.durationSeconds ?? 3,
    offeredRate: options.offeredRate ?? 100_000,
    offeredNodes: options.offeredNodes ?? 4,
    targets: options.targets ?? 10_000,
    zipfExponent: options.zipfExponent ?? 1,
    batchingModes: options.batchingModes ?? [true, false],
  }
  const log = options.log ?? (() => {})
  await initHistograms()
  const specs: RunSpec[] = []
  for (const nodes of o.nodes) {
    for (const batching of o.batchingModes) specs.push({ nodes, batching, mode: 'closed', offeredPerSec: null })
  }
  if (o.offeredRate > 0) {
    for (const batching of o.batchingModes) specs.push({ nodes: o.offeredNodes, batching, mode: 'open', offeredPerSec: o.offeredRate })
  }
  const results: DispatcherBenchRow[] = []
  for (const spec of specs) {
    log(`run: ${spec.nodes} nodes, batching ${spec.batching ? 'on' : 'off'}, ${spec.mode === 'open' ? `${spec.offeredPerSec}/s offered` : `${o.concurrency} outstanding per node`}`)
    results.push(await runOne(spec, o))
  }
  let floor: DispatcherBenchRow | null = null
  if (o.offeredRate > 0) {
    log(`run: floor: ${o.offeredNodes} nodes, ${o.offeredRate}/s offered against a bare TCP echo server`)
    floor = await runOne({ nodes: o.offeredNodes, batching: true, mode: 'echo', offeredPerSec: o.offeredRate }, o)
  }
  const ratios = o.nodes.flatMap((nodes) => {
    const on = results.find((r) => r.nodes === nodes && r.mode === 'closed' && r.batching)
    const off = results.find((r) => r.nodes === nodes && r.mode === 'closed' && !r.batching)
    if (!on || !off) return []
    return [{ nodes, batchingOverOff: off.decisionsPerSec > 0 ? Math.round((on.decisionsPerSec / off.decisionsPerSec) * 100) / 100 : 0 }]
  })
  return { machine: { cpus: cpus().length, node: process.version }, settings: o, results, floor, ratios }
}

export function formatDispatcherBench(r: DispatcherBenchResult): string {
  const lines = [
    `dispatcher benchmark: policy ${r.settings.policy} (${r.settings.impl}), ${r.settings.targets} Zipf(${r.settings.zipfExponent}) targets, ` +
      `${r.settings.processes} node processes, ${r.machine.cpus} CPUs shared by dispatcher and nodes, ${r.settings.durationSeconds} s per run`,
    '',
    'nodes  batching  load                 decisions/s   rtt p50 us   p99 us   p99.9 us   mean batch   errors   dispatcher cpu   nodes cpu',
  ]
  for (const row of r.results) {
    const load = row.mode === 'open' ? `${row.offeredPerSec}/s offered` : `${r.settings.concurrency}/node closed`
    lines.push(
      `${String(row.nodes).padStart(5)}  ${(row.batching ? 'on' : 'off').padEnd(8)}  ${load.padEnd(19)}  ${String(row.decisionsPerSec).padStart(11)}  ` +
        `${String(row.rttP50Us).padStart(11)}  ${String(row.rttP99Us).padStart(7)}  ${String(row.rttP999Us).padStart(9)}  ${String(row.meanBatch).padStart(11)}  ${String(row.errors).padStart(7)}  ${`${row.dispatcherCpuPct}%`.padStart(15)}  ${`${row.nodesCpuPct}%`.padStart(10)}`,
    )
  }
  lines.push('')
  for (const ratio of r.ratios) lines.push(`${ratio.nodes} nodes: adaptive batching gives ${ratio.batchingOverOff}x the decisions/s of batching off (same run)`)
  const open = r.results.find((row) => row.mode === 'open' && row.batching)
  if (open) lines.push(`fixed load ${open.offeredPerSec}/s with batching: p99 round trip ${open.rttP99Us} us (goal < 1000 us), from the assign() call to its answer`)
  if (open && r.floor) {
    const f = r.floor
    lines.push(
      `floor, same schedule, processes and batching against a bare TCP echo server (no dispatcher, WebSocket or codec): ` +
        `p50 ${f.rttP50Us} us, p99 ${f.rttP99Us} us, p99.9 ${f.rttP999Us} us; the dispatcher's p99 is ${f.rttP99Us > 0 ? Math.round((open.rttP99Us / f.rttP99Us) * 100) / 100 : 0}x the floor's`,
    )
  }
  const closedBatching = r.results.filter((row) => row.batching && row.mode === 'closed')
  if (closedBatching.length > 0) {
    const best = Math.max(...closedBatching.map((row) => row.decisionsPerSec))
    lines.push(`best closed-loop throughput with batching: ${best} decisions/s (goal >= 1,000,000)`)
  }
  lines.push('cpu: percent of one core over warm-up and measurement; the 2 cores are shared with the node processes (and whatever else runs)')
  return lines.join('\n')
}
