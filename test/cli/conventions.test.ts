// cli/README.md's conventions, checked over every command's manifest (oclif.manifest.json), so
// that a new command or flag cannot break them silently: flag names, units, --json, --param,
// defaults, examples, exit code 2 on a bad flag, and help with topics written with spaces.
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const ROOT = process.cwd()
const BIN = join(ROOT, 'bin', 'run.js')

interface ManifestFlag {
  name: string
  type: 'option' | 'boolean'
  description?: string
  default?: unknown
  helpValue?: string
  options?: string[]
}
interface ManifestCommand {
  id: string
  examples?: Array<string | { command: string }>
  flags: Record<string, ManifestFlag>
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, ManifestCommand> }
const commands = Object.values(manifest.commands)
/** The command as typed: `trace stats`. */
const typed = (c: ManifestCommand) => c.id.replaceAll(':', ' ')
const flagsOf = (c: ManifestCommand) => Object.values(c.flags).filter((f) => f.name !== 'help')

/** Names other commands used for the same concept, and the one to use (cli/README.md). */
const RENAMED: Record<string, string> = {
  port: '--listen host:port',
  host: '--listen host:port',
  seed: '--surge-seed, --model-seed or --arrival-seed, named for what it seeds',
  'heartbeat-ms': '--heartbeat with a unit',
  'unit-time': '--param unitTimeUs=...',
  't-low': '--param tLow=...',
  't-high': '--param tHigh=...',
  'hot-threshold': '--param hotThreshold=...',
  'max-load': '--param maxLoad=...',
  'max-buffered': '--max-buffered-bytes',
}

/** Flags whose value is a duration. */
const DURATION = /^(duration|warmup|timeout|heartbeat|delay|interval|deadline|.*-gap|.*-time|.*-timeout|.*-interval|.*-deadline)$/
const DURATION_VALUE = /^(0|[0-9]*\.?[0-9]+(ms|s|m|h))$/

test('the manifest has every command (a stale manifest would make this spec vacuous)', () => {
  assert.ok(commands.length >= 15, `${commands.length} commands`)
  for (const id of ['dispatch', 'cluster', 'node', 'replay', 'simulate', 'experiment', 'trace:stats', 'bench:paper']) assert.ok(manifest.commands[id], id)
})

test('one name per concept: no flag uses a name the conventions replaced', () => {
  for (const c of commands) {
    for (const f of flagsOf(c)) {
      const instead = RENAMED[f.name]
      assert.not.ok(instead, `l7 ${typed(c)} --${f.name}: use ${instead}`)
      // Durations carry their unit in the value, never in the name.
      assert.not.match(f.name, /-(ms|us|seconds|secs|s)$/, `l7 ${typed(c)} --${f.name}: a duration flag takes a unit in its value`)
    }
  }
})

test('durations: a <duration> value with a unit, defaults written with their unit', () => {
  for (const c of commands) {
    for (const f of flagsOf(c)) {
      if (!DURATION.test(f.name)) continue
      const where = `l7 ${typed(c)} --${f.name}`
      assert.is(f.helpValue, '<duration>', `${where}: use durationFlag() from cli/flags.ts`)
      if (f.default !== undefined) assert.match(String(f.default), DURATION_VALUE, `${where}: default ${f.default}`)
    }
  }
})

test('--policy is one choice, --policies a comma list; --param wherever a policy runs (benches excepted)', () => {
  for (const c of commands) {
    const { policy, policies, param } = c.flags
    if (policy) assert.ok(policy.options && policy.options.includes('ds'), `l7 ${typed(c)} --policy: one of the policy names`)
    if (policies) {
      assert.not.ok(policies.options, `l7 ${typed(c)} --policies: a comma list`)
      assert.match(policies.description ?? '', /comma/, `l7 ${typed(c)} --policies`)
    }
    assert.not.ok(policy && policies, `l7 ${typed(c)}: --policy or --policies, not both`)
    if ((policy || policies) && !c.id.startsWith('bench:')) assert.ok(param, `l7 ${typed(c)} runs a policy: it takes --param k=v`)
    if (param) assert.match(param.description ?? '', /hotThreshold=200/, `l7 ${typed(c)} --param: shows the defaults`)
  }
})

