// Every example of every `l7 ... --help` and every `npx l7` line of the README runs as written,
// with its durations and sizes shortened (so that the whole takes seconds, not the hours the
// benchmarks' defaults take), in a scratch directory that holds the repository's traces/.
// Targets and dispatcher URLs point at a node and a dispatcher this spec starts; services
// (dispatch, node, cluster) must print their ready line and stop cleanly on SIGTERM. Examples
// that need a program missing on this machine are skipped with the reason printed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Parser } from '@oclif/core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const ROOT = process.cwd()
const BIN = join(ROOT, 'bin', 'run.js')
const TOKEN = 'examples-token'
const TIMEOUT_MS = 90_000
const POOL = 4

interface Example {
  /** Where it was found: `l7 replay --help` or `README.md`. */
  source: string
  text: string
  argv: string[]
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, { id: string; relativePath: string[]; examples?: Array<string | { command: string }> }>
}

/**
 * Benchmarks against peers (nginx, wrk, HAProxy) and the experiment (a 50 MB file set written per
 * run) take 10-20 s each even shortened: the first example of each runs; the others are parsed
 * with the command's own flags (names, values, units), so that the spec stays near a minute.
 */
const PARSE_ONLY_AFTER_FIRST = new Set(['bench node', 'bench replay', 'bench cluster', 'experiment'])

/** "$ <%= config.bin %> a b" -> ["a", "b"] (no example needs shell quoting). */
function words(line: string): string[] {
  return line.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean)
}

function helpExamples(): Example[] {
  return Object.values(manifest.commands).flatMap((c) =>
    (c.examples ?? []).map((e) => {
      const text = (typeof e === 'string' ? e : e.command).replace(/^\$ /, '').replace('<%= config.bin %>', 'l7')
      return { source: `l7 ${c.id.replaceAll(':', ' ')} --help`, text, argv: words(text).slice(1) }
    }),
  )
}

function readmeExamples(): Example[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')
  const out: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('npx l7 ')) continue
    let text = lines[i].replace(/#.*$/, '').trim()
    while (text.endsWith('\\')) text = `${text.slice(0, -1).trim()} ${lines[++i].trim()}`
    out.push({ source: 'README.md', text, argv: words(text).slice(2) })
  }
  return out
}

// ---- Shortening: the example's own flags, with durations, sizes and sweeps cut down.

function has(argv: string[], flag: string): boolean {
  return argv.includes(flag)
}
function set(argv: string[], flag: string, value?: string): void {
  const i = argv.indexOf(flag)
  if (i < 0) argv.push(...(value === undefined ? [flag] : [flag, value]))
  else if (value !== undefined) argv[i + 1] = value
}
function map(argv: string[], flag: string, change: (value: string) => string): void {
  const i = argv.indexOf(flag)
  if (i >= 0) argv[i + 1] = change(argv[i + 1])
}
const cap = (max: number) => (value: string) => String(Math.min(Number(value.split(',')[0]), max))
const first = (value: string) => value.split(',')[0]
const portZero = (value: string) => (value.includes(':') ? `${value.slice(0, value.lastIndexOf(':'))}:0` : '0')

interface Plan {
  argv: string[]
  service: boolean
  /** Why the example is not run, when it is not. */
  skip?: string
  /** Only parsed against the command's flags (see PARSE_ONLY_AFTER_FIRST). */
  parseOnly?: boolean
}

/** Parses `argv` (a command's words, then its flags) with the command's own flag definitions. */
async function parseOnly(argv: string[]): Promise<Outcome> {
  const depth = argv[0] === 'bench' || argv[0] === 'trace' ? 2 : 1
  const command = manifest.commands[argv.slice(0, depth).join(':')]
  const module = await import(join(ROOT, ...command.relativePath))
  try {
    await Parser.parse(argv.slice(depth), { flags: module.default.flags, args: module.default.args ?? {}, strict: true })
    return { ok: true, detail: 'parsed' }
  } catch (err) {
    return { ok: false, detail: `does not parse: ${(err as Error).message}` }
  }
}

