// `l7 dispatch`: the ready line others parse, a node served end to end, graceful SIGTERM,
// a generated token on loopback, a held port refused, and clear refusals of bad flags.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ControlClient } from '../../../service/control-client/client.js'
import { httpGet } from '../../../service/dispatcher/testing.js'

const BIN = join(process.cwd(), 'bin', 'run.js')

/** The parsed `ready {json}` line of a started `l7 dispatch`. */
function readyLine(child: ChildProcess, stderr: () => string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 s; stderr: ${stderr()}`)), 20_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ready; stderr: ${stderr()}`))
    })
    child.stdout!.on('data', (chunk) => {
      out += chunk
      const line = out.split('\n').find((l) => l.startsWith('ready '))
      if (line) {
        clearTimeout(timer)
        resolve(JSON.parse(line.slice('ready '.length)))
      }
    })
  })
}

function startDispatch(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [BIN, 'dispatch', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited, ready: readyLine(child, () => stderr), stderr: () => stderr }
}

async function stop(d: { child: ChildProcess; exited: Promise<number | null> }): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGTERM')
  await d.exited
}

test('prints a ready line, serves a node, and stops cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, [BIN, 'dispatch', '--policy', 'lard', '--listen', '0', '--param', 'tLow=5,unitTimeUs=250000'], {
    env: { ...process.env, L7_TOKEN: 'cli-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  try {
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`no ready line within 20 s; stderr: ${stderr}`)), 20_000)
      child.stdout.on('data', (chunk) => {
        out += chunk
        const line = out.split('\n').find((l) => l.startsWith('ready '))
        if (line) {
          clearTimeout(timer)
          resolve(JSON.parse(line.slice('ready '.length)))
        }
      })
    })
    assert.is(ready.policy, 'lard')
    assert.is(ready.impl, 'wasm')
    assert.is((ready.params as Record<string, number>).tLow, 5)
    assert.is((ready.params as Record<string, number>).unitTimeUs, 250_000)
    assert.match(String(ready.url), /^ws:\/\/127\.0\.0\.1:\d+\/control$/)
    const node = new ControlClient({ url: String(ready.url), nodeId: 2, address: 'n2', token: 'cli-token', reconnect: false })
    await node.connect()
    assert.is(await node.assign(99), 2)
    assert.is((await httpGet(`http://127.0.0.1:${ready.port}/healthz`)).status, 200)
    let lost = false
    node.on('disconnected', () => (lost = true))
    child.kill('SIGTERM')
    assert.is(await exited, 0, stderr)
    assert.ok(lost, 'the node was told before the dispatcher went')
    await node.close()
    assert.match(stderr, '"event":"stopping"')
  } finally {
    child.kill('SIGKILL')
  }
})

test('without a token on loopback: a generated one, printed once in the ready line, that nodes can use', async () => {
  const env = { ...process.env }
  delete env.L7_TOKEN
  const d = startDispatch(['--policy', 'ds', '--listen', '127.0.0.1:0'], env)
  try {
    const ready = await d.ready
    assert.match(String(ready.token), /^[0-9a-f]{32}$/)
    const node = new ControlClient({ url: String(ready.url), nodeId: 1, address: 'n1', token: String(ready.token), reconnect: false })
    await node.connect()
    assert.is(await node.assign(7), 1)
    await node.close()
  } finally {
    await stop(d)
  }
  assert.not.match(d.stderr(), String((await d.ready).token), 'the token is printed once, on stdout')
})

test('a port held by another dispatcher is refused with its address, exit code 1', async () => {
  const first = startDispatch(['--listen', '127.0.0.1:0', '--token', 'a'])
  try {
    const { port } = await first.ready
    const second = spawnSync(process.execPath, [BIN, 'dispatch', '--listen', `127.0.0.1:${port}`, '--token', 'b'], { encoding: 'utf8', timeout: 20_000 })
    assert.is(second.status, 1, second.stdout + second.stderr)
    assert.not.match(second.stdout, 'ready')
    assert.match(second.stderr, `Error: 127.0.0.1:${port} is already in use by another process, stop it or choose another address with --listen`)
  } finally {
    await stop(first)
  }
})

test('--admin: /metrics and /state on a loopback admin listener without the token; with the token only on the public port', async () => {
  const d = startDispatch(['--listen', '127.0.0.1:0', '--token', 'tok', '--admin', '0'])
  try {
    const ready = await d.ready
    const admin = String(ready.admin)
    assert.match(admin, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.match((await httpGet(`${admin}/metrics`)).body, 'l7_dispatcher_nodes_up 0')
    assert.is((await httpGet(`http://127.0.0.1:${ready.port}/state`)).status, 401)
    assert.is((await httpGet(`http://127.0.0.1:${ready.port}/state`, { authorization: 'Bearer tok' })).status, 200)
  } finally {
    await stop(d)
  }
})

test('refuses to start without a token off loopback, and names bad flags', () => {
  const env = { ...process.env }
  delete env.L7_TOKEN
  const noToken = spawnSync(process.execPath, [BIN, 'dispatch', '--listen', '0.0.0.0:0'], { encoding: 'utf8', env, timeout: 20_000 })
  assert.is(noToken.status, 2)
  assert.match(noToken.stderr, 'token is required')
  const badUnit = spawnSync(process.execPath, [BIN, 'dispatch', '--listen', '0', '--token', 'x', '--heartbeat', '1000'], { encoding: 'utf8', timeout: 20_000 })
  assert.is(badUnit.status, 2)
  assert.match(badUnit.stderr, 'Error: --heartbeat: "1000" is not a duration with a unit')
  const badParam = spawnSync(process.execPath, [BIN, 'dispatch', '--listen', '0', '--token', 'x', '--param', 'tLow=90,tHigh=10'], { encoding: 'utf8', timeout: 20_000 })
  assert.is(badParam.status, 2)
  assert.match(badParam.stderr, 'tLow')
  const badPolicy = spawnSync(process.execPath, [BIN, 'dispatch', '--policy', 'random', '--token', 'x'], { encoding: 'utf8', timeout: 20_000 })
  assert.not.equal(badPolicy.status, 0)
  assert.match(badPolicy.stderr, 'random')
})

test.run()
