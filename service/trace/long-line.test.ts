// Issue 12: a 600 MB line in any trace command is a clear error or a skipped line, within
// 200 MB of memory. The file is sparse (a hole reads as 600 MB of NUL bytes without a
// newline), so the spec streams a 600 MB line without storing one on disk.
import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '../../..')
const dir = mkdtempSync(join(tmpdir(), 'l7-long-line-'))
const HOLE_BYTES = 600 * 1024 * 1024

/** `before`, then a 600 MB hole (NUL bytes, no newline), then `after`. */
function sparseTrace(name: string, before: string, after: string): string {
  const path = join(dir, name)
  const fd = openSync(path, 'w')
  try {
    writeSync(fd, before)
    writeSync(fd, after, Buffer.byteLength(before) + HOLE_BYTES)
  } finally {
    closeSync(fd)
  }
  return path
}

/** Runs detection and a full read in a fresh process; its peak RSS and what it saw. */
function readInChild(path: string, format?: string): { maxRssMb: number; records?: string[]; problems?: string[]; error?: string } {
  const code = `
    const { readTrace, detectTraceFormat } = await import(${JSON.stringify(join(repoRoot, 'dist/service/trace/index.js'))})
    const out = {}
    try {
      const format = ${JSON.stringify(format)} ?? (await detectTraceFormat(process.argv[1]))
      out.records = []
      out.problems = []
      for await (const r of readTrace(process.argv[1], { format, onProblem: (p) => out.problems.push(p.line + ': ' + p.message) })) out.records.push(r.url)
    } catch (err) {
      out.error = err.message
    }
    out.maxRssMb = process.resourceUsage().maxRSS / 1024
    console.log(JSON.stringify(out))`
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code, path], { encoding: 'utf8', timeout: 120_000 })
  assert.is(run.status, 0, run.stderr)
  return JSON.parse(run.stdout)
}

test('a 600 MB line after the header is skipped and reported at its line number, under 200 MB RSS', () => {
  const path = sparseTrace('middle.l7', '#l7-trace 1\n0 0 GET /a 10\n', '\n1000 0 GET /b 20\n')
  assert.ok(statSync(path).blocks * 512 < 1 << 20, 'the file must be sparse')
  const out = readInChild(path)
  assert.equal(out.records, ['/a', '/b'])
  assert.equal(out.problems, ['3: line longer than 1 MiB (skipped without reading it whole)'])
  assert.ok(out.maxRssMb < 200, `peak RSS ${out.maxRssMb.toFixed(0)} MB`)
})

test('a 600 MB first line: detection stops at its prefix with a clear error; with a format the line is skipped', () => {
  const path = sparseTrace('first.log', '', '\n0 0 GET /after 5\n')
  const detected = readInChild(path)
  assert.match(detected.error!, /first line is longer than 64 KiB.*--format/)
  assert.ok(detected.maxRssMb < 200, `peak RSS ${detected.maxRssMb.toFixed(0)} MB`)
  const given = readInChild(path, 'l7')
  assert.equal(given.records, ['/after'])
  assert.equal(given.problems, ['1: line longer than 1 MiB (skipped without reading it whole)'])
  assert.ok(given.maxRssMb < 200, `peak RSS ${given.maxRssMb.toFixed(0)} MB`)
})

test('the CLI says so too: trace stats on a 600 MB first line exits 2 with the reason', () => {
  const path = join(dir, 'first.log')
  const run = spawnSync(process.execPath, [join(repoRoot, 'bin', 'run.js'), 'trace', 'stats', path], { encoding: 'utf8', timeout: 60_000 })
  assert.is(run.status, 2, run.stderr)
  // oclif colours (under uvu) and wraps long messages, with a mark on each line
  const message = run.stderr.replace(/\x1b\[[0-9;]*m/g, '').replace(/[^\x21-\x7e]+/g, ' ')
  assert.ok(/first line is longer than 64 KiB/.test(message), message)
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test.run()
