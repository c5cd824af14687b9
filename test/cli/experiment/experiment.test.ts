// `l7 experiment` and Ctrl-C: the policies measured before it survive (printed, in --json and
// --report), the temporary file set is removed, a second Ctrl-C quits at once (exit 130).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const BIN = join(process.cwd(), 'bin', 'run.js')
const SHORT = ['--nodes', '2', '--users', '10', '--duration', '2s', '--warmup', '0', '--no-simulate']

/**
 * Runs `l7 experiment` in its own process group, sending SIGINT to the group (as a terminal's
 * Ctrl-C does) each time stderr first matches one of `interruptAt`.
 */
function experiment(args: string[], interruptAt: RegExp[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'experiment', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal)
      } catch {
        // the group is gone
      }
    }
    let stdout = ''
    let stderr = ''
    const pending = [...interruptAt]
    const timer = setTimeout(() => {
      group('SIGKILL')
      reject(new Error(`experiment did not finish in 90 s; stderr: ${stderr}`))
    }, 90_000)
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      while (pending.length > 0 && pending[0].test(stderr)) {
        pending.shift()
        group('SIGINT')
      }
    })
    // Whatever the outcome, nothing of the group may outlive the spec (a child left holding the
    // pipes would also keep 'close' from coming).
    child.on('exit', () => group('SIGKILL'))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const docrootOf = (stderr: string) => /to (\S*l7-experiment-\S+)/.exec(stderr)?.[1]

test('Ctrl-C after the first policy: its results are printed, in --json and in --report; nothing left in /tmp', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l7-experiment-spec-'))
  try {
    const html = join(dir, 'r.html')
    const run = await experiment(['--policies', 'ds,wrr', ...SHORT, '--json', '--report', html], [/wrr: starting/])
    assert.is(run.code, 0, run.stderr)
    const report = JSON.parse(run.stdout)
    assert.equal(report.outcomes.map((o: { policy: string }) => o.policy), ['ds'])
    assert.equal(report.interrupted, { measured: 1, of: 2 })
    assert.ok(report.outcomes[0].requests > 0)
    assert.match(readFileSync(html, 'utf8'), /Interrupted: 1 of 2 policies were measured/)
    const docroot = docrootOf(run.stderr)
    assert.ok(docroot, run.stderr)
    assert.not.ok(existsSync(docroot!), `${docroot} left behind`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a second Ctrl-C quits at once with 130, and still removes the temporary file set', async () => {
  const run = await experiment(['--policies', 'ds', ...SHORT], [/ds: starting/, /stopping/])
  assert.is(run.code, 130, run.stderr)
  const docroot = docrootOf(run.stderr)
  assert.ok(docroot, run.stderr)
  assert.not.ok(existsSync(docroot!), `${docroot} left behind`)
})

test.run()
