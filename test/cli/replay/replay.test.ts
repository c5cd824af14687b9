import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const BIN = join(process.cwd(), 'bin', 'run.js')
const CHROMIUM = '/usr/bin/chromium'

let server: Server
let target = ''
const dir = mkdtempSync(join(tmpdir(), 'l7-replay-cli-'))
const trace = join(dir, 'trace.l7')

test.before(async () => {
  server = createServer((req, res) => {
    res.setHeader('X-L7-Node', req.url === '/a' ? '1' : '2')
    res.end(req.url === '/big' ? Buffer.alloc(50_000) : 'ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  // Times 10 ms apart; one bad line, counted and skipped.
  const lines = ['#l7-trace 1']
  for (let i = 0; i < 30; i++) lines.push(`${i * 10_000} ${i % 3} GET ${['/a', '/b', '/big'][i % 3]} -`)
  lines.splice(5, 0, 'this is not a trace line')
  writeFileSync(trace, lines.join('\n') + '\n')
})

test.after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

/** Runs the CLI in a child process (asynchronously: the test server lives in this process). */
function l7(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

test('--json carries the documented fields, --hgrm writes the plotter format, bad lines are counted', async () => {
  const hgrm = join(dir, 'latency.hgrm')
  const run = await l7(['replay', trace, '--target', target, '--json', '--hgrm', hgrm])
  assert.is(run.status, 0, run.stderr)
  const result = JSON.parse(run.stdout)
  for (const key of ['requests', 'ok', 'errors', 'throughputRps', 'cpuUsPerRequest']) assert.type(result[key], 'number', key)
  for (const key of ['p50', 'p90', 'p99', 'p999', 'max']) assert.type(result.latencyMs[key], 'number', `latencyMs.${key}`)
  for (const key of ['p50', 'p99', 'max']) assert.type(result.sendLagMs[key], 'number', `sendLagMs.${key}`)
  assert.is(result.mode, 'timed')
  assert.is(result.requests, 30)
  assert.is(result.ok, 30)
  assert.is(result.traceProblems.count, 1)
  assert.is(result.traceProblems.first[0].line, 6)
  assert.type(result.histograms.latencyUs, 'string')
  assert.equal(
    result.perHeader.map((group: { key: string; requests: number }) => [group.key, group.requests]),
    [
      ['x-l7-node=1', 10],
      ['x-l7-node=2', 20],
    ],
  )
  const rows = readFileSync(hgrm, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#') && !line.includes('Value'))
  assert.ok(rows.length >= 5)
  // Value, Percentile, TotalCount, 1/(1-Percentile); the 100% row has no fourth column (as HdrHistogram writes it).
  for (const row of rows) {
    const cells = row.trim().split(/\s+/)
    assert.ok(cells.every((cell) => Number.isFinite(Number(cell))), row)
    assert.is(cells.length, Number(cells[1]) === 1 ? 3 : 4, row)
  }
})

test('--report writes a self-contained page whose plots headless Chromium renders', async () => {
  // Fail loudly, never skip: CI must install Chromium (apt-get install -y chromium; .ci/run does).
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it (apt-get install -y chromium); CI must install it for this test`)
  const report = join(dir, 'report.html')
  const run = await l7(['replay', trace, '--target', target, '--mode', 'rate', '--rate', '200', '--duration', '1s', '--report', report])
  assert.is(run.status, 0, run.stderr)
  assert.match(run.stdout, /latency \(from schedule\)/)
  const html = readFileSync(report, 'utf8')
  assert.not.match(html, /<script[^>]+src=|<link[^>]+href=|@import/, 'the report must not load anything from the network')
  const profile = mkdtempSync(join(tmpdir(), 'l7-chromium-'))
  try {
    const chromium = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        '--dump-dom',
        `file://${report}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    )
    assert.is(chromium.status, 0, chromium.stderr)
    const dom = chromium.stdout
    for (const id of ['latency-percentiles', 'throughput']) {
      const figure = new RegExp(`<figure id="${id}"><svg[^>]*class="marks"[\\s\\S]*?</svg></figure>`).exec(dom)
      assert.ok(figure, `plot ${id} is not in the rendered DOM`)
      assert.match(figure![0], /class="mark-line role-mark/, `plot ${id} has no line`)
    }
    assert.match(dom, /Latency by percentile/)
    assert.match(dom, /Throughput over time/)
    assert.match(dom, />99%</)
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
})

test('Ctrl-C stops the run and prints the results so far', async () => {
  const child = spawn(process.execPath, [BIN, 'replay', trace, '--target', target, '--mode', 'rate', '--rate', '100', '--duration', '60s', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  // Interrupt once requests are flowing: poll the server's request count rather than guessing a startup time.
  let seen = 0
  server.on('request', () => seen++)
  const deadline = Date.now() + 20_000
  while (seen < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  child.kill('SIGINT')
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  assert.is(code, 0, stderr)
  const result = JSON.parse(stdout)
  assert.ok(result.requests >= 20 && result.requests < 6000, `requests ${result.requests}`)
  assert.is(result.ok + result.unfinished, result.requests)
  assert.match(stderr, /results so far/)
})

test('bad input is a clear error with exit code 2', async () => {
  const noRate = await l7(['replay', trace, '--target', target, '--mode', 'rate'])
  assert.is(noRate.status, 2)
  assert.match(noRate.stderr, /rate mode needs a rate/)
  const badTarget = await l7(['replay', trace, '--target', 'ftp://x'])
  assert.is(badTarget.status, 2)
  assert.match(badTarget.stderr, /http:\/\//)
})

test.run()
