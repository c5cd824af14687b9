import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TraceRecord } from '../trace/types.js'
import { loadWorkload, readFileSet, writeWorkloadDir, TRACE_FILE } from './directory.js'
import { readSurgeFiles } from './files.js'
import { generateSurge } from './generate.js'
import { materialize } from './materialize.js'
import { surgeTraceRecords } from './users.js'
import { readAllRecords } from '../trace/testing.js'

const root = mkdtempSync(join(tmpdir(), 'l7-surge-dir-'))
// dist/service/surge -> the repo root, where traces/surge-sample is shipped
const sample = resolve(dirname(fileURLToPath(import.meta.url)), '../../../traces/surge-sample')

test('same seed gives byte-identical files; another seed does not', async () => {
  const params = { files: 300, requests: 3000, seed: 21 }
  await writeWorkloadDir(join(root, 'a'), generateSurge(params), { users: 20 })
  await writeWorkloadDir(join(root, 'b'), generateSurge(params), { users: 20 })
  await writeWorkloadDir(join(root, 'c'), generateSurge({ ...params, seed: 22 }), { users: 20 })
  const names = readdirSync(join(root, 'a')).sort()
  assert.equal(names, ['mout.txt', 'name.txt', 'objout.txt', 'trace.l7', 'workload.json'])
  for (const name of names) {
    assert.ok(readFileSync(join(root, 'a', name)).equals(readFileSync(join(root, 'b', name))), name)
  }
  assert.not.ok(readFileSync(join(root, 'a', 'name.txt')).equals(readFileSync(join(root, 'c', 'name.txt'))))
})

test('round trip: generate -> SURGE files -> read back -> the same requests', async () => {
  const workload = generateSurge({ files: 400, requests: 4000, seed: 8 })
  const dir = join(root, 'rt')
  await writeWorkloadDir(dir, workload, { users: 50 })
  const back = await readSurgeFiles(dir)
  assert.equal(back.files, workload.files)
  assert.equal(back.objects, workload.objects)
  assert.equal(back.refs, workload.refs)
  const fromSurge = await readAllRecords(dir, { format: 'surge' })
  const fromTrace = await readAllRecords(join(dir, TRACE_FILE))
  const expanded = workload.sequence.flatMap((o) => workload.objects[o].map((f) => `/${f}.txt ${workload.files[f].size}`))
  assert.is(fromTrace.length, expanded.length)
  assert.equal(fromSurge.map((r) => `${r.url} ${r.size}`), expanded)
  assert.equal(fromTrace.map((r) => `${r.url} ${r.size}`), expanded)
  // the timed trace is in time order, every user used, the generator's records read back as written
  assert.ok(fromTrace.every((r, i) => i === 0 || r.timeUs >= fromTrace[i - 1].timeUs))
  assert.is(new Set(fromTrace.map((r) => r.user)).size, 50)
  const generated = [...surgeTraceRecords(workload, { users: 50 })]
  assert.equal(fromTrace.map((r) => [r.timeUs, r.user, r.method]), generated.map((r) => [r.timeUs, r.user, r.method]))
  // workload.json regenerates the same workload
  assert.equal((await loadWorkload(dir)).sequence, workload.sequence)
})

test('materialize: exact (scaled) sizes, content from the seed and the file index', async () => {
  const workload = generateSurge({ files: 40, requests: 100, seed: 31 })
  const dir = join(root, 'm')
  await writeWorkloadDir(dir, workload, { users: 2 })
  const { files, seed } = await readFileSet(dir)
  assert.is(seed, 31)
  const full = await materialize(files, seed, { docroot: join(root, 'docroot1') })
  assert.is(full.files, 40)
  assert.is(full.bytes, workload.files.reduce((a, f) => a + f.size, 0))
  workload.files.forEach((f, i) => assert.is(statSync(join(root, 'docroot1', `${i}.txt`)).size, f.size))
  await materialize(files, seed, { docroot: join(root, 'docroot2') })
  const big = workload.files.reduce((best, f, i) => (f.size > workload.files[best].size ? i : best), 0)
  const a = readFileSync(join(root, 'docroot1', `${big}.txt`))
  assert.ok(a.equals(readFileSync(join(root, 'docroot2', `${big}.txt`))))
  assert.ok(workload.files[big].size > 64 * 1024, 'a file spans several written pieces')
  assert.ok(/^[A-Za-z0-9+/\n]+$/.test(a.toString('latin1')))
  const other = readFileSync(join(root, 'docroot1', `${(big + 1) % 40}.txt`))
  assert.not.ok(a.subarray(0, 64).equals(other.subarray(0, 64)))
  const scaled = await materialize(files, seed, { docroot: join(root, 'docroot3'), scale: 0.1 })
  workload.files.forEach((f, i) => assert.is(statSync(join(root, 'docroot3', `${i}.txt`)).size, Math.max(1, Math.round(f.size * 0.1))))
  assert.ok(scaled.bytes < full.bytes / 5)
})

test('the shipped sample regenerates byte for byte here (same numbers on any machine)', async () => {
  const workload = await loadWorkload(sample)
  const summary = JSON.parse(readFileSync(join(sample, 'workload.json'), 'utf8'))
  await writeWorkloadDir(join(root, 'again'), workload, { users: summary.users })
  for (const name of readdirSync(sample)) {
    assert.ok(readFileSync(join(sample, name)).equals(readFileSync(join(root, 'again', name))), name)
  }
})

test.after(() => rmSync(root, { recursive: true, force: true }))

test.run()
