// `l7 testbed` as a user runs it: the ready line, then nothing left whether it is stopped with
// Ctrl-C (SIGINT) or killed outright (SIGKILL, then `l7 testbed --cleanup`); and one line, exit 2,
// where the machine cannot make a test bed (no `ip`).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createInterface } from 'node:readline'
import { listNamespaces, testbedUnavailable } from '../../../service/testbed/network.js'

const BIN = new URL('../../../../bin/run.js', import.meta.url).pathname
const SMALL = ['testbed', '--nodes', '2', '--clients', '1', '--files', '10', '--cache-mb', '1', '--no-front']

function start(): { proc: ChildProcess; ready: Promise<{ prefix: string; nodes: { netns: string }[] }> } {
  const proc = spawn(process.execPath, [BIN, ...SMALL], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  proc.stderr!.on('data', (c) => (err += c))
  const ready = new Promise<{ prefix: string; nodes: { netns: string }[] }>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.startsWith('ready ')) resolve(JSON.parse(line.slice(6)))
    })
    proc.once('exit', (code) => reject(new Error(`l7 testbed exited ${code} before ready: ${err}`)))
  })
  return { proc, ready }
}

/** Processes still inside any of the namespaces (there should be none once they are gone). */
function pidsIn(names: string[]): number[] {
  return names.flatMap((n) => spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number))
}

/** Waits (up to 3 s) until none of `pids` exists; returns those still there. */
async function survivors(pids: number[]): Promise<number[]> {
  const exists = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  for (let i = 0; i < 30 && pids.some(exists); i++) await new Promise((r) => setTimeout(r, 100))
  return pids.filter(exists)
}

test('without ip/tc: one line saying so, exit 2', () => {
  const r = spawnSync(process.execPath, [BIN, 'testbed'], { env: { ...process.env, PATH: '/nonexistent' }, encoding: 'utf8', timeout: 30_000 })
  assert.is(r.status, 2, r.stderr)
  assert.match(r.stderr, /iproute2|root/)
  assert.is(r.stderr.trim().split('\n').filter((l) => l.trim()).length, 1, r.stderr)
})

test('experiment --testbed without ip/tc: one line, exit 2', () => {
  const r = spawnSync(process.execPath, [BIN, 'experiment', '--testbed'], { env: { ...process.env, PATH: '/nonexistent' }, encoding: 'utf8', timeout: 30_000 })
  assert.is(r.status, 2, r.stderr)
  assert.match(r.stderr, /iproute2|root/)
  assert.is(r.stderr.trim().split('\n').filter((l) => l.trim()).length, 1, r.stderr)
})

const unavailable = testbedUnavailable()
if (unavailable) {
  console.log(`l7 testbed specs skipped: ${unavailable}`)
} else {
  test('Ctrl-C: ready, then every namespace and process gone', async () => {
    const { proc, ready } = start()
    const info = await ready
    const names = listNamespaces(info.prefix)
    assert.is(names.length, 5) // bridge, dispatcher, 2 nodes, 1 client
    const inside = pidsIn(names)
    assert.ok(inside.length >= 3, `dispatcher and nodes should run inside: ${inside}`)
    proc.kill('SIGINT')
    const [code] = await once(proc, 'exit')
    assert.is(code, 130)
    assert.equal(listNamespaces(info.prefix), [])
    assert.equal(await survivors(inside), [], 'processes left running')
  })

  test('SIGKILL leaves the namespaces and the work directory; --cleanup removes them and their processes', async () => {
    const { proc, ready } = start()
    const info = await ready
    const names = listNamespaces(info.prefix)
    const inside = pidsIn(names)
    const workDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`l7-testbed-${proc.pid}-`))
    assert.is(workDirs().length, 1, 'the work directory is named after the test bed process')
    proc.kill('SIGKILL')
    await once(proc, 'exit')
    assert.is(listNamespaces(info.prefix).length, names.length)
    const r = spawnSync(process.execPath, [BIN, 'testbed', '--cleanup'], { encoding: 'utf8', timeout: 30_000 })
    assert.is(r.status, 0, r.stderr)
    assert.match(r.stdout, info.prefix)
    assert.match(r.stdout, `l7-testbed-${proc.pid}-`)
    assert.equal(listNamespaces(info.prefix), [])
    assert.equal(workDirs(), [], 'the work directory is left')
    assert.equal(await survivors(inside), [], 'processes left running')
  })
}

test.run()
