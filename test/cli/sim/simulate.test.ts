// `l7 simulate`, `l7 bench paper` and `l7 experiment` as a user runs them, on tiny configurations.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const BIN = join(process.cwd(), 'bin', 'run.js')
const dir = mkdtempSync(join(tmpdir(), 'l7-cli-sim-'))

function l7(...args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 })
}

const SMALL = ['--nodes', '4', '--users', '300', '--duration', '5s', '--warmup', '2s']

test('simulate --json: one object per policy with the documented fields', () => {
  const run = l7('simulate', ...SMALL, '--policies', 'ds,lard,lard-cost,lard-r,wrr,chbl', '--json')
  assert.is(run.status, 0, String(run.stderr))
  const results = JSON.parse(String(run.stdout)) as Record<string, unknown>[]
  assert.equal(results.map((r) => r.policy), ['ds', 'lard', 'lard-cost', 'lard-r', 'wrr', 'chbl'])
  for (const r of results) {
    for (const key of ['throughput', 'meanResponseMs', 'p99ResponseMs', 'hitRate', 'localFraction', 'dispatcherMsgsPerRequest', 'simulatedSeconds', 'wallSeconds', 'loadImbalance'])
      assert.type(r[key], 'number', key)
    assert.is(r.nodes, 4)
    assert.is(r.users, 300)
    assert.is(r.simulatedSeconds, 7)
    assert.is(r.impl, 'wasm')
    assert.ok((r.throughput as number) > 0)
  }
})

test('the Wasm core and the TypeScript reference give the same simulation (same decisions)', () => {
  const strip = (text: string) =>
    (JSON.parse(text) as Record<string, unknown>[]).map(({ wallSeconds: _w, requestsPerWallSecond: _r, requestsPerCpuSecond: _c, impl: _i, ...rest }) => rest)
  const wasm = l7('simulate', ...SMALL, '--policies', 'ds,lard-r,chbl', '--json', '--impl', 'wasm')
  const ts = l7('simulate', ...SMALL, '--policies', 'ds,lard-r,chbl', '--json', '--impl', 'ts')
  assert.is(wasm.status, 0, String(wasm.stderr))
  assert.is(ts.status, 0, String(ts.stderr))
  assert.equal(strip(String(wasm.stdout)), strip(String(ts.stdout)))
})

test('simulate --trace replays a log open loop; a table by default', () => {
  const lines: string[] = []
  for (let i = 0; i < 2000; i++) {
    const s = String(i % 60).padStart(2, '0')
    lines.push(`host${i % 7} - - [30/Aug/1995:10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${s} -0400] "GET /f${i % 41}.html HTTP/1.0" 200 ${1000 + (i % 41) * 700}`)
  }
  const path = join(dir, 'access.log')
  writeFileSync(path, lines.join('\n') + '\n')
  const run = l7('simulate', '--trace', path, '--nodes', '3', '--policies', 'lard,wrr', '--duration', '20s', '--warmup', '0')
  assert.is(run.status, 0, String(run.stderr))
  assert.match(String(run.stdout), /policy\s+nodes\s+users\s+conn\/s/)
  assert.match(String(run.stdout), /\nlard\s+3\s+0\s+/)
})

test('simulate --reading with the overload and client models; bad readings and choices are named', () => {
  const run = l7('simulate', ...SMALL, '--policies', 'ds,lard-cost', '--reading', 'seed-literal', '--overload', 'maxClients=30,listenBacklog=10', '--clients', 'on', '--json')
  assert.is(run.status, 0, String(run.stderr))
  const results = JSON.parse(String(run.stdout)) as Array<{ synDropsPerRequest: number; clientNicUtilization: number }>
  assert.ok(results.every((r) => r.clientNicUtilization > 0), 'the client NICs were modelled')
  assert.ok(results.some((r) => r.synDropsPerRequest > 0), 'a low connection limit drops SYNs')
  const reading = l7('simulate', ...SMALL, '--reading', 'literal')
  assert.is.not(reading.status, 0)
  assert.match(String(reading.stderr), /literal/)
  const choice = l7('simulate', ...SMALL, '--param', 'ownerUpdate=sometimes')
  assert.is.not(choice.status, 0)
  assert.match(String(choice.stderr), /ownerUpdate must be always, new or never, got sometimes/)
  const overload = l7('simulate', ...SMALL, '--overload', 'maxClient=3')
  assert.is.not(overload.status, 0)
  assert.match(String(overload.stderr), /--overload: unknown field "maxClient"/)
})

