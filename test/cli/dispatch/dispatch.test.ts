// `l7 dispatch`: the ready line others parse, a node served end to end, graceful SIGTERM,
// and clear refusals of bad flags.
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ControlClient } from '../../../service/control-client/client.js'
import { httpGet } from '../../../service/dispatcher/testing.js'

const BIN = join(process.cwd(), 'bin', 'run.js')

test('prints a ready line, serves a node, and stops cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, [BIN, 'dispatch', '--policy', 'lard', '--port', '0', '--t-low', '5', '--unit-time', '250ms'], {
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

test('refuses to start without a token, and names bad flags', () => {
  const env = { ...process.env }
  delete env.L7_TOKEN
  const noToken = spawnSync(process.execPath, [BIN, 'dispatch', '--port', '0'], { encoding: 'utf8', env, timeout: 20_000 })
  assert.is(noToken.status, 2)
  assert.match(noToken.stderr, 'token is required')
  const badUnit = spawnSync(process.execPath, [BIN, 'dispatch', '--port', '0', '--token', 'x', '--unit-time', 'soon'], { encoding: 'utf8', timeout: 20_000 })
  assert.is(badUnit.status, 2)
  assert.match(badUnit.stderr, '--unit-time')
  const badParam = spawnSync(process.execPath, [BIN, 'dispatch', '--port', '0', '--token', 'x', '--t-low', '90', '--t-high', '10'], { encoding: 'utf8', timeout: 20_000 })
  assert.is(badParam.status, 2)
  assert.match(badParam.stderr, 'tLow')
  const badPolicy = spawnSync(process.execPath, [BIN, 'dispatch', '--policy', 'random', '--token', 'x'], { encoding: 'utf8', timeout: 20_000 })
  assert.not.equal(badPolicy.status, 0)
  assert.match(badPolicy.stderr, 'random')
})

test.run()