function missing(...programs: string[]): string | undefined {
  const absent = programs.filter((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0)
  return absent.length ? `needs ${absent.join(', ')}, not installed here` : undefined
}

function plan(example: Example, peers: { node: string; dispatcher: string }): Plan {
  const argv = [...example.argv]
  const command = argv[0] === 'bench' || argv[0] === 'trace' ? `${argv[0]} ${argv[1]}` : argv[0]
  const short = (warmup = true) => {
    set(argv, '--duration', '1s')
    if (warmup) set(argv, '--warmup', '0')
  }
  switch (command) {
    case 'testbed':
      return { argv, service: true, skip: 'builds network namespaces as root; service/testbed/testbed.test.ts brings one up and down' }
    case 'dispatch':
      set(argv, '--listen', has(argv, '--listen') ? portZero(argv[argv.indexOf('--listen') + 1]) : '0')
      return { argv, service: true }
    case 'node':
      set(argv, '--listen', has(argv, '--listen') ? portZero(argv[argv.indexOf('--listen') + 1]) : '0')
      map(argv, '--dispatcher', () => peers.dispatcher)
      map(argv, '--token', () => TOKEN)
      return { argv, service: true }
    case 'cluster':
      set(argv, '--listen', has(argv, '--listen') ? portZero(argv[argv.indexOf('--listen') + 1]) : '0')
      // Examples run side by side: a fixed client address would be taken by the one before.
      if (has(argv, '--front')) map(argv, '--front', portZero)
      if (has(argv, '--nodes')) map(argv, '--nodes', cap(2))
      if (!has(argv, '--docroot')) set(argv, '--files', '20')
      return { argv, service: true }
    case 'replay':
      map(argv, '--target', (targets) => targets.split(',').map(() => peers.node).join(','))
      set(argv, '--duration', '1s')
      map(argv, '--requests', cap(200))
      map(argv, '--users', cap(5))
      set(argv, '--max-errors', '100%')
      return { argv, service: false }
    case 'simulate':
      short()
      return { argv, service: false }
    case 'experiment':
      short()
      set(argv, '--nodes', '2')
      set(argv, '--users', '10')
      map(argv, '--policies', first)
      if (!has(argv, '--policies')) set(argv, '--policies', 'ds')
      return { argv, service: false }
    case 'trace generate':
      set(argv, '--files', has(argv, '--files') ? cap(100)(argv[argv.indexOf('--files') + 1]) : '100')
      map(argv, '--objects', cap(30))
      set(argv, '--requests', has(argv, '--requests') ? cap(2000)(argv[argv.indexOf('--requests') + 1]) : '2000')
      map(argv, '--users', cap(5))
      return { argv, service: false }
    case 'bench scheduler':
      set(argv, '--decisions', '500')
      set(argv, '--repeats', '1')
      set(argv, '--batch', '16')
      set(argv, '--nodes', '2')
      set(argv, '--targets', '100')
      return { argv, service: false }
    case 'bench dispatcher':
      short()
      set(argv, '--nodes', '2')
      set(argv, '--processes', '1')
      set(argv, '--offered', '0')
      set(argv, '--targets', '100')
      set(argv, '--batching', 'on')
      map(argv, '--concurrency', cap(64))
      return { argv, service: false }
    case 'bench paper':
      short()
      set(argv, '--nodes', '2')
      set(argv, '--users', '100')
      set(argv, '--policies', 'ds')
      set(argv, '--model-seed', '1')
      set(argv, '--readings', 'none')
      set(argv, '--no-sensitivity')
      map(argv, '--cache-mb', first)
      // Never the repository's docs/results.
      if (!has(argv, '--out')) set(argv, '--out', 'paper-out')
      return { argv, service: false }
    case 'bench stages':
      set(argv, '--iterations', '2000')
      set(argv, '--rounds', '1')
      return { argv, service: false }
    case 'bench node':
      set(argv, '--duration', '1s')
      set(argv, '--rounds', '1')
      map(argv, '--sizes', first)
      set(argv, '--no-handoff')
      return { argv, service: false, skip: missing('wrk', 'nginx') }
    case 'bench replay':
      set(argv, '--duration', '1s')
      set(argv, '--rounds', '1')
      return { argv, service: false, skip: missing('wrk', 'nginx') }
    case 'bench cluster':
      set(argv, '--duration', '1s')
      set(argv, '--rounds', '1')
      set(argv, '--files', '50')
      map(argv, '--policies', first)
      if (!has(argv, '--policies')) set(argv, '--policies', 'ds')
      if (!has(argv, '--handoff')) set(argv, '--handoff', 'relay')
      if (!has(argv, '--connection')) set(argv, '--connection', 'keep-alive')
      return { argv, service: false, skip: missing('wrk', 'nginx', 'haproxy') }
    default:
      return { argv, service: false }
  }
}

// ---- Running

interface Outcome {
  ok: boolean
  detail: string
  seconds?: number
}

function run(argv: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.stdout.resume()
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ ok: code === 0, detail: `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` })
    })
  })
}

