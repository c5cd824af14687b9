import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { TraceParseError } from '../core/errors.js'
import { writeSurgeFiles } from '../surge/files.js'
import { convertTrace } from './convert.js'
import { formatTraceRecord, parseL7Line } from './l7-format.js'
import { MAX_LINE_BYTES } from './lines.js'
import type { TraceFormat, TraceProblem, TraceRecord } from './types.js'
import { writeTrace } from './writer.js'
import { readAllRecords } from './testing.js'

const dir = mkdtempSync(join(tmpdir(), 'l7-trace-writer-'))

const records: TraceRecord[] = [
  { timeUs: 0, user: 0, method: 'GET', url: '/index.html', size: 5120, status: 200, line: 0 },
  { timeUs: 3_000_000, user: 1, method: 'POST', url: '/cgi-bin/form?a=1&b=two', size: -1, status: 302, line: 0 },
  { timeUs: 86_400_000_000, user: 0, method: 'HEAD', url: '/logo.gif', size: 0, status: 304, line: 0 },
]

test('l7 format: any record survives format -> parse (URLs with spaces and controls escaped)', () => {
  const url = fc.string({ minLength: 1, maxLength: 40 }).map((s) => '/' + s.replace(/[^\x00-\xff]/g, 'x'))
  const record = fc.record({
    timeUs: fc.integer({ min: -1e12, max: 1e15 }),
    user: fc.nat(),
    method: fc.constantFrom('GET', 'POST', 'HEAD', 'PROPFIND'),
    url,
    size: fc.integer({ min: -1, max: 1e12 }),
    status: fc.integer({ min: 0, max: 599 }),
  })
  fc.assert(
    fc.property(record, (r) => {
      const line = Buffer.from(formatTraceRecord({ ...r, line: 0 }), 'latin1')
      const back = parseL7Line(line, 0, line.length, 7)
      if (typeof back === 'string') return false
      const escaped = r.url.replace(/[\x00-\x20\x7f]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))
      return back.timeUs === r.timeUs && back.user === r.user && back.method === r.method && back.url === escaped &&
        back.size === r.size && back.status === r.status && back.line === 7
    }),
    { numRuns: 500 },
  )
})

for (const format of ['clf', 'combined', 'epa'] as TraceFormat[]) {
  test(`${format}: written lines read back to the same requests`, async () => {
    const path = join(dir, `out.${format}`)
    await writeTrace(path, records, { format: format as 'clf' })
    const back = await readAllRecords(path)
    assert.equal(
      back.map((r) => [r.timeUs, r.user, r.method, r.url, r.size, r.status]),
      records.map((r) => [r.timeUs, r.user, r.method, r.url, r.size, r.status]),
    )
  })
}

test('CLF output: the start time and zone asked for', async () => {
  const path = join(dir, 'start.log')
  await writeTrace(path, records.slice(0, 1), { format: 'clf', startMs: Date.UTC(2026, 0, 31, 23, 30), utcOffsetMinutes: 60 })
  const text = (await import('node:fs')).readFileSync(path, 'utf8')
  assert.is(text, 'u0 - - [01/Feb/2026:00:30:00 +0100] "GET /index.html HTTP/1.0" 200 5120\n')
})

test('lines across chunk boundaries and an overlong line', async () => {
  const lines: string[] = []
  for (let i = 0; i < 30_000; i++) lines.push(`${i} ${i % 7} GET /file/${i}/${'x'.repeat(i % 90)} ${i}`)
  lines.splice(12_345, 0, '1 1 GET /' + 'y'.repeat(MAX_LINE_BYTES + 10) + ' 5')
  const path = join(dir, 'long.l7')
  writeFileSync(path, lines.join('\n'))
  const problems: TraceProblem[] = []
  const back = await readAllRecords(path, { onProblem: (p) => problems.push(p) })
  assert.is(back.length, 30_000)
  assert.equal(problems.map((p) => p.line), [12_346])
  assert.is(back[12_345].line, 12_347)
  assert.ok(back.every((r, i) => r.timeUs === i && r.url.length === `/file/${i}/`.length + (i % 90)))
})

test('SURGE name.txt: a bad object index is reported with its line, strict throws', async () => {
  const surge = join(dir, 'surge')
  ;(await import('node:fs')).mkdirSync(surge)
  await writeSurgeFiles(surge, { files: [{ size: 10, group: 3 }, { size: 20, group: 1 }, { size: 30, group: 2 }], refs: [1, 1, 1], objects: [[0], [1, 2]] }, [1, 0])
  writeFileSync(join(surge, 'name.txt'), '1\n7\n0\n')
  const problems: TraceProblem[] = []
  const back = await readAllRecords(surge, { onProblem: (p) => problems.push(p) })
  assert.equal(back.map((r) => [r.url, r.size, r.line]), [['/1.txt', 20, 1], ['/2.txt', 30, 1], ['/0.txt', 10, 3]])
  assert.equal(problems.map((p) => p.line), [2])
  try {
    await readAllRecords(join(surge, 'name.txt'), { strict: true })
    assert.unreachable()
  } catch (err) {
    assert.instance(err, TraceParseError)
  }
})

test('convert: gzip in, CLF out, and back', async () => {
  const src = join(dir, 'src.l7.gz')
  writeFileSync(src, gzipSync(records.map(formatTraceRecord).join('\n') + '\n'))
  assert.is(await convertTrace(src, join(dir, 'c.log'), { to: 'clf' }), 3)
  assert.is(await convertTrace(join(dir, 'c.log'), join(dir, 'c.l7'), { to: 'l7' }), 3)
  assert.equal((await readAllRecords(join(dir, 'c.l7'))).map((r) => r.url), records.map((r) => r.url))
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test.run()
