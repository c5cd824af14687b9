import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runWrkReport, WRK_MISSING } from './peers/wrk.js'
import { listDocroot, wrkMixScript, zipfMix } from './zipf-mix.js'

async function docroot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'l7-zipf-mix-'))
  await mkdir(join(dir, 'sub dir'))
  for (let i = 0; i < 12; i++) await writeFile(join(dir, `${i}.txt`), Buffer.alloc(i * 10 + 1, 97))
  await writeFile(join(dir, 'sub dir', 'x.bin'), 'xyz')
  return dir
}

test('listDocroot: every file, nested and percent-encoded, numeric order, with sizes', async () => {
  const dir = await docroot()
  try {
    const files = await listDocroot(dir)
    assert.is(files.length, 13)
    assert.equal(files.slice(0, 3), [
      { path: '/0.txt', size: 1 },
      { path: '/1.txt', size: 11 },
      { path: '/2.txt', size: 21 },
    ])
    assert.ok(files.some((f) => f.path === '/sub%20dir/x.bin' && f.size === 3))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('zipfMix: the same for the same seed, ranks shuffled, rank 1 requested about 1/H(n) of the time', () => {
  const files = Array.from({ length: 100 }, (_, i) => ({ path: `/${i}`, size: 1 }))
  const a = zipfMix(files, { alpha: 1, length: 20_000, seed: 7 })
  assert.equal(a, zipfMix(files, { alpha: 1, length: 20_000, seed: 7 }))
  assert.not.equal(a.ranked, zipfMix(files, { alpha: 1, length: 20_000, seed: 8 }).ranked)
  assert.is(new Set(a.ranked).size, 100)
  assert.not.equal(a.ranked.map((f) => f.path), files.map((f) => f.path))
  let harmonic = 0
  for (let r = 1; r <= 100; r++) harmonic += 1 / r
  const top = a.sequence.filter((i) => i === 0).length / a.sequence.length
  assert.ok(Math.abs(top - 1 / harmonic) < 0.02, `rank 1 share ${top}, expected ${1 / harmonic}`)
  assert.throws(() => zipfMix([], { alpha: 1, length: 10, seed: 1 }), /no files/)
})

test('wrkMixScript: wrk requests the sequence in order and reports its counts', async () => {
  if (spawnSync('wrk', ['-v']).error) {
    console.log(`${WRK_MISSING}: the script is not run`)
    return
  }
  const dir = await docroot()
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(req.url!)
    res.statusCode = req.url === '/11.txt' ? 404 : 200
    res.end('ok')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const mix = zipfMix(await listDocroot(dir), { alpha: 1, length: 500, seed: 3 })
    const script = join(dir, 'mix.lua')
    await writeFile(script, wrkMixScript(mix))
    const port = (server.address() as net.AddressInfo).port
    const report = await runWrkReport(`http://127.0.0.1:${port}/`, { duration: 1, connections: 1, threads: 1, script })
    assert.ok(report.requests > 0)
    assert.is(report.socketErrors, 0)
    // one connection: the server sees the sequence in order, cycled, from its start (wrk calls
    // request() once more at set-up, to check the script: the first one may not be sent)
    const expected = (from: number) => Array.from({ length: seen.length }, (_, i) => mix.ranked[mix.sequence[(from + i) % mix.sequence.length]].path)
    assert.ok([0, 1].some((from) => JSON.stringify(seen) === JSON.stringify(expected(from))), 'requests out of sequence')
    assert.is(report.non2xx, seen.filter((p) => p === '/11.txt').length)
    assert.ok(report.p99Us >= report.p50Us)
  } finally {
    server.close()
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
