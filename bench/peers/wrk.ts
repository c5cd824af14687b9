// wrk as the benchmarks' peer load generator: its command line and its summary's figures, and
// a Lua `done()` that reports exact counts and percentiles as one JSON line (the text summary
// rounds them and prints no p99 without --latency).

import { spawn } from 'node:child_process'
import { once } from 'node:events'

export const WRK_MISSING = 'wrk is not installed (Debian: apt-get install -y wrk)'

export interface WrkSettings {
  /** Seconds. */
  duration: number
  connections: number
  threads: number
  /** A new connection per request (Connection: close) instead of keep-alive. */
  close?: boolean
  /** A Lua script (wrk -s), e.g. one that picks each request's path. */
  script?: string
}

export interface WrkFigures {
  requestsPerSec: number
  latencyMeanMs: number
  requests: number
  errors: number
}

export function wrkCommand(url: string, o: WrkSettings): string[] {
  const command = ['wrk', `-t${o.threads}`, `-c${o.connections}`, `-d${o.duration}s`]
  if (o.close) command.push('-H', 'Connection: close')
  if (o.script) command.push('-s', o.script)
  command.push(url)
  return command
}

/**
 * Reads wrk's summary; null when it has no request count (wrk failed). errors: non-2xx/3xx
 * answers and socket errors together; requestsPerSec: its "Requests/sec" line.
 */
export function parseWrkSummary(out: string): (WrkFigures & { seconds: number }) | null {
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)
  if (!total || !rps) return null
  const lat = /Latency\s+([\d.]+)(us|ms|s)/.exec(out)
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  return {
    requestsPerSec: Number(rps[1]),
    latencyMeanMs: lat ? Number(lat[1]) * { us: 0.001, ms: 1, s: 1000 }[lat[2] as 'us' | 'ms' | 's'] : NaN,
    requests: Number(total[1]),
    seconds: Number(total[2]) * { ms: 0.001, s: 1, m: 60 }[total[3] as 'ms' | 's' | 'm'],
    errors: (non2xx ? Number(non2xx[1]) : 0) + (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
  }
}

/** Runs wrk once; its output (stdout and stderr). Aborting `signal` kills it and rejects. */
async function execWrk(url: string, o: WrkSettings, signal?: AbortSignal): Promise<{ code: number | null; out: string }> {
  signal?.throwIfAborted()
  const [command, ...args] = wrkCommand(url, o)
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  const kill = () => proc.kill('SIGKILL')
  signal?.addEventListener('abort', kill)
  try {
    const [code] = await once(proc, 'exit')
    signal?.throwIfAborted()
    return { code, out }
  } finally {
    signal?.removeEventListener('abort', kill)
  }
}

/** Runs wrk once against `url` and reads its summary. */
export async function runWrk(url: string, o: WrkSettings, signal?: AbortSignal): Promise<WrkFigures> {
  const { code, out } = await execWrk(url, o, signal)
  const summary = code === 0 ? parseWrkSummary(out) : null
  if (!summary) throw new Error(`wrk failed (${code}): ${out.trim()}`)
  const { seconds: _, ...figures } = summary
  return figures
}

/** What WRK_REPORT_LUA's done() prints: wrk's own counters, exact. Latencies in microseconds. */
export interface WrkReport {
  requests: number
  durationUs: number
  bytes: number
  /** Responses with status >= 400 (wrk's "Non-2xx or 3xx" count: it does not count 3xx). */
  non2xx: number
  /** Socket errors: connect, read, write and time-outs together. */
  socketErrors: number
  meanUs: number
  p50Us: number
  p99Us: number
}

const REPORT_PREFIX = 'l7-wrk-report '

/** A Lua done() for wrk scripts: prints the WrkReport as one line (append it to a script). */
export const WRK_REPORT_LUA = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${REPORT_PREFIX}{"requests":%.0f,"durationUs":%.0f,"bytes":%.0f,"non2xx":%d,"socketErrors":%d,"meanUs":%.1f,"p50Us":%.0f,"p99Us":%.0f}\\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect + e.read + e.write + e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(99)))
end
`

/** The report line in wrk's output, or null when there is none (wrk failed, or no WRK_REPORT_LUA). */
export function parseWrkReport(out: string): WrkReport | null {
  const line = out.split('\n').find((l) => l.startsWith(REPORT_PREFIX))
  return line ? (JSON.parse(line.slice(REPORT_PREFIX.length)) as WrkReport) : null
}

/** Runs wrk with a script that ends with WRK_REPORT_LUA and returns its report. */
export async function runWrkReport(url: string, o: WrkSettings & { script: string }, signal?: AbortSignal): Promise<WrkReport> {
  const { code, out } = await execWrk(url, o, signal)
  const report = code === 0 ? parseWrkReport(out) : null
  if (!report) throw new Error(`wrk failed (${code}): ${out.trim()}`)
  return report
}
