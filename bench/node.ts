// `l7 bench node`: one l7 node (policy local, cache warm, no dispatcher) against nginx
// (one worker) on the same document root, both driven by wrk in the same run; then the cost
// of a handoff: a relayed request and a passed socket (fd: straight to the sibling, and through
// the cluster parent as where no direct channel is up) against a local serve.
// Figures, not assertions: the machine may be shared, so only ratios within one run count.

import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { canRun, stopChild } from '../service/core/child-process.js'
import { MissingDependencyError } from '../service/core/errors.js'
import { startCluster } from '../service/cluster/cluster.js'
import { findNginx, NGINX_MISSING, startNginx } from './peers/nginx.js'
import { runWrk, WRK_MISSING, type WrkFigures } from './peers/wrk.js'

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface NodeBenchOptions {
  /** Seconds per wrk run. */
  duration?: number
  connections?: number
  threads?: number
  /** File sizes compared against nginx, bytes. */
  sizes?: number[]
  /** Rounds per size, alternating which server goes first; the median round is reported. */
  rounds?: number
  /** Also measure handoff costs (relay, fd). */
  handoff?: boolean
  log?: (line: string) => void
}

export interface NodeBenchResult {
  machine: { cpus: number; node: string }
  settings: { duration: number; connections: number; threads: number; rounds: number }
  /** null when nginx is not installed (reason given). */
  /** Per size: the round with the median ratio (or median l7 figure without nginx), and every round's ratio. */
  vsNginx: Array<{ size: number; l7: WrkFigures; nginx: WrkFigures | null; ratio: number | null; roundRatios: number[] }>
  nginxMissing: string | null
  handoff: Array<{ name: string; connection: 'keep-alive' | 'close'; figures: WrkFigures; vsLocal: number }> | null
}

/** `l7 node` alone (policy local), as a user would start it; resolves when it listens. */
async function startL7Node(docroot: string): Promise<{ port: number; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [BIN, 'node', '--id', '0', '--listen', '127.0.0.1:0', '--docroot', docroot, '--cache-mb', '64'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve)
    proc.once('exit', (code) => reject(new Error(`l7 node exited with ${code}`)))
  })
  const info = JSON.parse(line.replace(/^ready /, '')) as { url: string }
  return { port: Number(new URL(info.url).port), stop: () => stopChild(proc) }
}

async function warm(port: number, path: string): Promise<void> {
  for (let i = 0; i < 3; i++) await (await fetch(`http://127.0.0.1:${port}${path}`)).arrayBuffer()
}

