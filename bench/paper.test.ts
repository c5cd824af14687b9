// The paper bench's arithmetic: the seed paper's trimmed mean, and a point folded from its
// seeds equals the runs made one by one (same model, same seeds).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { simulatePolicy, surgeWorkload } from '../service/sim/index.js'
import { aggregate, runPaperBench, trimmedMean } from './paper.js'

test('trimmed mean: the largest and the smallest are dropped from 3 or more values', () => {
  assert.is(trimmedMean([5, 1, 100, 3, 4]), 4)
  assert.is(trimmedMean([2, 4]), 3, 'two values: their mean')
  assert.is(trimmedMean([7]), 7)
})

test('a point is the trimmed mean of its seeds, field by field, with the throughput range', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l7-paper-'))
  try {
    const options = { nodes: [4], users: [300], policies: ['lard-cost' as const], cachesMb: [64], durationSeconds: 2, warmupSeconds: 1, impl: 'wasm' as const }
    const report = await runPaperBench({ ...options, seeds: [1, 2, 3, 4, 5], reading: 'stationary', readings: [], sensitivity: false, outDir: dir })
    const workload = surgeWorkload({ stationary: true })
    const runs = [1, 2, 3, 4, 5].map((seed) =>
      simulatePolicy('lard-cost', workload, { nodes: 4, users: 300, cacheMb: 64, durationSeconds: 2, warmupSeconds: 1, seed, impl: 'wasm', prewarm: true, params: {}, loadReports: 'ds', front: 'round-robin' }),
    )
    const [point] = report.results
    const sorted = runs.map((r) => r.throughput).sort((a, b) => a - b)
    assert.ok(Math.abs(point.throughput - (sorted[1] + sorted[2] + sorted[3]) / 3) < 1e-9, `${point.throughput}`)
    assert.is(point.throughputMin, sorted[0])
    assert.is(point.throughputMax, sorted[4])
    assert.is(point.seeds, 5)
    assert.ok(Math.abs(point.meanResponseMs - aggregate(runs).meanResponseMs) < 1e-9)
    assert.ok(new Set(sorted).size > 1, 'the seeds differ, so the trimming is exercised')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
