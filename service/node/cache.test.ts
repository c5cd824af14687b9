import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { realpath, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ContentCache, type CachedFile, type Lookup } from './cache.js'
import { EmulatedDisk, parseDiskModel } from './disk.js'
import { makeDocroot } from './testing.js'


/** The lookup of a file (not a directory, not missing). */
function fileOf(lookup: Lookup): { file: CachedFile; hit: boolean } {
  if (!lookup || 'directory' in lookup) throw new Error('expected a file')
  return lookup
}

test('LRU, bounded in bytes: the least recently used file goes first; oversized files are not kept', async () => {
  const root = await realpath(await makeDocroot([100, 200, 300, 1000]))
  try {
    const cache = new ContentCache(root, 600)
    assert.is(fileOf(await cache.get('100.bin')).hit, false)
    assert.is(fileOf(await cache.get('200.bin')).hit, false)
    assert.is(fileOf(await cache.get('100.bin')).hit, true) // 100 is now the most recent
    await cache.get('300.bin') // 600 bytes: all fit
    assert.is(cache.stats().bytes, 600)
    await writeFile(join(root, '250.bin'), Buffer.alloc(250))
    // 600 + 250 > 600: evict 200 (least recent), still 650 > 600: evict 100; 300 and 250 stay.
    await cache.get('250.bin')
    const s = cache.stats()
    assert.is(s.bytes, 550)
    assert.is(s.evictions, 2)
    assert.is(cache.peek('300.bin') !== undefined, true)
    assert.is(cache.peek('200.bin'), undefined)
    const big = await cache.get('1000.bin')
    assert.is(fileOf(big).file.body.length, 1000)
    assert.is(cache.peek('1000.bin'), undefined)
    assert.is(await cache.get('missing.bin'), null)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
})

test('property: hits, bytes and recency order match a byte-bounded LRU model over any access sequence', async () => {
  const sizes = [60, 110, 170, 230, 290, 350, 410, 700]
  const root = await realpath(await makeDocroot(sizes))
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: sizes.length - 1 }), { maxLength: 60 }), async (picks) => {
        const capacity = 800
        const cache = new ContentCache(root, capacity)
        let model: number[] = [] // sizes, least recent first
        for (const i of picks) {
          const size = sizes[i]
          const hit = model.includes(size)
          assert.is(fileOf(await cache.get(`${size}.bin`)).hit, hit)
          model = model.filter((s) => s !== size)
          if (size <= capacity) {
            while (model.reduce((a, b) => a + b, 0) + size > capacity) model.shift()
            model.push(size)
          }
        }
        assert.equal(cache.recency(), model.map((s) => `${s}.bin`))
        assert.is(cache.stats().bytes, model.reduce((a, b) => a + b, 0))
      }),
      { numRuns: 200 },
    )
  } finally {
    await rm(root, { recursive: true, force: true })
  }
})

test('concurrent misses for one file share one read', async () => {
  const root = await realpath(await makeDocroot([5000]))
  try {
    const disk = new EmulatedDisk({ seekMs: 20, mbps: 100 })
    const cache = new ContentCache(root, 1 << 20, disk)
    const results = await Promise.all(Array.from({ length: 5 }, () => cache.get('5000.bin')))
    assert.ok(results.every((r) => fileOf(r).file.body.length === 5000))
    assert.is(disk.reads, 1)
    assert.is(cache.stats().misses, 1)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
})

test('emulated disk: seek + size/bandwidth, one read at a time in arrival order', async () => {
  const disk = new EmulatedDisk(parseDiskModel('seek=10ms,mbps=1'))
  assert.is(disk.cost(10_000), 20) // 10 ms seek + 10 kB at 1 MB/s
  const started = performance.now()
  const finished: number[] = []
  await Promise.all([0, 1, 2].map((i) => disk.read(10_000).then(() => finished.push(i))))
  const elapsed = performance.now() - started
  assert.equal(finished, [0, 1, 2])
  assert.ok(elapsed >= 58, `three 20 ms reads queued took ${elapsed.toFixed(1)} ms`)
})

test('--disk values: defaults, units, and clear errors', () => {
  assert.equal(parseDiskModel('seek=8ms,mbps=20'), { seekMs: 8, mbps: 20 })
  assert.equal(parseDiskModel('seek=500us'), { seekMs: 0.5, mbps: 20 })
  assert.throws(() => parseDiskModel('seek=fast'), /--disk/)
  assert.throws(() => parseDiskModel('mbps=0'), /mbps/)
})

test.run()
