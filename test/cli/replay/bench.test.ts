import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const BIN = join(process.cwd(), 'bin', 'run.js')

function l7(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env, timeout: 120_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

test('l7 bench replay: figures for every generator in one run, a missing peer reported (not a crash)', async () => {
  // A PATH with the tools the bench needs but without wrk: wrk must be reported missing.
  const bin = mkdtempSync(join(tmpdir(), 'l7-bench-path-'))
  try {
    for (const tool of ['bash', 'timeout', 'taskset', 'true']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool))
    const run = await l7(['bench', 'replay', '--duration', '1s', '--rounds', '1', '--json'], { ...process.env, PATH: bin })
    if (run.status === 1 && /nginx is not installed/.test(run.stderr)) {
      // No nginx on this machine: the bench must say so plainly.
      assert.match(run.stderr, /nginx is not installed/)
      assert.unreachable('nginx is missing: install nginx-light (apt-get install -y nginx-light) to run this spec')
    }
    assert.is(run.status, 0, run.stderr)
    const result = JSON.parse(run.stdout)
    const tools = result.results.map((r: { tool: string }) => r.tool)
    for (const tool of ['l7-closed', 'l7-closed-undici', 'l7-rate', 'l7-rate-undici']) assert.ok(tools.includes(tool), `${tool} not in ${tools}`)
    // the default client is the fast one, and the figures say so
    const clients = Object.fromEntries(result.results.filter((r: { client?: string }) => r.client).map((r: { tool: string; client: string }) => [r.tool, r.client]))
    assert.equal(clients, { 'l7-closed': 'fast', 'l7-closed-undici': 'undici', 'l7-rate': 'fast', 'l7-rate-undici': 'undici' })
    assert.ok(result.ratios.some((ratio: { tool: string; peer: string }) => ratio.tool === 'l7-rate' && ratio.peer === 'l7-closed'))
    assert.ok(tools.includes('autocannon'), `tools ${tools}; missing ${result.missing}`)
    assert.not.ok(tools.includes('wrk'))
    assert.ok(result.missing.some((reason: string) => reason.includes('wrk is not installed')), JSON.stringify(result.missing))
    for (const figures of result.results) {
      assert.ok(figures.rps > 0, `${figures.tool} rps ${figures.rps}`)
      assert.ok(figures.cpuUsPerRequest > 0, `${figures.tool} cpu ${figures.cpuUsPerRequest}`)
      assert.is(figures.errors, 0, `${figures.tool} errors`)
    }
    assert.ok(result.ratios.some((ratio: { tool: string; peer: string }) => ratio.tool === 'l7-closed' && ratio.peer === 'autocannon'))
  } finally {
    rmSync(bin, { recursive: true, force: true })
  }
})

test.run()
