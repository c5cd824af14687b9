import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

// dist/test/cli/trace -> the repo root; the real logs are committed in traces/
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
const BIN = join(repoRoot, 'bin', 'run.js')
const EPA = resolve(repoRoot, 'traces/epa-http_1995-08-30.log.gz')
const APACHE = resolve(repoRoot, 'traces/apache_combined_semicomplete.com_2015-05-17_20.log.gz')
const dir = mkdtempSync(join(tmpdir(), 'l7-trace-cli-'))

function l7(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

test('stats --json on the EPA log: the documented keys and the counts checked with zcat | awk', () => {
  const run = l7('trace', 'stats', EPA, '--json')
  assert.is(run.status, 0, run.stderr)
  const stats = JSON.parse(run.stdout)
  for (const key of ['requests', 'parsed', 'skipped', 'uniqueTargets', 'bytes', 'workingSetBytes', 'zipfAlpha', 'top1PercentShare', 'top10PercentShare']) {
    assert.type(stats[key], 'number', key)
  }
  assert.is(stats.lines, 47_748)
  assert.is(stats.requests, 47_748)
  assert.is(stats.skipped, 0)
  assert.equal(stats.methods, { GET: 46_020, POST: 1_622, HEAD: 106 })
  assert.is(stats.uniqueTargets, 6_561)
})

test('stats on the Apache log: a table, and --plot writes an SVG drawn by Vega', () => {
  const svg = join(dir, 'apache.svg')
  const run = l7('trace', 'stats', APACHE, '--plot', svg)
  assert.is(run.status, 0, run.stderr)
  assert.match(run.stdout, /requests\s+10,000/)
  assert.match(run.stdout, /GET 9,952, HEAD 42, POST 5, OPTIONS 1/)
  assert.match(run.stdout, /unique targets\s+1,498/)
  assert.match(run.stdout, /Zipf alpha\s+\d\.\d{3}/)
  const text = readFileSync(svg, 'utf8')
  assert.match(text, /^<svg/)
  assert.match(text, /Target sizes \(CDF/)
})

test('bad lines: reported with line numbers and counted; --strict makes them an error', () => {
  const log = join(dir, 'bad.log')
  const good = 'h - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 10'
  writeFileSync(log, [good, 'not a log line', good, good.replace('200 10', 'ok 10'), good].join('\n') + '\n')
  const run = l7('trace', 'stats', log, '--format', 'clf')
  assert.is(run.status, 0, run.stderr)
  assert.match(run.stdout, /parsed \/ skipped lines\s+3 \/ 2/)
  assert.match(run.stdout, /line 2: /)
  assert.match(run.stdout, /line 4: /)
  const strict = l7('trace', 'stats', log, '--format', 'clf', '--strict')
  assert.is.not(strict.status, 0)
  assert.match(strict.stderr, /line 2/)
  const convert = l7('trace', 'convert', log, join(dir, 'bad.l7'), '--from', 'clf')
  assert.is(convert.status, 0, convert.stderr)
  assert.match(convert.stderr, /skipped line 2/)
  assert.match(convert.stderr, /2 bad lines skipped/)
  assert.match(convert.stdout, /3 requests written/)
  // --strict: exit 2 (bad input), and neither the output nor a temporary file is left behind.
  const before = readdirSync(dir).sort()
  const strictConvert = l7('trace', 'convert', log, join(dir, 'strict.l7'), '--from', 'clf', '--strict')
  assert.is(strictConvert.status, 2, strictConvert.stderr)
  assert.match(strictConvert.stderr, /^Error: line 2: .*, see `l7 trace convert --help`\n$/)
  assert.equal(readdirSync(dir).sort(), before)
  const strictSurge = l7('trace', 'convert', log, join(dir, 'strict-surge'), '--from', 'clf', '--to', 'surge', '--strict')
  assert.is(strictSurge.status, 2, strictSurge.stderr)
  assert.equal(readdirSync(dir).sort(), before)
  const strictGzip = l7('trace', 'convert', log, join(dir, 'strict.l7.gz'), '--from', 'clf', '--strict')
  assert.is(strictGzip.status, 2, strictGzip.stderr)
  assert.equal(readdirSync(dir).sort(), before)
})

test('one URL rule: a space that convert writes as %20 is what replay sends; the materialized file is found by that name', () => {
  const log = join(dir, 'space.log')
  writeFileSync(log, 'h - - [17/May/2015:10:05:03 +0000] "GET /a b.html HTTP/1.1" 200 10\n')
  const out = join(dir, 'space.l7')
  assert.is(l7('trace', 'convert', log, out).status, 0)
  assert.match(readFileSync(out, 'latin1'), / GET \/a%20b\.html 10 200\n/)
  const root = join(dir, 'space-root')
  for (const input of [log, out]) {
    const run = l7('trace', 'materialize', input, '--docroot', root, '--json')
    assert.is(run.status, 0, run.stderr)
    assert.is(JSON.parse(run.stdout).files, 1)
    assert.is(statSync(join(root, 'a b.html')).size, 10)
    rmSync(root, { recursive: true })
  }
})

test('convert: EPA -> l7 (gzip) -> SURGE directory keep every request', () => {
  const l7gz = join(dir, 'epa.l7.gz')
  assert.is(l7('trace', 'convert', EPA, l7gz).status, 0)
  assert.is(readFileSync(l7gz)[0], 0x1f)
  const surge = join(dir, 'epa-surge')
  const run = l7('trace', 'convert', l7gz, surge, '--to', 'surge')
  assert.is(run.status, 0, run.stderr)
  const stats = JSON.parse(l7('trace', 'stats', surge, '--json').stdout)
  assert.is(stats.format, 'surge')
  assert.is(stats.requests, 47_748)
  // one fewer target than the log: it holds both /docs/lead/support_docs/mets<DEL>.save.html and
  // mets%7F.save.html; our format percent-encodes the raw DEL, making them the one target they are on the wire
  assert.is(stats.uniqueTargets, 6_560)
  assert.ok(existsSync(join(surge, 'urls.txt')))
})

test('generate then materialize (scaled): deterministic files of the right sizes', () => {
  const out = join(dir, 'wl')
  const run = l7('trace', 'generate', '--files', '60', '--requests', '500', '--users', '5', '--surge-seed', '9', '--out', out, '--json')
  assert.is(run.status, 0, run.stderr)
  const summary = JSON.parse(run.stdout)
  assert.is(summary.files, 60)
  assert.is(summary.requests.objects, 500)
  const again = l7('trace', 'generate', '--files', '60', '--requests', '500', '--users', '5', '--surge-seed', '9', '--out', join(dir, 'wl2'))
  assert.is(again.status, 0, again.stderr)
  for (const name of ['mout.txt', 'objout.txt', 'name.txt', 'trace.l7', 'workload.json']) {
    assert.ok(readFileSync(join(out, name)).equals(readFileSync(join(dir, 'wl2', name))), name)
  }
  const docroot = join(dir, 'docroot')
  const m = l7('trace', 'materialize', out, '--docroot', docroot, '--scale', '0.5')
  assert.is(m.status, 0, m.stderr)
  const sizes = readFileSync(join(out, 'mout.txt'), 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[1]))
  sizes.forEach((size, i) => assert.is(statSync(join(docroot, `${i}.txt`)).size, Math.max(1, Math.round(size * 0.5))))
  const bad = l7('trace', 'generate', '--files', '5000', '--objects', '10', '--out', join(dir, 'no'))
  assert.is(bad.status, 2)
  assert.match(bad.stderr, /cannot hold/)
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test.run()
