// HAProxy (Debian's haproxy) as the benchmarks' load balancer: the content-aware peer
// (`mode http`, `balance uri` with consistent hashing and bounded loads, what a user would put
// in front of nginx today) and the seed's layer-4 switch (`mode tcp`, round robin) in front of
// l7's nodes. The configuration is written into a private directory; HAProxy runs in the
// foreground as one process (-db), so its pid is the whole of its CPU.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { canRun, stopChild } from '../../service/core/child-process.js'
import { freePort } from '../../service/cluster/ports.js'
import { waitForPort } from './listening.js'

export const HAPROXY_MISSING = 'haproxy is not installed (Debian: apt-get install -y haproxy)'

/** The haproxy binary (Debian installs it in /usr/sbin, outside a non-root PATH), or null. */
export function findHaproxy(): string | null {
  for (const candidate of ['haproxy', '/usr/sbin/haproxy']) if (canRun(candidate, ['-v'])) return candidate
  return null
}

export interface HaproxyConfig {
  /** http: `balance uri`, consistent hashing, bounded loads (the peer); tcp: round robin (the layer-4 switch). */
  mode: 'http' | 'tcp'
  port: number
  /** Back-end ports on 127.0.0.1. */
  servers: number[]
  /** `hash-balance-factor` in http mode (150: no server above 1.5 times the average load). */
  balanceFactor?: number
  /** `nbthread`; absent: HAProxy's own default (2.6: one thread per CPU it may run on). */
  threads?: number
}

/**
 * The configuration text. The same threads on both sides (HAProxy's default unless `threads`
 * says otherwise: what a user runs), so that the two balancers are the same program with the
 * same resources and only the mode differs; `maxconn` well above the load; short
 * connect/queue time-outs so that a dead back end shows as errors rather than a stall.
 */
export function haproxyConfig(c: HaproxyConfig): string {
  const lines = [
    'global',
    ...(c.threads === undefined ? [] : [`  nbthread ${c.threads}`]),
    '  maxconn 8192',
    '',
    'defaults',
    `  mode ${c.mode}`,
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout queue 5s',
    '  maxconn 8192',
  ]
  if (c.mode === 'http') {
    lines.push('  timeout http-request 10s', '  timeout http-keep-alive 30s', '  option http-keep-alive', '  http-reuse always')
  }
  lines.push('', 'frontend front', `  bind 127.0.0.1:${c.port}`, '  default_backend servers', '', 'backend servers')
  if (c.mode === 'http') {
    lines.push('  balance uri', '  hash-type consistent', `  hash-balance-factor ${c.balanceFactor ?? 150}`)
  } else {
    lines.push('  balance roundrobin')
  }
  c.servers.forEach((port, i) => lines.push(`  server s${i} 127.0.0.1:${port} maxconn 4096`))
  return lines.join('\n') + '\n'
}

export interface HaproxyOptions extends Omit<HaproxyConfig, 'port'> {
  /** The binary, from findHaproxy(). */
  haproxy: string
  /** A private directory for the configuration. */
  dir: string
}

export interface RunningHaproxy {
  port: number
  pid: number
  stop(): Promise<void>
}

export async function startHaproxy(options: HaproxyOptions): Promise<RunningHaproxy> {
  const port = await freePort()
  const conf = join(options.dir, `haproxy-${options.mode}-${port}.cfg`)
  await writeFile(conf, haproxyConfig({ ...options, port }))
  // -db: foreground, no daemon, one process; its warnings go to our stderr only on failure.
  const proc = spawn(options.haproxy, ['-db', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const exited = once(proc, 'exit').then(([code]) => Promise.reject(new Error(`haproxy exited with ${code}: ${stderr.trim()}`)))
  try {
    await Promise.race([waitForPort(port, 'haproxy'), exited])
  } catch (err) {
    await stopChild(proc)
    throw err
  }
  // SIGUSR1 would wait for connections to finish; SIGTERM stops at once, which is what a bench wants.
  return { port, pid: proc.pid!, stop: () => stopChild(proc, 'SIGTERM') }
}