test('simulate --trace: by default the window is the whole trace and stderr says what it covers', () => {
  const lines: string[] = []
  for (let i = 0; i < 600; i++) lines.push(`h - - [30/Aug/1995:10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} -0400] "GET /f${i % 13}.html HTTP/1.0" 200 2000`)
  const path = join(dir, 'ten-minutes.log')
  writeFileSync(path, lines.join('\n') + '\n')
  const run = l7('simulate', '--trace', path, '--nodes', '2', '--policies', 'wrr', '--json')
  assert.is(run.status, 0, String(run.stderr))
  assert.match(String(run.stderr), /window: 0 s to 599\.0 s of a 599\.0 s trace \(600 requests/)
  const [r] = JSON.parse(String(run.stdout)) as Array<{ measuredRequests: number; simulatedSeconds: number }>
  assert.ok(r.measuredRequests >= 599, `measured ${r.measuredRequests} of 600`)
  assert.is(r.simulatedSeconds, 599)
})

test('bad input: an unknown policy, cost or parameter is named in the error', () => {
  const bad = l7('simulate', ...SMALL, '--policies', 'lardy')
  assert.is.not(bad.status, 0)
  assert.match(String(bad.stderr), /unknown policy "lardy"/)
  const cost = l7('simulate', ...SMALL, '--cost', 'diskSeek=3')
  assert.is.not(cost.status, 0)
  assert.match(String(cost.stderr), /unknown cost "diskSeek"/)
  const param = l7('simulate', ...SMALL, '--param', 'hotThreshold=abc')
  assert.is.not(param.status, 0)
  assert.match(String(param.stderr), /hotThreshold must be a number/)
  const duration = l7('simulate', ...SMALL.slice(0, 4), '--duration', 'soon')
  assert.is.not(duration.status, 0)
  assert.match(String(duration.stderr), /--duration: "soon" is not a duration with a unit/)
})

test('bench paper writes the markdown table, the JSON and the SVG plots', () => {
  const out = join(dir, 'paper')
  const run = l7('bench', 'paper', '--nodes', '2,4', '--users', '200,400', '--policies', 'ds,lard-cost,wrr', '--cache-mb', '64,4', '--duration', '3s', '--warmup', '1s', '--no-sensitivity', '--readings', 'none', '--model-seed', '1', '--out', out)
  assert.is(run.status, 0, String(run.stderr))
  for (const name of ['paper.md', 'paper.json', 'throughput-cache64mb.svg', 'response-cache64mb.svg', 'throughput-cache4mb.svg', 'response-cache4mb.svg'])
    assert.ok(existsSync(join(out, name)), name)
  const md = readFileSync(join(out, 'paper.md'), 'utf8')
  assert.match(md, /\| nodes \| users \| ds \| lard-cost \| wrr \| ds \/ lard-cost \|/)
  assert.match(md, /\| 4 \| 400 \| \d+ \| \d+ \| \d+ \| [0-9.]+ \|/)
  const json = JSON.parse(readFileSync(join(out, 'paper.json'), 'utf8')) as { results: unknown[] }
  assert.is(json.results.length, 2 * 2 * 3 * 2)
  assert.match(readFileSync(join(out, 'throughput-cache4mb.svg'), 'utf8'), /^<svg[\s\S]*connections\/s[\s\S]*<\/svg>/)
})

test('bench paper --json: five seeds per point; the readings table per reading, with and without the models', () => {
  const out = join(dir, 'paper-readings')
  const args = ['bench', 'paper', '--nodes', '4', '--users', '300', '--policies', 'ds,lard-cost', '--cache-mb', '64', '--duration', '2s', '--warmup', '1s', '--no-sensitivity', '--out', out]
  const run = l7(...args, '--readings', 'project,seed-literal', '--model-seed', '1,2,3,4,5', '--json')
  assert.is(run.status, 0, String(run.stderr))
  const md = readFileSync(join(out, 'paper.md'), 'utf8')
  type Point = { throughput: number; throughputMin: number; throughputMax: number; seeds: number }
  const report = JSON.parse(String(run.stdout)) as {
    results: Point[]
    readings: Array<{ name: string; params: Record<string, unknown>; runs: Array<{ models: string; nodes4: { ds: Point; ratio: number }; nodes16: { ds: Point } }> }>
  }
  assert.equal(report.readings.map((r) => r.name), ['project', 'seed-literal'])
  assert.equal(report.readings[0].params, {})
  assert.is(report.readings[1].params.costTies, 'id')
  assert.equal(report.readings[0].runs.map((r) => r.models), ['off', 'overload+clients'])
  for (const p of report.results) {
    assert.is(p.seeds, 5)
    assert.ok(p.throughputMin <= p.throughput && p.throughput <= p.throughputMax)
  }
  assert.match(md, /\| seed-literal \| on \| \d+ \(\d+-\d+\) \|/)
})

test('experiment: a real 2-node cluster, measured and simulated, with an HTML report', () => {
  const report = join(dir, 'experiment.html')
  const run = l7('experiment', '--nodes', '2', '--policies', 'lard', '--users', '20', '--duration', '2s', '--warmup', '1s', '--report', report, '--json')
  assert.is(run.status, 0, String(run.stderr))
  const result = JSON.parse(String(run.stdout)) as { outcomes: Record<string, unknown>[] }
  assert.is(result.outcomes.length, 1)
  const o = result.outcomes[0] as { policy: string; requests: number; errors: number; perNode: number[]; hitRate: number; sim: { throughput: number } }
  assert.is(o.policy, 'lard')
  assert.ok(o.requests > 0, 'requests were made')
  assert.is(o.errors, 0)
  assert.is(o.perNode.length, 2)
  assert.ok(o.perNode.reduce((a, b) => a + b, 0) > 0, 'the nodes counted requests')
  assert.ok(o.hitRate >= 0 && o.hitRate <= 1)
  assert.ok(o.sim.throughput > 0)
  assert.match(readFileSync(report, 'utf8'), /<h1>l7 experiment[\s\S]*<svg/)
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test.run()
