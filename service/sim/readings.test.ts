// Readings: every bundle is valid for both implementations, `project` is the defaults, and
// --param overrides one choice, with clear errors for anything unknown.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { resolveParams } from '../policy/params.js'
import { DEFAULT_PARAMS } from '../policy/types.js'
import { READINGS, resolveReading } from './readings.js'

test('project is the defaults: no policy parameter changed, round-robin front, DS load reports, the classic ordering', () => {
  const project = resolveReading('project')
  assert.equal(resolveParams(project.params), { ...DEFAULT_PARAMS })
  assert.equal(project.model, { loadReports: 'ds', front: 'round-robin', ordering: 'stack' })
  assert.equal(project.overridden, [])
})

test('seed-literal takes Fig. 11 as printed and the text word for word', () => {
  const literal = resolveParams(resolveReading('seed-literal').params)
  assert.is(literal.costTies, 'id')
  assert.is(literal.ownerUpdate, 'never')
  assert.is(literal.rateEstimator, 'literal')
  assert.is(literal.localRate, 'served')
  assert.is(literal.hotAlloc, 'receiving')
  assert.is(resolveReading('seed-literal').model.front, 'dns-process')
})

test('every reading resolves to valid parameters, differs from the others, and is documented in the policy README', () => {
  const readme = readFileSync(new URL('../../../service/policy/README.md', import.meta.url), 'utf8')
  const seen = new Set<string>()
  for (const r of READINGS) {
    const resolved = resolveReading(r.name)
    resolveParams(resolved.params)
    const key = JSON.stringify([resolveParams(resolved.params), resolved.model])
    assert.not.ok(seen.has(key), `${r.name} repeats another reading`)
    seen.add(key)
    assert.ok(readme.includes(`\`${r.name}\``), `${r.name} is documented in service/policy/README.md`)
  }
})

test('--param overrides one choice of a reading, policy or model', () => {
  const r = resolveReading('seed-literal', 'costTies=load,loadReports=none,hotThreshold=50')
  assert.is(r.params.costTies, 'load')
  assert.is(r.params.hotThreshold, 50)
  assert.is(r.params.ownerUpdate, 'never', 'the rest of the bundle stays')
  assert.is(r.model.loadReports, 'none')
  assert.equal(r.overridden, ['costTies', 'loadReports', 'hotThreshold'])
})

test('bad input names what was wrong', () => {
  assert.throws(() => resolveReading('seed'), /unknown reading "seed" \(one of project, /)
  assert.throws(() => resolveReading('project', 'front=anycast'), /front must be one of round-robin, dns-process, dns-machine, got "anycast"/)
  assert.throws(() => resolveReading('project', 'hotThreshold=hot'), /hotThreshold must be a number/)
  assert.throws(() => resolveReading('project', 'speed=3'), /unknown parameter "speed"/)
  assert.is(resolveReading('project', 'popularity=files').model.popularity, 'files')
  assert.throws(() => resolveReading('project', 'popularity=pages'), /popularity must be one of objects, files/)
  assert.throws(() => resolveReading('project', 'costTies'), /expected key=value/)
  assert.throws(() => resolveParams(resolveReading('project', 'costTies=random').params), /costTies must be load or id, got random/)
})

test.run()