export async function runNodeBench(options: NodeBenchOptions = {}): Promise<NodeBenchResult> {
  const log = options.log ?? (() => {})
  const settings = { duration: options.duration ?? 4, connections: options.connections ?? 32, threads: options.threads ?? 1, rounds: options.rounds ?? 3 }
  const sizes = options.sizes ?? [1024, 65536]
  if (!canRun('wrk', ['-v'])) throw new MissingDependencyError(WRK_MISSING)
  const nginx = findNginx()
  const dir = await mkdtemp(join(tmpdir(), 'l7-bench-node-'))
  const docroot = join(dir, 'www')
  await mkdir(docroot)
  for (const size of sizes) await writeFile(join(docroot, `${size}.bin`), Buffer.alloc(size, 97))
  const result: NodeBenchResult = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    settings,
    vsNginx: [],
    nginxMissing: nginx ? null : NGINX_MISSING,
    handoff: null,
  }
  try {
    const l7 = await startL7Node(docroot)
    const peer = nginx ? await startNginx({ nginx, docroot, dir }) : null
    try {
      for (const size of sizes) {
        const path = `/${size}.bin`
        await warm(l7.port, path)
        if (peer) await warm(peer.port, path)
        const rounds: Array<{ l7: WrkFigures; nginx: WrkFigures | null; ratio: number }> = []
        for (let round = 0; round < settings.rounds; round++) {
          // Alternate who goes first, so a neighbour's burst does not always hit the same server.
          let n: WrkFigures | null = null
          log(`wrk ${settings.duration}s ${size} B, round ${round + 1}/${settings.rounds}`)
          if (peer && round % 2 === 0) n = await runWrk(`http://127.0.0.1:${peer.port}${path}`, settings)
          const l = await runWrk(`http://127.0.0.1:${l7.port}${path}`, settings)
          if (peer && round % 2 === 1) n = await runWrk(`http://127.0.0.1:${peer.port}${path}`, settings)
          rounds.push({ l7: l, nginx: n, ratio: n ? l.requestsPerSec / n.requestsPerSec : l.requestsPerSec })
        }
        const sorted = [...rounds].sort((a, b) => a.ratio - b.ratio)
        const median = sorted[Math.floor((sorted.length - 1) / 2)]
        result.vsNginx.push({
          size,
          l7: median.l7,
          nginx: median.nginx,
          ratio: median.nginx ? median.ratio : null,
          roundRatios: peer ? rounds.map((r) => Number(r.ratio.toFixed(3))) : [],
        })
      }
    } finally {
      await l7.stop()
      await peer?.stop()
    }

    if (options.handoff !== false) {
      result.handoff = []
      const size = sizes[0]
      const path = `/${size}.bin`
      const short = { ...settings, duration: Math.max(2, Math.ceil(settings.duration / 2)) }
      // Node 0 sends everything to node 1; requests sent to node 1 itself are its local serves.
      const mechanisms = [
        { name: 'relay', handoff: 'relay', fdChannels: true },
        { name: 'fd', handoff: 'fd', fdChannels: true },
        { name: 'fd via parent', handoff: 'fd', fdChannels: false },
      ] as const
      for (const { name: mechanism, handoff, fdChannels } of mechanisms) {
        const cluster = await startCluster({ nodes: 2, port: 0, docroot, dispatcher: false, forwardAllTo: 1, handoff, fdChannels })
        try {
          const local = Number(new URL(cluster.nodes[1]).port)
          const front = Number(new URL(cluster.nodes[0]).port)
          await warm(local, path)
          await warm(front, path)
          const modes = handoff === 'relay' ? (['keep-alive', 'close'] as const) : (['close'] as const)
          for (const connection of modes) {
            const close = connection === 'close'
            log(`wrk ${short.duration}s ${size} B, connection ${connection}: local serve, then ${mechanism} handoff`)
            const base = await runWrk(`http://127.0.0.1:${local}${path}`, { ...short, close })
            const moved = await runWrk(`http://127.0.0.1:${front}${path}`, { ...short, close })
            result.handoff.push({ name: 'local', connection, figures: base, vsLocal: 1 })
            result.handoff.push({ name: `${mechanism} handoff`, connection, figures: moved, vsLocal: moved.requestsPerSec / base.requestsPerSec })
          }
        } finally {
          await cluster.close()
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return result
}

export function formatNodeBench(r: NodeBenchResult): string {
  const lines: string[] = []
  const f = (n: number) => n.toFixed(0).padStart(9)
  lines.push(
    `l7 node vs nginx (1 worker), wrk -t${r.settings.threads} -c${r.settings.connections} -d${r.settings.duration}s, keep-alive, cache warm, ` +
      `median of ${r.settings.rounds} rounds; ${r.machine.cpus} CPUs, Node ${r.machine.node}`,
  )
  if (r.nginxMissing) lines.push(`  nginx: ${r.nginxMissing}; l7 figures only`)
  lines.push('  size        l7 req/s  nginx req/s   ratio   l7 mean ms  nginx mean ms  ratio by round')
  for (const row of r.vsNginx) {
    lines.push(
      `  ${String(row.size).padEnd(9)} ${f(row.l7.requestsPerSec)}    ${row.nginx ? f(row.nginx.requestsPerSec) : '        -'}   ${row.ratio === null ? '   -' : row.ratio.toFixed(2)}   ` +
        `${row.l7.latencyMeanMs.toFixed(2).padStart(9)}  ${row.nginx ? row.nginx.latencyMeanMs.toFixed(2).padStart(12) : '           -'}  ` +
        row.roundRatios.map((x) => x.toFixed(2)).join(' '),
    )
  }
  if (r.handoff) {
    lines.push('handoff cost (2 nodes, every request sent on to the other node; 1 KB file)')
    lines.push('  mechanism              connection     req/s   vs local   mean ms  errors')
    for (const row of r.handoff) {
      lines.push(
        `  ${row.name.padEnd(22)} ${row.connection.padEnd(10)} ${f(row.figures.requestsPerSec)}   ${row.vsLocal.toFixed(2).padStart(7)}  ${row.figures.latencyMeanMs.toFixed(2).padStart(8)}  ${row.figures.errors}`,
      )
    }
  }
  lines.push('figures from a shared machine are noisy: compare ratios within one run only')
  return lines.join('\n')
}
