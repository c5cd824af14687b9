// `l7 bench dispatcher --json` on a tiny configuration: the JSON shape others read.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const BIN = join(process.cwd(), 'bin', 'run.js')

test('--json prints a result per node count and batching mode, and the fixed-load run', () => {
  const run = spawnSync(
    process.execPath,
    [BIN, 'bench', 'dispatcher', '--json', '--nodes', '2', '--processes', '1', '--warmup', '0', '--duration', '1s', '--offered', '2000', '--offered-nodes', '1', '--concurrency', '8', '--targets', '100'],
    { encoding: 'utf8', timeout: 60_000 },
  )
  assert.is(run.status, 0, String(run.stderr))
  const report = JSON.parse(String(run.stdout)) as {
    results: Record<string, unknown>[]
    floor: Record<string, unknown> | null
    ratios: { nodes: number; batchingOverOff: number }[]
  }
  assert.equal(
    report.results.map((r) => [r.nodes, r.batching, r.mode]),
    [
      [2, true, 'closed'],
      [2, false, 'closed'],
      [1, true, 'open'],
      [1, false, 'open'],
    ],
  )
  for (const r of report.results) {
    for (const key of ['decisionsPerSec', 'rttP50Us', 'rttP99Us', 'rttP999Us']) assert.type(r[key], 'number', key)
    assert.ok((r.decisionsPerSec as number) > 0, 'every run made decisions')
    assert.ok((r.rttP50Us as number) <= (r.rttP99Us as number) && (r.rttP99Us as number) <= (r.rttP999Us as number))
    assert.is(r.errors, 0)
  }
  assert.is(report.results[1].meanBatch, 1, 'batching off: one request per frame')
  // The fixed-load schedule against a bare TCP echo server: the floor under the open-loop figures.
  assert.ok(report.floor, 'the floor run is reported with the fixed-load run')
  assert.is(report.floor.mode, 'echo')
  assert.is(report.floor.nodes, 1)
  assert.ok((report.floor.decisionsPerSec as number) > 0, 'the floor run answered requests')
  assert.ok((report.floor.rttP50Us as number) <= (report.floor.rttP99Us as number))
  assert.equal(report.ratios.map((r) => r.nodes), [2])
})

test('a bad --nodes list is refused with a clear message', () => {
  const run = spawnSync(process.execPath, [BIN, 'bench', 'dispatcher', '--nodes', '4,x'], { encoding: 'utf8', timeout: 30_000 })
  assert.is(run.status, 2)
  assert.match(run.stderr, '--nodes')
})

test.run()
