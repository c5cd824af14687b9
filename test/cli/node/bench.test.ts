// `l7 bench node` must say what is missing rather than crash when wrk is not installed.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'

const BIN = new URL('../../../../bin/run.js', import.meta.url).pathname

test('l7 bench node without wrk: a clear message and exit code 1 (a run-time failure, cli/README.md)', () => {
  const r = spawnSync(process.execPath, [BIN, 'bench', 'node', '--duration', '1s'], {
    env: { ...process.env, PATH: '/nonexistent' },
    encoding: 'utf8',
    timeout: 30_000,
  })
  assert.is(r.status, 1, r.stderr)
  assert.match(r.stderr, /wrk is not installed/)
})

test('l7 bench node rejects bad --sizes', () => {
  const r = spawnSync(process.execPath, [BIN, 'bench', 'node', '--sizes', '1k,2k'], { encoding: 'utf8', timeout: 30_000 })
  assert.is(r.status, 2)
  assert.match(r.stderr, /--sizes/)
})

test.run()