/** A service: its first stdout line must be the ready line; then SIGTERM must stop it with 0. */
function runService(argv: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let first = ''
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    createInterface({ input: child.stdout }).once('line', (line) => {
      first = line
      child.kill('SIGTERM')
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const ready = /^(ready \{|\{"event":"ready")/.test(first)
      resolve({ ok: ready && code === 0, detail: `first line "${first.slice(0, 80)}", exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-2).join(' | ')}` })
    })
  })
}

/** Starts a long-running helper and returns its ready JSON. */
function startHelper(argv: string[], cwd: string): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv, '--json'], { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
    child.once('exit', (code) => reject(new Error(`l7 ${argv.join(' ')} exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, ready: JSON.parse(line) }))
  })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
}

test('every example of every --help and of the README runs (shortened)', async () => {
  const started = performance.now()
  const scratch = mkdtempSync(join(tmpdir(), 'l7-examples-'))
  symlinkSync(join(ROOT, 'traces'), join(scratch, 'traces'))
  const helpers: ChildProcess[] = []
  const failures: string[] = []
  const skipped: string[] = []
  const timings: Array<[number, string]> = []
  try {
    const examples = [...helpExamples(), ...readmeExamples()]
    assert.ok(examples.length >= 50, `${examples.length} examples found`)
    // The trace examples make the inputs others use (w/, www/, epa/): they run first, side by side.
    const producer = (e: Example) => e.argv[0] === 'trace'
    const producers = examples.filter(producer)
    await Promise.all(
      Array.from({ length: POOL }, async () => {
        for (let e = producers.shift(); e; e = producers.shift()) {
          const p = plan(e, { node: '', dispatcher: '' })
          const outcome = await run(p.argv, scratch)
          if (!outcome.ok) failures.push(`${e.source}: ${e.text}\n    ran: l7 ${p.argv.join(' ')}\n    ${outcome.detail}`)
        }
      }),
    )
    const dispatcher = await startHelper(['dispatch', '--listen', '0', '--token', TOKEN], scratch)
    helpers.push(dispatcher.child)
    const node = await startHelper(['node', '--id', '9', '--listen', '0', '--docroot', 'www'], scratch)
    helpers.push(node.child)
    const peers = { node: String(node.ready.url), dispatcher: String(dispatcher.ready.url) }
    const queue = examples.filter((e) => !producer(e))
    const ran = new Set<string>()
    const worker = async () => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        const p = plan(e, peers)
        if (p.skip) {
          skipped.push(`${e.text}: ${p.skip}`)
          continue
        }
        const command = e.argv[0] === 'bench' ? `${e.argv[0]} ${e.argv[1]}` : e.argv[0]
        if (PARSE_ONLY_AFTER_FIRST.has(command) && ran.has(command)) {
          const outcome = await parseOnly(e.argv)
          if (!outcome.ok) failures.push(`${e.source}: ${e.text}\n    ${outcome.detail}`)
          continue
        }
        ran.add(command)
        const t0 = performance.now()
        const outcome = p.service ? await runService(p.argv, scratch) : await run(p.argv, scratch)
        timings.push([(performance.now() - t0) / 1000, e.text])
        if (!outcome.ok) failures.push(`${e.source}: ${e.text}\n    ran: l7 ${p.argv.join(' ')}\n    ${outcome.detail}`)
      }
    }
    await Promise.all(Array.from({ length: POOL }, worker))
  } finally {
    for (const child of helpers) await stop(child)
    rmSync(scratch, { recursive: true, force: true })
  }
  for (const line of skipped) console.log(`  skipped: ${line}`)
  console.log(`  examples ran in ${((performance.now() - started) / 1000).toFixed(0)} s; the slowest:`)
  for (const [s, text] of timings.sort((a, b) => b[0] - a[0]).slice(0, 6)) console.log(`  ${s.toFixed(1)} s  ${text}`)
  assert.is(failures.length, 0, `\n${failures.join('\n')}`)
})

test.run()
