// `l7 bench scheduler --quick --json` on a tiny configuration: the JSON shape others read.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const BIN = join(process.cwd(), 'bin', 'run.js')

function l7(...args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [BIN, 'bench', 'scheduler', ...args], { encoding: 'utf8', timeout: 60_000 })
}

test('--quick --json prints one object with a result per policy, impl and configuration', () => {
  const run = l7('--quick', '--json', '--policies', 'lard,ds', '--batch', '1,16', '--nodes', '4', '--targets', '500', '--decisions', '2000', '--repeats', '1')
  assert.is(run.status, 0, String(run.stderr))
  const report = JSON.parse(String(run.stdout)) as {
    results: Record<string, unknown>[]
    ratios: Record<string, unknown>[]
    calibrationNs: number
  }
  assert.is(report.results.length, 2 * 2 * 2)
  for (const r of report.results) {
    assert.ok(['lard', 'ds'].includes(r.policy as string))
    assert.ok(['wasm', 'ts'].includes(r.impl as string))
    assert.ok([1, 16].includes(r.batch as number))
    assert.is(r.nodes, 4)
    assert.is(r.targets, 500)
    assert.type(r.nsPerDecision, 'number')
    assert.ok((r.nsPerDecision as number) >= 0)
  }
  assert.is(report.ratios.length, 4)
  for (const r of report.ratios) assert.ok((r.wasmOverTs as number) > 0)
  assert.ok(report.calibrationNs > 0)
})

test('a table by default, and a clear error for a bad policy', () => {
  const table = l7('--policies', 'wrr', '--batch', '16', '--nodes', '2', '--targets', '100', '--decisions', '500', '--repeats', '1')
  assert.is(table.status, 0, String(table.stderr))
  assert.match(String(table.stdout), /policy\s+batch\s+nodes\s+targets\s+wasm ns\s+ts ns\s+wasm\/ts/)
  const bad = l7('--policies', 'lardy', '--json')
  assert.is.not(bad.status, 0)
  assert.match(String(bad.stderr), /unknown policy "lardy"/)
})

test.run()
