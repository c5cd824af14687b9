// Output files and directories appear whole or not at all: the writer fills a temporary path
// beside the destination (same directory, so the same file system) and renames it into place
// once everything was written. An error, or a process that exits before commit, leaves the
// destination as it was and removes the temporary path.
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Temporary paths not yet committed or aborted: removed if the process exits first. */
const pending = new Set<string>()
let exitHookInstalled = false

function track(path: string): void {
  pending.add(path)
  if (exitHookInstalled) return
  exitHookInstalled = true
  // 'exit' handlers must be synchronous; this runs on normal exits and process.exit().
  process.once('exit', () => {
    for (const p of pending) rmSync(p, { recursive: true, force: true })
  })
}

/**
 * Removes `path` (recursively) if the process exits while it is registered, e.g. a temporary
 * working directory on process.exit() after a second Ctrl-C. Returns the function that
 * unregisters it (call it once the path is removed the normal way).
 */
export function removeOnExit(path: string): () => void {
  track(path)
  return () => {
    pending.delete(path)
  }
}

/**
 * `dir/.tmp-<pid>-<random>-name`: hidden, beside the destination, unique per call, and ending as
 * the destination does (writers that pick a format by extension, .gz say, see the same one).
 */
function tempPathFor(destination: string): string {
  return join(dirname(destination), `.tmp-${process.pid}-${randomBytes(4).toString('hex')}-${basename(destination)}`)
}

export interface AtomicPath {
  /** Where to write: a file path (atomicFile) or an existing empty directory (atomicDir). */
  readonly path: string
  /** Moves what was written into place. */
  commit(): Promise<void>
  /** Removes what was written; the destination is untouched. Safe after commit (does nothing). */
  abort(): Promise<void>
}

/**
 * The commit-or-abort pair over a tracked temporary path: commit() runs `move` once; abort()
 * removes what was written (a file or a tree); both do nothing once either has run.
 */
function pendingPath(path: string, move: () => Promise<void>): AtomicPath {
  track(path)
  let done = false
  return {
    path,
    async commit() {
      if (done) return
      await move()
      done = true
      pending.delete(path)
    },
    async abort() {
      if (done) return
      done = true
      pending.delete(path)
      await rm(path, { recursive: true, force: true })
    },
  }
}

/** A temporary file path for `destination`; write it by any means, then commit() or abort(). */
export function atomicFile(destination: string): AtomicPath {
  const path = tempPathFor(destination)
  return pendingPath(path, () => rename(path, destination))
}

/**
 * A temporary directory for the output directory `destination` (parents created). commit()
 * renames it into place when `destination` does not exist; when it does, each entry written is
 * renamed into it (replacing files of the same name, keeping others), one rename per entry.
 */
export async function atomicDir(destination: string): Promise<AtomicPath> {
  await mkdir(dirname(destination), { recursive: true })
  const path = tempPathFor(destination)
  const out = pendingPath(path, async () => {
    const existing = await stat(destination).catch(() => null)
    if (existing === null) {
      await rename(path, destination)
      return
    }
    if (!existing.isDirectory()) throw new Error(`${destination} exists and is not a directory`)
    for (const entry of await readdir(path)) {
      const target = join(destination, entry)
      const old = await stat(target).catch(() => null)
      // rename() cannot replace a directory that has entries: move the old one out of the way first.
      if (old?.isDirectory()) await rm(target, { recursive: true, force: true })
      await rename(join(path, entry), target)
    }
    await rm(path, { recursive: true, force: true })
  })
  await mkdir(path)
  return out
}

/** Runs `write(out.path)`, then commits; removes what was written if anything throws. */
async function writeThenCommit<T>(out: AtomicPath, write: (path: string) => Promise<T>): Promise<T> {
  try {
    const result = await write(out.path)
    await out.commit()
    return result
  } catch (err) {
    await out.abort()
    throw err
  }
}

/** Runs `write(tempPath)` and commits its result to `destination`, or removes it if `write` throws. */
export async function withAtomicFile<T>(destination: string, write: (path: string) => Promise<T>): Promise<T> {
  return writeThenCommit(atomicFile(destination), write)
}

/** As withAtomicFile, for an output directory (see atomicDir). */
export async function withAtomicDir<T>(destination: string, write: (path: string) => Promise<T>): Promise<T> {
  return writeThenCommit(await atomicDir(destination), write)
}

/** writeFile, whole or not at all. */
export async function writeFileAtomic(destination: string, data: string | Uint8Array): Promise<void> {
  await withAtomicFile(destination, (path) => writeFile(path, data))
}
