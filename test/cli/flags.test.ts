// The flag parsers the commands share (cli/flags.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { commaList, parseDiskFlag, parseDuration, parseNumber, parseNumberList, parseParamFlag, parsePolicyList, parseSecondsOrZero } from '../../cli/flags.js'

test('commaList trims and drops empty items', () => {
  assert.equal(commaList(' a, b,,c ,'), ['a', 'b', 'c'])
  assert.equal(commaList(''), [])
})

test('parsePolicyList names an unknown policy', () => {
  assert.equal(parsePolicyList('ds, lard'), ['ds', 'lard'])
  assert.throws(() => parsePolicyList('ds,lardy'), /unknown policy "lardy"/)
})

test('parseNumberList checks every item against the bounds and names the flag', () => {
  assert.equal(parseNumberList('4, 16', '--nodes', { integer: true, min: 1, max: 64 }), [4, 16])
  assert.equal(parseNumberList('64,0.5', '--cache-mb', { min: 0 }), [64, 0.5])
  assert.throws(() => parseNumberList('4,x', '--nodes', { integer: true, min: 1, max: 64 }), /--nodes: expected comma-separated integers from 1 to 64, got "4,x"/)
  assert.throws(() => parseNumberList('65', '--nodes', { integer: true, min: 1, max: 64 }), /--nodes/)
  assert.throws(() => parseNumberList('1,,2', '--sizes'), /--sizes/)
  assert.throws(() => parseNumberList('1.5', '--sizes', { integer: true, min: 0 }), /integers >= 0/)
})

test('parseNumber: a lower bound, inclusive (min) or not (above)', () => {
  assert.is(parseNumber('0', '--zipf', { min: 0 }), 0)
  assert.is(parseNumber('2.5', '--speed', { above: 0 }), 2.5)
  assert.throws(() => parseNumber('0', '--speed', { above: 0 }), /--speed must be a number above 0, got "0"/)
  assert.throws(() => parseNumber('', '--cache-mb', { min: 0 }), /--cache-mb must be a number >= 0/)
  assert.throws(() => parseNumber('x', '--zipf', { min: 0 }), /--zipf/)
})

test('parseSecondsOrZero: "0" is none, other durations as parseSeconds reads them', () => {
  assert.is(parseSecondsOrZero('0', '--warmup'), 0)
  assert.is(parseSecondsOrZero('250ms', '--warmup'), 0.25)
  assert.is(parseSecondsOrZero('2m', '--warmup'), 120)
  assert.throws(() => parseSecondsOrZero('soon', '--warmup'), /--warmup/)
})

test('parseDiskFlag: absent or none is no disk', () => {
  assert.is(parseDiskFlag(undefined), null)
  assert.is(parseDiskFlag('none'), null)
  assert.ok(parseDiskFlag('seek=8ms,mbps=20'))
})

test('parseDuration: a unit is required; 0 only where none is allowed', () => {
  assert.is(parseDuration('20s', '--duration'), 20)
  assert.is(parseDuration('1500ms', '--duration'), 1.5)
  assert.is(parseDuration('2m', '--duration'), 120)
  assert.is(parseDuration('0', '--warmup', true), 0)
  assert.throws(() => parseDuration('5', '--duration'), /--duration: "5" is not a duration with a unit, write e.g. 500ms, 20s or 2m$/)
  assert.throws(() => parseDuration('0', '--duration'), /--duration/)
  assert.throws(() => parseDuration('0s', '--duration'), /--duration must be above 0/)
  assert.throws(() => parseDuration('soon', '--warmup', true), /--warmup: "soon" .*\(or 0 for none\)/)
})

test('parseParamFlag: PolicyParams names, unknown ones named', () => {
  assert.equal(parseParamFlag(undefined), {})
  assert.equal(parseParamFlag('hotThreshold=50,tLow=10'), { hotThreshold: 50, tLow: 10 })
  assert.throws(() => parseParamFlag('hotness=5'), /--param: unknown parameter "hotness"/)
  assert.throws(() => parseParamFlag('tLow=x'), /--param: tLow must be a number/)
})

test.run()
