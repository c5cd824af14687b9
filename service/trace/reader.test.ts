import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { TraceParseError } from '../core/errors.js'
import { L7_HEADER, detectFormatFromLines, formatTraceRecord, writeTrace, type TraceProblem, type TraceRecord } from './index.js'
import { readAllRecords } from './testing.js'

const dir = mkdtempSync(join(tmpdir(), 'l7-trace-reader-'))

const sample: TraceRecord[] = [
  { timeUs: 0, user: 0, method: 'GET', url: '/1.txt', size: 100, status: 0, line: 2 },
  { timeUs: 1500, user: 3, method: 'POST', url: '/cgi-bin/a b?x=1', size: -1, status: 200, line: 3 },
  { timeUs: 2_000_000, user: 1, method: 'HEAD', url: '/%41', size: 0, status: 304, line: 4 },
]

test('our format: write then read gives the same records (spaces in URLs percent-encoded)', async () => {
  const path = join(dir, 'a.l7')
  assert.is(await writeTrace(path, sample), 3)
  const back = await readAllRecords(path)
  assert.equal(back.map((r) => r.url), ['/1.txt', '/cgi-bin/a%20b?x=1', '/%41'])
  assert.equal(back.map((r) => ({ ...r, url: '' })), sample.map((r) => ({ ...r, url: '' })))
  assert.is(formatTraceRecord(sample[1]), '1500 3 POST /cgi-bin/a%20b?x=1 - 200')
})

test('bad lines are reported with 1-based line numbers and skipped; strict throws', async () => {
  const path = join(dir, 'bad.l7')
  writeFileSync(path, [L7_HEADER, '0 0 GET /a 10', 'garbage', '', '# comment', '5 1 GET /b x', '7 1 GET /c 3 200', ''].join('\n'))
  const problems: TraceProblem[] = []
  const records = await readAllRecords(path, { onProblem: (p) => problems.push(p) })
  assert.equal(records.map((r) => [r.url, r.line]), [['/a', 2], ['/c', 7]])
  assert.equal(problems.map((p) => p.line), [3, 6])
  try {
    await readAllRecords(path, { strict: true })
    assert.unreachable('strict mode must throw')
  } catch (err) {
    assert.instance(err, TraceParseError)
    assert.is((err as TraceParseError).line, 3)
  }
})

test('gzip is detected by magic bytes, whatever the name; CRLF lines are read', async () => {
  const text = ['127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
    'h2 - frank [10/Oct/2000:13:55:38 -0700] "GET /a%20b HTTP/1.1" 404 -'].join('\r\n') + '\r\n'
  const path = join(dir, 'access.log')
  writeFileSync(path, gzipSync(text))
  const records = await readAllRecords(path)
  assert.equal(records.map((r) => [r.timeUs, r.user, r.method, r.url, r.size, r.status]), [
    [0, 0, 'GET', '/apache_pb.gif', 2326, 200],
    [2_000_000, 1, 'GET', '/a%20b', -1, 404],
  ])
})

test('EPA: [DD:HH:MM:SS], URLs with spaces, bytes `-` or missing, quotes inside URLs', async () => {
  const path = join(dir, 'epa.log')
  writeFileSync(path, [
    'a.b.c [29:23:59:59] "GET /x y.html HTTP/1.0" 200 10',
    'd.e [30:00:00:01] "POST /cgi-bin/q"x HTTP/1.0" 302 -',
    'd.e [30:00:00:02] "GET /gif/alt= HTTP/1.0" 404',
    'd.e [30:00:00:03] "GET /" 200 5',
    'd.e [1995-08-30] "GET /" 200 5',
  ].join('\n'))
  const problems: TraceProblem[] = []
  const records = await readAllRecords(path, { onProblem: (p) => problems.push(p) })
  assert.equal(records.map((r) => [r.timeUs, r.user, r.method, r.url, r.size, r.status]), [
    [0, 0, 'GET', '/x y.html', 10, 200],
    [2_000_000, 1, 'POST', '/cgi-bin/q"x', -1, 302],
    [3_000_000, 1, 'GET', '/gif/alt=', -1, 404],
    [4_000_000, 1, 'GET', '/', 5, 200],
  ])
  assert.equal(problems.map((p) => p.line), [5])
})

