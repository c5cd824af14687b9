// wrk as the benchmarks' peer load generator: its command line and its summary's figures.

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

/** Runs wrk once against `url` and reads its summary. */
export async function runWrk(url: string, o: WrkSettings): Promise<WrkFigures> {
  const [command, ...args] = wrkCommand(url, o)
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  const [code] = await once(proc, 'exit')
  const summary = code === 0 ? parseWrkSummary(out) : null
  if (!summary) throw new Error(`wrk failed (${code}): ${out.trim()}`)
  const { seconds: _, ...figures } = summary
  return figures
}
