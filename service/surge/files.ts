// SURGE's own files (Barford & Crovella's programs), read and written so that workloads move
// both ways between l7 and the original SURGE:
//   mout.txt   one line per file: `refs size group` (1 base, 2 embedded, 3 loner); file n is /n.txt
//   objout.txt one object per line: loners first (one index), then a base index and its embedded
//   name.txt   one object index per line: the request sequence
import { createWriteStream, existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import { InvalidArgumentError, TraceParseError } from '../core/errors.js'
import { readLineChunks } from '../trace/lines.js'
import type { TraceProblem, TraceRecord } from '../trace/types.js'

export type FileGroup = 1 | 2 | 3
export const GROUP_BASE: FileGroup = 1
export const GROUP_EMBEDDED: FileGroup = 2
export const GROUP_LONER: FileGroup = 3

export interface SurgeFile {
  size: number
  group: FileGroup
}

export interface SurgeFiles {
  files: SurgeFile[]
  /** Reference counts from mout.txt (how often the file appears in the request sequence). */
  refs: number[]
  objects: number[][]
}

export function surgeUrl(file: number): string {
  return `/${file}.txt`
}

function badInput(path: string, line: number, message: string): never {
  throw new InvalidArgumentError(`${path}: ${new TraceParseError(line, message).message}`)
}

function nonEmptyLines(text: string): [number, string][] {
  const out: [number, string][] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line !== '' && !line.startsWith('#')) out.push([i + 1, line])
  })
  return out
}

export async function readMout(path: string): Promise<{ files: SurgeFile[]; refs: number[] }> {
  const files: SurgeFile[] = []
  const refs: number[] = []
  for (const [line, text] of nonEmptyLines(await readFile(path, 'latin1'))) {
    const fields = text.split(/\s+/).map(Number)
    if (fields.length !== 3 || !fields.every((n) => Number.isInteger(n) && n >= 0)) {
      badInput(path, line, 'expected `refs size group` (three non-negative integers)')
    }
    const [ref, size, group] = fields
    if (group < 1 || group > 3) badInput(path, line, `group ${group} is not 1 (base), 2 (embedded) or 3 (loner)`)
    files.push({ size, group: group as FileGroup })
    refs.push(ref)
  }
  return { files, refs }
}

export async function readObjout(path: string, fileCount: number): Promise<number[][]> {
  const objects: number[][] = []
  for (const [line, text] of nonEmptyLines(await readFile(path, 'latin1'))) {
    const indices = text.split(/\s+/).map(Number)
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= fileCount) badInput(path, line, `file index ${i} is not in mout.txt (0..${fileCount - 1})`)
    }
    objects.push(indices)
  }
  return objects
}

export async function readSurgeFiles(dir: string): Promise<SurgeFiles> {
  for (const name of ['mout.txt', 'objout.txt']) {
    if (!existsSync(join(dir, name))) throw new InvalidArgumentError(`${dir} is not a SURGE directory: it has no ${name}`)
  }
  const { files, refs } = await readMout(join(dir, 'mout.txt'))
  const objects = await readObjout(join(dir, 'objout.txt'), files.length)
  return { files, refs, objects }
}

/**
 * Streams name.txt as batches of TraceRecords: each object's files in order, as SURGE's client
 * requests them. name.txt has no times or users: timeUs and user are 0.
 */
export async function* readSurgeBatches(
  dir: string,
  options: { strict?: boolean; onProblem?: (p: TraceProblem) => void; counts?: { lines: number } } = {},
): AsyncGenerator<TraceRecord[]> {
  const { files, objects } = await readSurgeFiles(dir)
  const urls = files.map((_, i) => surgeUrl(i))
  let line = 0
  for await (const chunk of readLineChunks(join(dir, 'name.txt'))) {
    const batch: TraceRecord[] = []
    for (const raw of chunk.toString('latin1').split('\n')) {
      line++
      const text = raw.trim()
      if (text === '' || text.startsWith('#')) continue
      const object = Number(text)
      if (!Number.isInteger(object) || object < 0 || object >= objects.length) {
        const message = `object index ${JSON.stringify(text)} is not in objout.txt (0..${objects.length - 1})`
        if (options.strict) throw new TraceParseError(line, message)
        options.onProblem?.({ line, message })
        continue
      }
      for (const file of objects[object]) {
        batch.push({ timeUs: 0, user: 0, method: 'GET', url: urls[file], size: files[file].size, status: 0, line })
      }
    }
    // the chunk's final '\n' yields one empty piece that is not a line
    if (chunk[chunk.length - 1] === 10) line--
    if (options.counts) options.counts.lines = line
    if (batch.length > 0) yield batch
  }
}

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path)
  let buffer = ''
  for (const line of lines) {
    buffer += line + '\n'
    if (buffer.length >= 1 << 16) {
      if (!out.write(buffer)) await once(out, 'drain')
      buffer = ''
    }
  }
  out.end(buffer)
  await once(out, 'finish')
}

export async function writeSurgeFiles(dir: string, data: SurgeFiles, sequence: Iterable<number>): Promise<void> {
  await writeLines(join(dir, 'mout.txt'), data.files.map((f, i) => `${data.refs[i] ?? 0} ${f.size} ${f.group}`))
  await writeLines(join(dir, 'objout.txt'), data.objects.map((o) => o.join(' ')))
  await writeLines(join(dir, 'name.txt'), (function* () {
    for (const object of sequence) yield String(object)
  })())
}

/**
 * Any trace as SURGE files, streaming: each distinct URL becomes a loner file (its largest known
 * size, 0 when unknown) and object, so name.txt is simply the file index of each request.
 * SURGE serves file n as /n.txt; urls.txt (ours, not SURGE's) keeps each index's original URL.
 */
export async function writeSurgeFromTrace(dir: string, records: AsyncIterable<TraceRecord[]>): Promise<{ requests: number; files: number }> {
  const index = new Map<string, number>()
  const sizes: number[] = []
  const refs: number[] = []
  const urls: string[] = []
  const name = createWriteStream(join(dir, 'name.txt'))
  let requests = 0
  for await (const batch of records) {
    let text = ''
    for (const r of batch) {
      let i = index.get(r.url)
      if (i === undefined) {
        i = sizes.length
        index.set(r.url, i)
        sizes.push(0)
        refs.push(0)
        urls.push(r.url)
      }
      if (r.size > sizes[i]) sizes[i] = r.size
      refs[i]++
      requests++
      text += i + '\n'
    }
    if (!name.write(text)) await once(name, 'drain')
  }
  name.end()
  await once(name, 'finish')
  await writeLines(join(dir, 'mout.txt'), sizes.map((size, i) => `${refs[i]} ${size} ${GROUP_LONER}`))
  await writeLines(join(dir, 'objout.txt'), sizes.map((_, i) => String(i)))
  await writeLines(join(dir, 'urls.txt'), urls.map((u, i) => `${i} ${u.replace(/[\s]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))}`))
  return { requests, files: sizes.length }
}
