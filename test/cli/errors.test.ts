// One error format and exit code per kind of failure (cli/errors.ts, cli/README.md).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Errors } from '@oclif/core'
import { closestCommand, describeFailure } from '../../cli/errors.js'
import { InvalidArgumentError, MissingDependencyError, TraceParseError } from '../../service/core/errors.js'

const tagged = <T extends Error>(err: T, command = 'replay'): T => Object.assign(err, { l7Command: command })

test('usage errors exit 2 and point at the command\'s help', () => {
  const f = describeFailure(tagged(new InvalidArgumentError('--rate must be a number above 0, got "x"')))
  assert.equal(f, { code: 2, text: 'Error: --rate must be a number above 0, got "x", see `l7 replay --help`' })
  assert.is(describeFailure(tagged(new TraceParseError(7, 'bad request line'), 'trace stats')).code, 2)
})

test('a custom flag parse failure from oclif is one line naming the flag once', () => {
  const err = new Error('Parsing --duration \n\t--duration: "5" is not a duration with a unit\nSee more help with --help')
  assert.is(describeFailure(tagged(err)).text, 'Error: --duration: "5" is not a duration with a unit, see `l7 replay --help`')
  const bare = new Error('Parsing --nodes \n\tExpected an integer\nSee more help with --help')
  assert.is(describeFailure(bare).text, 'Error: --nodes: Expected an integer, see `l7 help`')
  assert.is(describeFailure(bare).code, 2)
})

test('oclif parse errors (carrying `parse`) exit 2', () => {
  const err = Object.assign(new Errors.CLIError('Nonexistent flag: --bogus\nSee more help with --help', { exit: 1 }), { parse: {} })
  assert.equal(describeFailure(tagged(err, 'simulate')), { code: 2, text: 'Error: Nonexistent flag: --bogus, see `l7 simulate --help`' })
})

test('run-time failures exit 1, without class names, codes or stacks', () => {
  const missing = describeFailure(new MissingDependencyError('wrk is not installed, apt-get install -y wrk'))
  assert.equal(missing, { code: 1, text: 'Error: wrk is not installed, apt-get install -y wrk' })
  const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x/y'"), { code: 'ENOENT', path: 'x/y' })
  assert.equal(describeFailure(enoent), { code: 1, text: 'Error: x/y: no such file or directory, check the path' })
  const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', address: '127.0.0.1', port: 7070 })
  assert.match(describeFailure(inUse).text, /^Error: 127\.0\.0\.1:7070 is already in use, choose another address with --listen/)
  const bug = describeFailure(new TypeError('x is not a function'))
  assert.equal(bug, { code: 1, text: 'Error: x is not a function' })
})

test('DEBUG adds the stack', () => {
  const f = describeFailure(new Error('boom'), { debug: true })
  assert.match(f.text, /^Error: boom\n.*Error: boom\n\s+at /s)
})

test('this.exit(n) prints nothing', () => {
  assert.equal(describeFailure(new Errors.ExitError(3)), { code: 3, text: '' })
})

test('an unknown command exits 2 with the nearest command', () => {
  const err = new Errors.CLIError('Run l7 help trace for a list of available commands.', { exit: 127 })
  const f = describeFailure(err, { argv: ['trace', 'stat', 'x.log'], commands: ['trace stats', 'trace convert', 'simulate'] })
  assert.equal(f, { code: 2, text: 'Error: no such command "trace stat x.log" (did you mean "l7 trace stats"?), run l7 help trace for a list of available commands' })
  assert.is(closestCommand(['zzzzzzzz'], ['trace stats', 'simulate']), undefined)
  assert.is(closestCommand(['simulat'], ['trace stats', 'simulate']), 'simulate')
})

test.run()
