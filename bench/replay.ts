// `l7 bench replay`: what a request costs the load generator. In one run, against the same
// nginx (one worker, a small file), each for the same duration and connection count: wrk,
// autocannon, `l7 replay` in closed mode (users = connections, no OFF time: the peers' closed
// loop) and in rate mode (open loop, by default at 80% of l7's own closed-loop throughput, so
// that it is not saturated), each with its default client (the lean fast client; the tool is
// shown as `l7-closed [fast]`) and with `--client undici`. Each generator's CPU time comes from the kernel's accounting of the
// child process tree (bash `times` after the tool exits: user + system of everything it ran,
// start-up included), divided by the requests it completed. nginx and the generators are
// pinned to different cores when there are at least two. Figures, not assertions: on a
// shared machine only ratios within one run mean something.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { canRun, pinnedArgv } from '../service/core/child-process.js'
import { InvalidArgumentError, MissingDependencyError } from '../service/core/errors.js'
import { findNginx, NGINX_MISSING, startNginx, type RunningNginx } from './peers/nginx.js'
import { parseWrkSummary, WRK_MISSING, wrkCommand } from './peers/wrk.js'

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const AUTOCANNON = fileURLToPath(new URL('../../node_modules/autocannon/autocannon.js', import.meta.url))
const FILE_BYTES = 612

export interface ReplayBenchOptions {
  /** Seconds per generator run. */
  durationS?: number
  /** Connections (and l7 closed-mode users) for every generator. */
  connections?: number
  /** l7 rate mode's requests/s; default 80% of l7's own closed-loop throughput in round 1. */
  rate?: number
  /** Rounds (each runs every generator once, in a rotating order); the median round is reported. */
  rounds?: number
  /** Pin nginx and the generators to different cores (when there are two or more). */
  pin?: boolean
  log?: (line: string) => void
}

export interface ToolFigures {
  tool: string
  rps: number
  requests: number
  errors: number
  /** CPU of the generator's process tree over its whole life (start-up included), microseconds. */
  cpuUs: number
  cpuUsPerRequest: number
  /** l7 only: CPU per request over the run itself (process.cpuUsage, start-up excluded). */
  inRunCpuUsPerRequest?: number
  /** CPU per request of every round (the figures above are the median round's). */
  roundsCpuUsPerRequest?: number[]
  /** l7 only: the HTTP client the run used (the default one unless the tool name says). */
  client?: string
  /** l7 only: latency p99 from the scheduled send, and the generator's send lag p99, ms. */
  latencyP99Ms?: number
  sendLagP99Ms?: number
  command: string
}

export interface Ratio {
  tool: string
  peer: string
  /** tool's CPU per request / peer's (goal: <= 1.0 against autocannon, <= 2.5 against wrk). */
  cpuPerRequest: number
  rps: number
}

export interface ReplayBenchResult {
  machine: { cpus: number; node: string; loadAverage: number[] }
  settings: { durationS: number; connections: number; rounds: number; rate: number | null; pinning: string; fileBytes: number }
  results: ToolFigures[]
  ratios: Ratio[]
  /** Peers that could not run, with the reason. */
  missing: string[]
}

interface Measured {
  code: number | null
  stdout: string
  stderr: string
  cpuUs: number
}

/**
 * Runs a command under bash and reads `times` after it exits: the second line is the user and
 * system time of bash's waited-for children, i.e. the tool and everything it started.
 */
async function runMeasured(command: string[], dir: string, name: string, cpu: number | undefined, limitS: number): Promise<Measured> {
  const out = join(dir, `${name}.out`)
  const err = join(dir, `${name}.err`)
  const script = 'out=$1; err=$2; limit=$3; shift 3; timeout -k 5 "$limit" "$@" >"$out" 2>"$err"; rc=$?; times; exit $rc'
  const bash = ['bash', '-c', script, 'bash', out, err, String(limitS), ...command]
  const argv = pinnedArgv(bash, cpu)
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
  let times = ''
  proc.stdout.on('data', (chunk) => (times += chunk))
  const [code] = (await once(proc, 'exit')) as [number | null]
  const clock = [...times.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)]
  if (clock.length < 2) throw new Error(`${name}: cannot read the CPU times (${JSON.stringify(times)})`)
  const [, userMin, userSec, sysMin, sysSec] = clock[1]
  const cpuUs = Math.round((Number(userMin) * 60 + Number(userSec) + Number(sysMin) * 60 + Number(sysSec)) * 1e6)
  return { code, stdout: await readFile(out, 'utf8'), stderr: await readFile(err, 'utf8'), cpuUs }
}

