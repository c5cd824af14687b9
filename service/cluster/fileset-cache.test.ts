import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cachedFileSet, defaultCacheDir } from './fileset-cache.js'

test('the cache dir follows L7_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
  assert.is(defaultCacheDir({ L7_CACHE_DIR: '/a' }), '/a')
  assert.is(defaultCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/l7')
  assert.match(defaultCacheDir({}), /\/\.cache\/l7$/)
})

test('a file set is generated once, keyed by seed and file count, reused, and abandoned temp dirs are removed', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'l7-cache-test-'))
  try {
    // A temp dir left by a writer that died (a finished process's pid), and one of a live writer.
    const dead = spawn(process.execPath, ['-e', ''])
    await new Promise((resolve) => dead.once('exit', resolve))
    await mkdir(join(cache, 'filesets', `.tmp-${dead.pid}-dead`), { recursive: true })
    await mkdir(join(cache, 'filesets', `.tmp-${process.pid}-live`), { recursive: true })
    const first = await cachedFileSet(20, 7, cache)
    assert.ok(first.generated)
    assert.is((await readdir(first.docroot)).length, 20)
    const again = await cachedFileSet(20, 7, cache)
    assert.equal(again, { docroot: first.docroot, generated: false })
    const other = await cachedFileSet(20, 8, cache)
    assert.ok(other.generated && other.docroot !== first.docroot)
    assert.not.equal(await readFile(join(first.docroot, '3.txt')), await readFile(join(other.docroot, '3.txt')), 'the seed changes the content')
    const names = await readdir(join(cache, 'filesets'))
    assert.not.ok(names.includes(`.tmp-${dead.pid}-dead`), 'a dead writer\'s temp dir is removed')
    assert.ok(names.includes(`.tmp-${process.pid}-live`), 'a live writer\'s temp dir is left alone')
    assert.is(names.filter((n) => !n.startsWith('.')).length, 2)
  } finally {
    await rm(cache, { recursive: true, force: true })
  }
})

test('two processes generating the same set at once both end with the complete set', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'l7-cache-test-'))
  try {
    const [a, b] = await Promise.all([cachedFileSet(50, 3, cache), cachedFileSet(50, 3, cache)])
    assert.is(a.docroot, b.docroot)
    assert.is((await readdir(a.docroot)).length, 50)
    assert.equal((await readdir(join(cache, 'filesets'))).filter((n) => n.startsWith('.tmp')), [])
  } finally {
    await rm(cache, { recursive: true, force: true })
  }
})

test.run()
