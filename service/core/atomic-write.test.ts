// Output appears whole or not at all (service/core/atomic-write.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withAtomicDir, withAtomicFile, writeFileAtomic } from './atomic-write.js'

const dirs: string[] = []

/** uvu has no assert.rejects: the promise must reject with a message matching `pattern`. */
async function rejects(promise: Promise<unknown>, pattern: RegExp = /./): Promise<void> {
  try {
    await promise
  } catch (err) {
    assert.match((err as Error).message, pattern)
    return
  }
  assert.unreachable('expected a rejection')
}
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'l7-atomic-'))
  dirs.push(dir)
  return dir
}

test('writeFileAtomic replaces the file and leaves no temporary file', async () => {
  const dir = await scratch()
  const file = join(dir, 'out.txt')
  await writeFile(file, 'old')
  await writeFileAtomic(file, 'new')
  assert.is(await readFile(file, 'utf8'), 'new')
  assert.equal(await readdir(dir), ['out.txt'])
})

test('a writer that fails leaves the old file as it was and no temporary file', async () => {
  const dir = await scratch()
  const file = join(dir, 'out.txt')
  await writeFile(file, 'old')
  await rejects(
    withAtomicFile(file, async (path) => {
      await writeFile(path, 'half of the new')
      throw new Error('bad line 7')
    }),
    /bad line 7/,
  )
  assert.is(await readFile(file, 'utf8'), 'old')
  assert.equal(await readdir(dir), ['out.txt'])
})

test('a failed first write creates nothing', async () => {
  const dir = await scratch()
  await rejects(withAtomicFile(join(dir, 'new.txt'), async (path) => {
    await writeFile(path, 'x')
    throw new Error('no')
  }))
  assert.equal(await readdir(dir), [])
})

test('withAtomicDir: a new directory appears whole; into an existing one, entries are replaced and others kept', async () => {
  const dir = await scratch()
  const out = join(dir, 'a', 'set')
  await withAtomicDir(out, async (path) => {
    await writeFile(join(path, '1.txt'), 'one')
    await mkdir(join(path, 'sub'))
    await writeFile(join(path, 'sub', '2.txt'), 'two')
  })
  assert.equal((await readdir(out)).sort(), ['1.txt', 'sub'])
  await writeFile(join(out, 'keep.txt'), 'kept')
  await withAtomicDir(out, async (path) => {
    await writeFile(join(path, '1.txt'), 'ONE')
    await mkdir(join(path, 'sub'))
  })
  assert.is(await readFile(join(out, '1.txt'), 'utf8'), 'ONE')
  assert.is(await readFile(join(out, 'keep.txt'), 'utf8'), 'kept')
  assert.equal(await readdir(join(out, 'sub')), [])
  assert.equal(await readdir(join(dir, 'a')), ['set'])
})

test('withAtomicDir: a failure leaves neither the directory nor a temporary one', async () => {
  const dir = await scratch()
  await rejects(withAtomicDir(join(dir, 'set'), async (path) => {
    await writeFile(join(path, '1.txt'), 'one')
    throw new Error('disk full')
  }), /disk full/)
  assert.equal(await readdir(dir), [])
})

test('a process that exits before commit removes its temporary file', async () => {
  const dir = await scratch()
  const module = new URL('./atomic-write.js', import.meta.url).href
  const script = `import { atomicFile } from ${JSON.stringify(module)}; import { writeFileSync } from 'node:fs';
    const out = atomicFile(${JSON.stringify(join(dir, 'x.txt'))}); writeFileSync(out.path, 'partial'); process.exit(1)`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script])
  assert.is(child.status, 1, child.stderr.toString())
  assert.equal(await readdir(dir), [])
})

test.after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

test.run()