function figures(tool: string, command: string[], run: Measured, requests: number, errors: number, rps: number): ToolFigures {
  return {
    tool,
    rps: Math.round(rps),
    requests,
    errors,
    cpuUs: run.cpuUs,
    cpuUsPerRequest: requests > 0 ? Math.round((run.cpuUs / requests) * 100) / 100 : NaN,
    command: command.map((arg) => (/\s/.test(arg) ? JSON.stringify(arg) : arg)).join(' '),
  }
}

export async function runReplayBench(options: ReplayBenchOptions = {}): Promise<ReplayBenchResult> {
  const durationS = options.durationS ?? 10
  const connections = options.connections ?? 10
  if (!(durationS >= 1)) throw new InvalidArgumentError(`duration must be >= 1 s, got ${durationS}`)
  if (!(connections >= 1)) throw new InvalidArgumentError(`connections must be >= 1, got ${connections}`)
  const log = options.log ?? (() => {})
  const nginx = findNginx()
  if (!nginx) throw new MissingDependencyError(`${NGINX_MISSING}: the benchmark needs it as the server`)
  if (!canRun('bash', ['-c', 'times'])) throw new MissingDependencyError('bash is needed to read the generators\' CPU times')
  const missing: string[] = []
  const hasWrk = canRun('wrk', ['-v'])
  if (!hasWrk) missing.push(WRK_MISSING)
  const hasAutocannon = canRun(process.execPath, [AUTOCANNON, '--version'])
  if (!hasAutocannon) missing.push(`autocannon is not installed (${AUTOCANNON}; it is a devDependency: npm install)`)

  const cpus = availableParallelism()
  const pin = (options.pin ?? true) && cpus >= 2 && canRun('taskset', ['-c', '0', 'true'])
  const serverCpu = pin ? cpus - 1 : undefined
  const generatorCpu = pin ? 0 : undefined
  const pinning = pin ? `nginx on cpu ${serverCpu}, generators on cpu ${generatorCpu}` : cpus < 2 ? 'none (one cpu)' : 'none'

  const dir = await mkdtemp(join(tmpdir(), 'l7-bench-replay-'))
  let server: RunningNginx | undefined
  try {
    const docroot = join(dir, 'www')
    await mkdir(docroot, { mode: 0o755 })
    await writeFile(join(docroot, 'index.html'), 'x'.repeat(FILE_BYTES), { mode: 0o644 })
    server = await startNginx({ nginx, docroot, dir, cpu: serverCpu })
    const origin = `http://127.0.0.1:${server.port}`
    const url = `${origin}/index.html`
    const trace = join(dir, 'trace.l7')
    await writeFile(trace, '#l7-trace 1\n0 0 GET /index.html -\n')
    const limitS = durationS + 60
    const rounds = options.rounds ?? 3
    log(`nginx (1 worker) on ${origin}; ${pinning}; ${rounds} rounds of ${durationS} s per generator, ${connections} connections`)

    const runWrk = async (): Promise<ToolFigures | string> => {
      const command = wrkCommand(url, { threads: 1, connections, duration: durationS })
      const run = await runMeasured(command, dir, 'wrk', generatorCpu, limitS)
      const summary = run.code === 0 ? parseWrkSummary(run.stdout) : null
      if (!summary) return `wrk failed (exit ${run.code}): ${run.stderr.trim() || run.stdout.trim()}`
      return figures('wrk', command, run, summary.requests, summary.errors, summary.requests / summary.seconds)
    }

    const runAutocannon = async (): Promise<ToolFigures | string> => {
      const command = [process.execPath, AUTOCANNON, '-c', String(connections), '-d', String(durationS), '-j', url]
      const run = await runMeasured(command, dir, 'autocannon', generatorCpu, limitS)
      try {
        const json = JSON.parse(run.stdout) as { requests: { total: number }; duration: number; errors: number; non2xx: number }
        return figures('autocannon', command, run, json.requests.total, json.errors + json.non2xx, json.requests.total / json.duration)
      } catch {
        return `autocannon failed (exit ${run.code}): ${run.stderr.trim().slice(0, 500)}`
      }
    }

    const runL7 = async (tool: string, modeArgs: string[]): Promise<ToolFigures | string> => {
      const command = [process.execPath, BIN, 'replay', trace, '--target', origin, ...modeArgs, '--connections', String(connections), '--duration', `${durationS}s`, '--json']
      const run = await runMeasured(command, dir, tool, generatorCpu, limitS)
      try {
        const json = JSON.parse(run.stdout) as {
          ok: number
          errors: number
          client: string
          throughputRps: number
          cpuUsPerRequest: number
          latencyMs: { p99: number }
          sendLagMs: { p99: number }
        }
        const result = figures(tool, command, run, json.ok + json.errors, json.errors, json.throughputRps)
        result.inRunCpuUsPerRequest = json.cpuUsPerRequest
        result.client = json.client
        result.latencyP99Ms = json.latencyMs.p99
        result.sendLagP99Ms = json.sendLagMs.p99
        return result
      } catch {
        return `l7 replay ${tool} failed (exit ${run.code}): ${run.stderr.trim().slice(0, 500)}`
      }
    }

    const closedArgs = ['--mode', 'closed', '--users', String(connections), '--off-time', '0']
    const closedLoop: Array<[string, () => Promise<ToolFigures | string>]> = [
      ['l7-closed', () => runL7('l7-closed', closedArgs)],
      ['l7-closed-undici', () => runL7('l7-closed-undici', [...closedArgs, '--client', 'undici'])],
    ]
    if (hasWrk) closedLoop.push(['wrk', runWrk])
    if (hasAutocannon) closedLoop.push(['autocannon', runAutocannon])
    const byTool = new Map<string, ToolFigures[]>()
    const failures = new Set<string>()
    let rate = options.rate ?? 0
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so that no generator always runs first (or right after another).
      const order = closedLoop.map((_, i) => closedLoop[(i + round) % closedLoop.length])
      if (rate === 0) {
        // Round 1 sets the open-loop rate: 80% of what l7 itself reached in closed loop.
        order.sort(([a], [b]) => Number(b === 'l7-closed') - Number(a === 'l7-closed'))
      }
      const steps = [...order]
      steps.push(['l7-rate', () => runL7('l7-rate', ['--mode', 'rate', '--rate', String(rate)])])
      steps.push(['l7-rate-undici', () => runL7('l7-rate-undici', ['--mode', 'rate', '--rate', String(rate), '--client', 'undici'])])
      for (const [tool, run] of steps) {
        if (tool.startsWith('l7-rate') && rate === 0) {
          const closedRps = byTool.get('l7-closed')?.[0].rps ?? 0
          rate = closedRps > 0 ? Math.round(0.8 * closedRps) : 1000
        }
        log(`round ${round + 1}/${rounds}: ${tool}`)
        const figures = await run()
        if (typeof figures === 'string') failures.add(figures)
        else byTool.set(tool, [...(byTool.get(tool) ?? []), figures])
      }
    }
    for (const failure of failures) missing.push(failure)
    const results: ToolFigures[] = []
    for (const tool of ['wrk', 'autocannon', 'l7-closed', 'l7-closed-undici', 'l7-rate', 'l7-rate-undici']) {
      const runs = byTool.get(tool)
      if (!runs) continue
      // The median round by CPU per request; every round's figure is kept beside it.
      const sorted = [...runs].sort((a, b) => a.cpuUsPerRequest - b.cpuUsPerRequest)
      results.push({ ...sorted[Math.floor((sorted.length - 1) / 2)], roundsCpuUsPerRequest: runs.map((r) => r.cpuUsPerRequest) })
    }

    const ratios: Ratio[] = []
    for (const tool of results.filter((r) => r.tool.startsWith('l7'))) {
      for (const peer of results.filter((r) => !r.tool.startsWith('l7'))) {
        ratios.push({
          tool: tool.tool,
          peer: peer.tool,
          cpuPerRequest: Math.round((tool.cpuUsPerRequest / peer.cpuUsPerRequest) * 100) / 100,
          rps: Math.round((tool.rps / peer.rps) * 100) / 100,
        })
      }
    }
    // Open loop against closed loop, same client (goal: rate mode within 1.5x of closed mode).
    for (const [rateTool, closedTool] of [['l7-rate', 'l7-closed'], ['l7-rate-undici', 'l7-closed-undici']]) {
      const open = results.find((r) => r.tool === rateTool)
      const closed = results.find((r) => r.tool === closedTool)
      if (!open || !closed) continue
      ratios.push({
        tool: rateTool,
        peer: closedTool,
        cpuPerRequest: Math.round((open.cpuUsPerRequest / closed.cpuUsPerRequest) * 100) / 100,
        rps: Math.round((open.rps / closed.rps) * 100) / 100,
      })
    }
    return {
      machine: { cpus, node: process.version, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) },
      settings: { durationS, connections, rounds, rate, pinning, fileBytes: FILE_BYTES },
      results,
      ratios,
      missing,
    }
  } finally {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

export function formatReplayBench(result: ReplayBenchResult): string {
  const { settings } = result
  const lines = [
    `load generators against nginx (1 worker, ${settings.fileBytes} B file), ${settings.durationS} s each, ${settings.connections} connections, ` +
      `median of ${settings.rounds} rounds; ` +
      `${settings.pinning}; l7 rate mode at ${settings.rate} req/s`,
    `machine: ${result.machine.cpus} cpus, load average ${result.machine.loadAverage.join(' ')} (a shared machine makes figures noisy: compare ratios within a run)`,
    '',
    'tool                req/s   requests  errors  cpu us/req (process)  cpu us/req (in run)  latency p99 ms  send lag p99 ms',
  ]
  for (const r of result.results) {
    // the default client is named, so the table says what `l7 replay` uses without --client
    const name = r.client !== undefined && !r.tool.endsWith(`-${r.client}`) ? `${r.tool} [${r.client}]` : r.tool
    lines.push(
      `${name.padEnd(18)} ${String(r.rps).padStart(6)}  ${String(r.requests).padStart(9)}  ${String(r.errors).padStart(6)}  ` +
        `${r.cpuUsPerRequest.toFixed(1).padStart(20)}  ${(r.inRunCpuUsPerRequest === undefined ? '-' : r.inRunCpuUsPerRequest.toFixed(1)).padStart(19)}  ` +
        `${(r.latencyP99Ms === undefined ? '-' : r.latencyP99Ms.toFixed(2)).padStart(14)}  ${(r.sendLagP99Ms === undefined ? '-' : r.sendLagP99Ms.toFixed(2)).padStart(15)}`,
    )
  }
  if (result.ratios.length > 0) {
    lines.push('', 'ratios (cpu per request: goal <= 1.0 against autocannon, <= 2.5 against wrk, rate <= 1.5 x closed)')
    for (const ratio of result.ratios) {
      lines.push(`  ${ratio.tool} / ${ratio.peer}: cpu per request ${ratio.cpuPerRequest.toFixed(2)}, req/s ${ratio.rps.toFixed(2)}`)
    }
  }
  lines.push('', 'cpu us/req by round (process): ' + result.results.map((r) => `${r.tool} ${(r.roundsCpuUsPerRequest ?? []).map((x) => x.toFixed(1)).join('/')}`).join(', '))
  for (const reason of result.missing) lines.push(`missing: ${reason}`)
  return lines.join('\n')
}
