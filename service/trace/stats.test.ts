import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { renderSvg } from '../report/plot.js'
import { computeTraceStats, formatStatsTable, statsJson, statsPlotSpec } from './stats.js'
import { fitZipf } from './zipf.js'

// dist/service/trace -> repo root; the real logs are committed in traces/
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const traces = resolve(repoRoot, 'traces')
const EPA = join(traces, 'epa-http_1995-08-30.log.gz')
const APACHE = join(traces, 'apache_combined_semicomplete.com_2015-05-17_20.log.gz')
const dir = mkdtempSync(join(tmpdir(), 'l7-trace-stats-'))

test('the real logs are in the repository', () => {
  assert.ok(existsSync(EPA), EPA)
  assert.ok(existsSync(APACHE), APACHE)
})

// Expected figures checked independently with zcat | awk (see traces/README.md).
test('EPA log: 47,748 lines; 46,020 GET, 1,622 POST, 106 HEAD; targets, bytes, one-timers', async () => {
  const { stats } = await computeTraceStats(EPA)
  assert.is(stats.format, 'epa')
  assert.is(stats.lines, 47_748)
  assert.is(stats.requests, 47_748)
  assert.is(stats.parsed, 47_748)
  assert.is(stats.skipped, 0)
  assert.equal(stats.methods, { GET: 46_020, POST: 1_622, HEAD: 106 })
  assert.equal(stats.statusClasses, { '2xx': 36_712, '3xx': 9_806, '4xx': 889, '5xx': 341 })
  assert.is(stats.uniqueTargets, 6_561)
  assert.is(stats.oneTimers, 3_899)
  assert.is(stats.bytes, 311_863_990)
  assert.is(stats.time.durationSeconds, 86_383)
  assert.is(stats.time.peakRequestsPerSecond, 13)
  assert.ok(stats.zipfAlpha > 0.6 && stats.zipfAlpha < 1.4, String(stats.zipfAlpha))
  assert.ok(stats.top10PercentShare > stats.top1PercentShare && stats.top1PercentShare > 0.3)
})

test('Apache combined log: 10,000 lines, methods, targets, bytes, out-of-order times', async () => {
  const { stats } = await computeTraceStats(APACHE)
  assert.is(stats.format, 'combined')
  assert.is(stats.requests, 10_000)
  assert.equal(stats.methods, { GET: 9_952, HEAD: 42, POST: 5, OPTIONS: 1 })
  assert.equal(stats.statusClasses, { '2xx': 9_171, '3xx': 609, '4xx': 217, '5xx': 3 })
  assert.is(stats.uniqueTargets, 1_498)
  assert.is(stats.oneTimers, 814)
  assert.is(stats.bytes, 2_747_282_740)
  // 17 May 10:05:00 to 20 May 21:05:59
  assert.is(stats.time.durationSeconds, 298_860)
  assert.ok(stats.time.outOfOrder > 0)
})

test('a small trace: every figure by hand, bad lines reported with line numbers', async () => {
  const lines = [
    '#l7-trace 1',
    '0 0 GET /a 100 200',
    '500000 1 GET /a 100 200',
    '900000 1 GET /b 50 404',
    'broken line',
    '2000000 2 POST /c - 500',
    '3500000 0 GET /a 100 304',
  ]
  const path = join(dir, 'small.l7.gz')
  writeFileSync(path, gzipSync(lines.join('\n') + '\n'))
  const { stats, curves } = await computeTraceStats(path)
  assert.is(stats.lines, 7)
  assert.is(stats.requests, 5)
  assert.is(stats.skipped, 1)
  assert.equal(stats.problems.map((p) => p.line), [5])
  assert.equal(stats.methods, { GET: 4, POST: 1 })
  assert.equal(stats.statusClasses, { '2xx': 2, '3xx': 1, '4xx': 1, '5xx': 1 })
  assert.is(stats.uniqueTargets, 3)
  assert.is(stats.bytes, 350)
  assert.is(stats.workingSetBytes, 150)
  assert.is(stats.top1PercentShare, 3 / 5)
  assert.is(stats.oneTimers, 2)
  assert.is(stats.time.durationSeconds, 4)
  assert.is(stats.time.peakRequestsPerSecond, 3)
  assert.is(stats.time.meanRequestsPerSecond, 5 / 4)
  assert.equal(curves.rankFrequency.map((p) => p.requests), [3, 1, 1])
  const json = JSON.parse(statsJson(stats))
  for (const key of ['requests', 'parsed', 'skipped', 'uniqueTargets', 'bytes', 'workingSetBytes', 'zipfAlpha', 'top1PercentShare', 'top10PercentShare']) {
    assert.ok(key in json, key)
  }
  assert.is(json.zipfAlpha, null) // one rank with >= 2 requests: no fit
  assert.match(formatStatsTable(stats), /line 5: /)
})

test('Zipf fit: exact power laws give their exponent; the plot renders through Vega', async () => {
  for (const alpha of [0.6, 1, 1.5]) {
    const counts = Array.from({ length: 3000 }, (_, i) => 1e6 * Math.pow(i + 1, -alpha))
    assert.ok(Math.abs(fitZipf(counts).alpha - alpha) < 1e-9)
  }
  const { stats, curves } = await computeTraceStats(EPA)
  const svg = await renderSvg(statsPlotSpec(stats, curves))
  assert.match(svg, /^<svg/)
  assert.match(svg, /Rank-frequency/)
})

test('the shipped slices: 300 EPA lines (292 GET, 8 POST), 100 Apache lines', async () => {
  const epa = (await computeTraceStats(join(repoRoot, 'traces/epa-http-sample.log'))).stats
  assert.is(epa.requests, 300)
  assert.equal(epa.methods, { GET: 292, POST: 8 })
  const apache = (await computeTraceStats(join(repoRoot, 'traces/semicomplete-sample.log'))).stats
  assert.is(apache.format, 'combined')
  assert.is(apache.requests, 100)
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test.run()