test('EPA: a log that crosses a month end (day 31 -> 01) goes on into the next month', async () => {
  const path = join(dir, 'epa-month.log')
  writeFileSync(path, ['h [31:23:59:59] "GET /a HTTP/1.0" 200 1', 'h [01:00:00:01] "GET /b HTTP/1.0" 200 1'].join('\n'))
  const records = await readAllRecords(path, { epa: { year: 1995, month: 12, utcOffsetMinutes: 0 } })
  assert.equal(records.map((r) => r.timeUs), [0, 2_000_000])
})

test('CLF: the same date in another zone is another time; a bad zone is a bad line', async () => {
  const path = join(dir, 'zones.log')
  writeFileSync(path, [
    'h - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 1',
    'h - - [10/Oct/2000:13:55:36 +0000] "GET /b HTTP/1.0" 200 1',
    'h - - [10/Oct/2000:13:55:36 +00x0] "GET /c HTTP/1.0" 200 1',
    'h - - [10/Oct/2000:13:5x:36 +0000] "GET /d HTTP/1.0" 200 1',
  ].join('\n'))
  const problems: TraceProblem[] = []
  const records = await readAllRecords(path, { format: 'clf', onProblem: (p) => problems.push(p) })
  assert.equal(records.map((r) => r.timeUs), [0, -7 * 3600e6])
  assert.equal(problems.map((p) => p.line), [3, 4])
})

test('format detection from the first lines', () => {
  assert.is(detectFormatFromLines([L7_HEADER]), 'l7')
  assert.is(detectFormatFromLines(['0 1 GET /a 5']), 'l7')
  assert.is(detectFormatFromLines(['h [29:23:53:25] "GET / HTTP/1.0" 200 1']), 'epa')
  assert.is(detectFormatFromLines(['h - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "UA"']), 'combined')
  assert.is(detectFormatFromLines(['h - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 -']), 'clf')
  assert.is(detectFormatFromLines(['nonsense']), undefined)
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test('a NUL byte at the start of a line is a bad line like any other, not a "long line"', async () => {
  const path = join(dir, 'nul.l7')
  writeFileSync(path, Buffer.from(`${L7_HEADER}\n0 0 GET /a 1\n\u0000 0 GET /b 2\n5 0 GET /c 3\n`, 'latin1'))
  const problems: TraceProblem[] = []
  const records = await readAllRecords(path, { onProblem: (p) => problems.push(p) })
  assert.equal(records.map((r) => r.url), ['/a', '/c'])
  assert.equal(problems, [{ line: 3, message: 'time is not an integer number of microseconds' }])
})

test('a UTF-8 BOM before the l7 header (or a log\'s first line) is dropped, not a bad line', async () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf])
  const l7 = join(dir, 'bom.l7')
  writeFileSync(l7, Buffer.concat([bom, Buffer.from(`${L7_HEADER}\n0 0 GET /a 1\n`)]))
  const clf = join(dir, 'bom.log')
  writeFileSync(clf, Buffer.concat([bom, Buffer.from('h - - [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.0" 200 5\n')]))
  for (const [path, url] of [[l7, '/a'], [clf, '/x']]) {
    const problems: TraceProblem[] = []
    const records = await readAllRecords(path, { onProblem: (p) => problems.push(p) })
    assert.equal(records.map((r) => [r.url, r.line]), [[url, url === '/a' ? 2 : 1]])
    assert.equal(problems, [])
  }
})

test('a corrupt or truncated gzip file is an error that names the file', async () => {
  const whole = gzipSync(`${L7_HEADER}\n` + '0 0 GET /a 1\n'.repeat(5000))
  const path = join(dir, 'cut.l7.gz')
  writeFileSync(path, whole.subarray(0, whole.length - 30))
  for (const read of [() => readAllRecords(path), () => readAllRecords(path, { format: 'l7' })]) {
    try {
      await read()
      assert.unreachable('a truncated gzip file was read without an error')
    } catch (err) {
      assert.match((err as Error).message, new RegExp(`^${path.replace(/[.]/g, '\\.')}: the gzip data is corrupt or truncated`))
    }
  }
})

test.run()