test('--listen host:port wherever the command listens; default ports that do not collide', () => {
  const ports = new Map<string, string>()
  for (const c of commands) {
    const listen = c.flags.listen
    if (!listen) continue
    assert.is(listen.helpValue, '<host:port>', `l7 ${typed(c)} --listen`)
    const port = String(listen.default).split(':').pop()!
    assert.not.ok(ports.has(port), `l7 ${typed(c)} and l7 ${ports.get(port)} both default to port ${port}`)
    ports.set(port, typed(c))
  }
  assert.equal([...ports.values()].sort(), ['cluster', 'dispatch', 'node'])
})

test('--json on every command (every one reports something)', () => {
  for (const c of commands) {
    assert.ok(c.flags.json, `l7 ${typed(c)} has no --json`)
    assert.is(c.flags.json.type, 'boolean')
  }
})

test('defaults hold no absolute path of this checkout or machine; every example starts with the bin', () => {
  for (const c of commands) {
    for (const f of flagsOf(c)) {
      if (typeof f.default !== 'string') continue
      assert.not.ok(f.default.includes(ROOT) || /^\/(tmp|home|root|work|srv|usr)\b/.test(f.default), `l7 ${typed(c)} --${f.name} default ${f.default}`)
    }
    assert.ok((c.examples ?? []).length > 0, `l7 ${typed(c)} has no examples`)
    for (const e of c.examples ?? []) {
      const text = typeof e === 'string' ? e : e.command
      assert.match(text, /^(\$ )?<%= config\.bin %> /, `l7 ${typed(c)} example "${text}": start it with <%= config.bin %> (help shows "$ l7 ...")`)
      assert.not.match(text, /<%= config\.bin %> \w+:\w/, `l7 ${typed(c)} example "${text}": topics are written with spaces`)
      assert.not.match(text, /\/(home|root|work)\//, `l7 ${typed(c)} example "${text}": a path of this machine`)
    }
  }
})

/** Runs `l7 ...args` without waiting for the others (the runs overlap: the machine has 2 cores). */
function l7(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

test('a bad flag: exit 2 and one line, `Error: <what>, see l7 <command> --help`, on every command', async () => {
  const runs = await Promise.all(commands.map((c) => l7([...typed(c).split(' '), '--no-such-flag'])))
  runs.forEach((run, i) => {
    const name = typed(commands[i])
    assert.is(run.status, 2, `l7 ${name}: ${run.stderr}`)
    assert.is(run.stderr, `Error: Nonexistent flag: --no-such-flag, see \`l7 ${name} --help\`\n`, `l7 ${name}`)
    assert.is(run.stdout, '')
  })
})

test('l7 help works; an unknown command is answered with spaces, a suggestion and exit 2', () => {
  const help = spawnSync(process.execPath, [BIN, 'help'], { encoding: 'utf8' })
  assert.is(help.status, 0, help.stderr)
  assert.match(help.stdout, /TOPICS[\s\S]*bench[\s\S]*trace[\s\S]*COMMANDS[\s\S]*dispatch/)
  const topic = spawnSync(process.execPath, [BIN, 'help', 'trace'], { encoding: 'utf8' })
  assert.is(topic.status, 0, topic.stderr)
  assert.match(topic.stdout, /trace stats/)
  const typo = spawnSync(process.execPath, [BIN, 'trace', 'stat', 'x.log'], { encoding: 'utf8' })
  assert.is(typo.status, 2)
  assert.not.match(typo.stderr, /trace:/)
  assert.ok(typo.stderr.includes('Error: no such command "trace stat x.log" (did you mean "l7 trace stats"?), run l7 help trace'), typo.stderr)
})

test.run()
