// Generated SURGE file sets live in a cache directory reused across runs (keyed by preset,
// seed and file count), not in a temp dir per run: a killed `l7 cluster` leaves nothing large
// behind, and the next start does not write 50 MB again. A set is written to a temp dir beside
// its final place and renamed, so a half-written set is never used; temp dirs of processes
// that died are removed on the next call.

import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { generateFileSizes, resolveSurgeParams, SURGE_PRESETS } from '../surge/generate.js'
import { materialize } from '../surge/materialize.js'
import { processAlive } from '../core/child-process.js'

/** Bump when the generated content changes, so older sets are not reused. */
const FORMAT = 1
const PRESET = 'hong-noh-2005'

/** $L7_CACHE_DIR, else $XDG_CACHE_HOME/l7, else ~/.cache/l7. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.L7_CACHE_DIR) return env.L7_CACHE_DIR
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'l7')
}

/** Removes `.tmp-<pid>-*` dirs whose writer is gone. */
async function removeAbandoned(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^\.tmp-(\d+)-/.exec(name)
    if (m && !processAlive(Number(m[1]))) await rm(join(dir, name), { recursive: true, force: true })
  }
}

/** The seed paper's file set (2000 files, about 50 MB, 77 B to 3.1 MB) or a SURGE set of another size, written into `docroot`. */
export async function writeSurgeFileSet(docroot: string, files: number, seed?: number): Promise<void> {
  const preset = SURGE_PRESETS[PRESET]
  const params = resolveSurgeParams({ ...preset, files, seed: seed ?? preset.seed })
  await materialize(generateFileSizes(params).map((size) => ({ size })), params.seed, { docroot })
}

/**
 * The directory of the seed paper's file set (or a SURGE set of `files` files) with `seed`,
 * generated on first use. Returns its path and whether it was generated now.
 */
export async function cachedFileSet(files: number, seed: number | undefined, cacheDir = defaultCacheDir()): Promise<{ docroot: string; generated: boolean }> {
  const preset = SURGE_PRESETS[PRESET]
  const params = resolveSurgeParams({ ...preset, files, seed: seed ?? preset.seed })
  const dir = join(cacheDir, 'filesets')
  const docroot = join(dir, `${PRESET}-seed${params.seed}-files${files}-v${FORMAT}`)
  if ((await stat(docroot).catch(() => null))?.isDirectory()) return { docroot, generated: false }
  await mkdir(dir, { recursive: true })
  await removeAbandoned(dir)
  const temp = join(dir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    await writeSurgeFileSet(temp, files, params.seed)
    await rename(temp, docroot)
  } catch (err) {
    await rm(temp, { recursive: true, force: true })
    // Another process finished the same set first: theirs is as good as ours.
    const code = (err as NodeJS.ErrnoException).code
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await stat(docroot).catch(() => null))?.isDirectory()) return { docroot, generated: false }
    throw err
  }
  return { docroot, generated: true }
}
