// `l7 cluster` and `l7 node` as a user runs them: the ready line, serving, and no orphan
// processes whether the parent is stopped politely (SIGTERM) or killed outright (SIGKILL).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { get, rawExchange } from '../../../service/node/testing.js'

const BIN = new URL('../../../../bin/run.js', import.meta.url).pathname
// Generated file sets go to the cache dir and stay there for the next run: a private one here.
const CACHE = mkdtempSync(join(tmpdir(), 'l7-cluster-cli-cache-'))
const ENV = { ...process.env, L7_CACHE_DIR: CACHE }
test.after(() => rm(CACHE, { recursive: true, force: true }))

/** The file set is kept in the cache dir, whole (no temp dir of a writer left). */
function cachedWhole(docroot: string): boolean {
  return docroot.startsWith(CACHE) && existsSync(docroot) && readdirSync(join(CACHE, 'filesets')).every((name) => !name.startsWith('.tmp'))
}

function start(args: string[]): { proc: ChildProcess; ready: Promise<Record<string, unknown>> } {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV })
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s; stderr: ${stderr}`)), 20_000)
    const lines = createInterface({ input: proc.stdout! })
    lines.once('line', (line) => {
      clearTimeout(timer)
      const m = /^ready (\{.*\})$/.exec(line)
      if (m) resolve(JSON.parse(m[1]))
      else reject(new Error(`first line is not the ready line: ${line}`))
    })
    proc.once('exit', (code) => reject(new Error(`exited with ${code} before ready; stderr: ${stderr}`)))
  })
  return { proc, ready }
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((s) => s.trim())
      .map(Number)
  } catch {
    return [] // ps exits 1 when there are none
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function allGone(pids: number[], withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs
  while (Date.now() < until) {
    if (!pids.some(alive)) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return !pids.some(alive)
}

test('l7 cluster: one ready line, serves, SIGTERM stops every child and keeps the generated docroot in the cache', async () => {
  const { proc, ready } = start(['cluster', '--nodes', '2', '--listen', '0', '--files', '30'])
  try {
    const info = (await ready) as { dispatcher: string; nodes: string[]; docroot: string }
    assert.match(info.dispatcher, /^ws:\/\/127\.0\.0\.1:\d+$/)
    assert.is(info.nodes.length, 2)
    const [res] = await rawExchange(Number(new URL(info.nodes[1]).port), get('/3.txt'))
    assert.is(res.status, 200)
    assert.ok(['dispatched', 'handoff', 'local'].includes(res.headers['x-l7-route']))
    const kids = childrenOf(proc.pid!)
    assert.is(kids.length, 3)
    const exited = once(proc, 'exit')
    proc.kill('SIGTERM')
    const [code] = await exited
    assert.is(code, 0)
    assert.ok(await allGone(kids, 3000), 'children still running')
    assert.ok(cachedWhole(info.docroot), `generated docroot ${info.docroot} kept in the cache`)
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL')
  }
})

test('l7 cluster and Ctrl-C (SIGINT to the whole process group): everything stops cleanly', async () => {
  const proc = spawn(process.execPath, [BIN, 'cluster', '--nodes', '2', '--listen', '0', '--files', '10'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: ENV })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve)
    proc.once('exit', (code) => reject(new Error(`exited with ${code} before ready`)))
  })
  const info = JSON.parse(line.replace(/^ready /, '')) as { docroot: string }
  const kids = childrenOf(proc.pid!)
  const exited = once(proc, 'exit')
  process.kill(-proc.pid!, 'SIGINT')
  const [code] = await exited
  assert.is(code, 0)
  assert.ok(await allGone(kids, 3000), 'children still running')
  assert.ok(cachedWhole(info.docroot), `generated docroot ${info.docroot} kept in the cache`)
})

test('l7 cluster killed with SIGKILL: the children notice and exit on their own', async () => {
  const { proc, ready } = start(['cluster', '--nodes', '2', '--listen', '0', '--files', '10', '--handoff', 'fd'])
  const info = (await ready) as { docroot: string }
  const kids = childrenOf(proc.pid!)
  assert.is(kids.length, 3)
  proc.kill('SIGKILL')
  await once(proc, 'exit')
  assert.ok(await allGone(kids, 5000), 'orphans left running')
  assert.ok(cachedWhole(info.docroot), 'nothing half-written left in the cache')
})

test('l7 cluster: the ready line carries the token and the admin URLs; a held port is an error naming it, exit 1', async () => {
  const { proc, ready } = start(['cluster', '--nodes', '1', '--listen', '0', '--files', '10', '--token', 'tk', '--admin', '0', '--restart', 'no'])
  try {
    const info = (await ready) as { dispatcher: string; dispatcherAdmin: string; admin: string[]; token: string }
    assert.is(info.token, 'tk')
    const state = JSON.parse(await (await fetch(`${info.dispatcherAdmin}/state`)).text()) as { nodes: { id: number; up: boolean }[] }
    assert.equal(state.nodes.map((n) => [n.id, n.up]), [[0, true]], 'ready means the node registered')
    assert.match(await (await fetch(`${info.admin[0]}/healthz`)).text(), '"dispatcher":"connected"')
    // A second cluster on the same dispatcher port: refused, with the address, no ready line.
    const port = new URL(info.dispatcher).port
    const second = spawnSync(process.execPath, [BIN, 'cluster', '--nodes', '1', '--listen', `127.0.0.1:${port}`, '--files', '10'], { encoding: 'utf8', timeout: 30_000, env: ENV })
    assert.is(second.status, 1, second.stdout + second.stderr)
    assert.not.match(second.stdout, 'ready')
    assert.match(second.stderr, `127.0.0.1:${port} is already in use`)
  } finally {
    proc.kill('SIGTERM')
    await once(proc, 'exit')
  }
})

test('l7 node alone serves everything locally and reports its admin port', async () => {
  const root = await mkdtemp(join(tmpdir(), 'l7-node-cli-'))
  await writeFile(join(root, 'a.txt'), 'hello\n')
  const { proc, ready } = start(['node', '--id', '5', '--listen', '127.0.0.1:0', '--docroot', root])
  try {
    const info = (await ready) as { url: string; admin: string }
    const [res] = await rawExchange(Number(new URL(info.url).port), get('/a.txt'))
    assert.is(res.body.toString(), 'hello\n')
    assert.is(res.headers['x-l7-node'], '5')
    assert.is(res.headers['x-l7-route'], 'local')
    const metrics = await (await fetch(`${info.admin}/metrics`)).text()
    assert.match(metrics, /l7_node_requests_total\{node="5",route="local"\} 1/)
  } finally {
    proc.kill('SIGTERM')
    await once(proc, 'exit')
    await rm(root, { recursive: true, force: true })
  }
})

test('l7 dispatch and two l7 node processes: requests are dispatched and handed off', async () => {
  const root = await mkdtemp(join(tmpdir(), 'l7-node-cli-'))
  for (let i = 0; i < 8; i++) await writeFile(join(root, `${i}.txt`), `${i}\n`)
  const dispatcher = start(['dispatch', '--listen', '0', '--policy', 'chbl', '--token', 'sekrit'])
  const nodes: ChildProcess[] = []
  try {
    const d = (await dispatcher.ready) as { url?: string; port?: number }
    const url = d.url ?? `ws://127.0.0.1:${d.port}`
    const started = [0, 1].map((id) => start(['node', '--id', String(id), '--listen', '127.0.0.1:0', '--dispatcher', url, '--token', 'sekrit', '--docroot', root]))
    nodes.push(...started.map((s) => s.proc))
    const infos = (await Promise.all(started.map((s) => s.ready))) as Array<{ url: string }>
    // Both nodes registered: the membership reaches each node shortly after its WELCOME.
    await new Promise((r) => setTimeout(r, 300))
    const servedBy = new Set<string>()
    for (let i = 0; i < 8; i++) {
      const [res] = await rawExchange(Number(new URL(infos[0].url).port), get(`/${i}.txt`))
      assert.is(res.body.toString(), `${i}\n`)
      assert.ok(['dispatched', 'handoff'].includes(res.headers['x-l7-route']), res.headers['x-l7-route'])
      servedBy.add(res.headers['x-l7-node'])
    }
    assert.is(servedBy.size, 2)
  } finally {
    for (const p of [...nodes, dispatcher.proc]) {
      if (p.exitCode === null) {
        const exited = once(p, 'exit')
        p.kill('SIGTERM')
        await exited
      }
    }
    await rm(root, { recursive: true, force: true })
  }
})

test('l7 node rejects a bad --disk value with a clear message', async () => {
  const proc = spawn(process.execPath, [BIN, 'node', '--id', '1', '--docroot', tmpdir(), '--disk', 'seek=fast'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const [code] = await once(proc, 'exit')
  assert.is.not(code, 0)
  assert.match(stderr, /--disk/)
})

test.run()
