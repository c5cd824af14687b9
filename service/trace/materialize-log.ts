// A document root from an access log: every path the log requests becomes a file, as large as
// the log says it was served, so that `l7 cluster --docroot DIR` answers the log's own URLs and
// `l7 replay LOG` can be run against it. The mapping from a request target to a file is the
// node's own (service/node/paths.ts), so what is written here is what the node looks up:
//   - the target is encoded by the trace format's URL rule (encodeUrlField, as replay sends it);
//   - the query string and fragment are dropped: the node serves the path, so `/q?a=1` and
//     `/q?b=2` are one file, `q`, as large as the largest of them;
//   - the path is percent-decoded once (UTF-8); a path ending in `/` is its `index.html`.
// Sizes: the largest size of a 200 response for the path; a path the log never served with a
// 200 and a size gets `defaultSize` (by default the median of the log's 200 sizes). Content is
// deterministic: printable text drawn from a seed and the file's rank in sorted path order.
// Written into a temporary directory beside DIR and renamed into place at the end
// (withAtomicDir): an error, or an exit before the end, leaves no partial tree.
import { mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { withAtomicDir } from '../core/atomic-write.js'
import { InvalidArgumentError } from '../core/errors.js'
import { lexicalPath } from '../node/paths.js'
import { scaledSize, writeFileContent } from '../surge/materialize.js'
import { encodeUrlField } from './l7-format.js'
import { readTraceBatches, type ReadTraceOptions } from './reader.js'

/** Longest file name component Linux file systems take, in bytes. */
const NAME_MAX = 255
/** Longest relative path we write, in bytes (PATH_MAX is 4096 with the root in front). */
const PATH_MAX = 3800
/** Examples of each reason a target could not be placed, kept for the report. */
const EXAMPLES = 3
const PIECE_BYTES = 64 * 1024
/** When the log has no 200 response with a size at all. */
export const FALLBACK_DEFAULT_SIZE = 1024

export interface MaterializeLogOptions extends ReadTraceOptions {
  docroot: string
  /** Size of paths the log never served with a 200 and a size. Default: median of the 200 sizes. */
  defaultSize?: number
  /** Every non-empty file max(1, round(size x scale)) bytes (small machines, quick tests). Default 1. */
  scale?: number
  /** Seed of the content. Default 0. */
  seed?: number
}

export interface Unplaced {
  reason: string
  /** Requests whose target hit this reason. */
  requests: number
  /** The first few targets, as in the log. */
  examples: string[]
}

export interface MaterializeLogResult {
  docroot: string
  requests: number
  files: number
  bytes: number
  /** Files sized by the default (no 200 response with a size in the log). */
  defaulted: number
  defaultSize: number
  /** Requests whose path is a file here (their share is what a replay can find). */
  placedRequests: number
  unplaced: Unplaced[]
}

interface PathInfo {
  /** Largest size of a 200 response, -1 when none had a size. */
  size: number
  requests: number
  /** Requests the log answered with 200. */
  ok: number
  /** The first target seen for it, for reports. */
  example: string
}

/** The request target's file path relative to the root, or the reason it has none. */
export function fileOfTarget(url: string): { rel: string } | { reason: string } {
  const target = encodeUrlField(url)
  if (target.charCodeAt(0) !== 0x2f) return { reason: 'not a path (absolute or asterisk form)' }
  let end = target.length
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c === 0x3f || c === 0x23) {
      end = i
      break
    }
  }
  const lexical = lexicalPath(target.slice(0, end))
  if ('status' in lexical) return { reason: `the node refuses it: ${lexical.reason}` }
  const rel = lexical.rel
  if (Buffer.byteLength(rel) > PATH_MAX) return { reason: `path longer than ${PATH_MAX} bytes` }
  for (const part of rel.split('/')) {
    if (Buffer.byteLength(part) > NAME_MAX) return { reason: `a name longer than ${NAME_MAX} bytes` }
  }
  return { rel }
}

export async function materializeLog(input: string, options: MaterializeLogOptions): Promise<MaterializeLogResult> {
  const scale = options.scale ?? 1
  if (!(scale > 0 && Number.isFinite(scale))) throw new InvalidArgumentError(`--scale must be a positive number, got ${scale}`)
  if (options.defaultSize !== undefined && !(Number.isInteger(options.defaultSize) && options.defaultSize >= 0)) {
    throw new InvalidArgumentError(`--default-size must be a whole number of bytes, got ${options.defaultSize}`)
  }
  const existing = await stat(options.docroot).catch(() => null)
  if (existing && !(existing.isDirectory() && (await isEmptyDir(options.docroot)))) {
    throw new InvalidArgumentError(`--docroot ${options.docroot} exists and is not an empty directory: choose a new one`)
  }

  // One pass over the log: each path's largest 200 size, and what could not be placed.
  const paths = new Map<string, PathInfo>()
  const unplaced = new Map<string, Unplaced>()
  const okSizes: number[] = []
  let requests = 0
  for await (const batch of readTraceBatches(input, options)) {
    for (const record of batch) {
      requests++
      const file = fileOfTarget(record.url)
      if ('reason' in file) {
        const entry = unplaced.get(file.reason) ?? { reason: file.reason, requests: 0, examples: [] }
        entry.requests++
        if (entry.examples.length < EXAMPLES && !entry.examples.includes(record.url)) entry.examples.push(record.url)
        unplaced.set(file.reason, entry)
        continue
      }
      let info = paths.get(file.rel)
      if (!info) {
        info = { size: -1, requests: 0, ok: 0, example: record.url }
        paths.set(file.rel, info)
      }
      info.requests++
      if (record.status === 200) info.ok++
      if (record.status === 200 && record.size >= 0) {
        if (record.size > info.size) info.size = record.size
        okSizes.push(record.size)
      }
    }
  }

  resolveClashes(paths, unplaced)

  const defaultSize = options.defaultSize ?? median(okSizes) ?? FALLBACK_DEFAULT_SIZE
  const rels = [...paths.keys()].sort()
  let bytes = 0
  let defaulted = 0
  let placedRequests = 0
  await withAtomicDir(options.docroot, async (temp) => {
    const made = new Set<string>()
    const piece = Buffer.allocUnsafe(PIECE_BYTES)
    for (let index = 0; index < rels.length; index++) {
      const rel = rels[index]
      const info = paths.get(rel)!
      const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : ''
      if (dir !== '' && !made.has(dir)) {
        await mkdir(join(temp, dir), { recursive: true })
        made.add(dir)
      }
      if (info.size < 0) defaulted++
      const logged = info.size < 0 ? defaultSize : info.size
      const size = logged === 0 ? 0 : scaledSize(logged, scale) // an empty response stays empty
      await writeFileContent(join(temp, rel), size, options.seed ?? 0, index, piece)
      bytes += size
      placedRequests += info.requests
    }
  })
  return {
    docroot: options.docroot,
    requests,
    files: rels.length,
    bytes,
    defaulted,
    defaultSize,
    placedRequests,
    unplaced: [...unplaced.values()].sort((a, b) => b.requests - a.requests),
  }
}

const FILE_KEPT = 'under a path that is also a file, which the log served more often (the file is kept)'
const DIRECTORY_KEPT = 'both a file and a directory of other paths, which the log served more often (the directory is kept)'

/**
 * A path that is both a file and a directory of other paths (`/a` and `/a/b`) cannot be both on
 * disk: the side the log answered with 200 more often is kept. `/cgi-bin/waisgate?...` (a script,
 * thousands of 200s) beats a few `/cgi-bin/waisgate/...`; `/docs/hotline` (answered 302, a
 * redirect to the directory) loses to the files under `/docs/hotline/`. Shorter paths first,
 * so that a file kept removes whatever was under it.
 */
function resolveClashes(paths: Map<string, PathInfo>, unplaced: Map<string, Unplaced>): void {
  const underOk = new Map<string, number>()
  for (const [rel, info] of paths) {
    for (let slash = rel.indexOf('/'); slash >= 0; slash = rel.indexOf('/', slash + 1)) {
      const dir = rel.slice(0, slash)
      underOk.set(dir, (underOk.get(dir) ?? 0) + info.ok)
    }
  }
  const clashes = [...paths.keys()].filter((rel) => underOk.has(rel)).sort((a, b) => a.length - b.length || (a < b ? -1 : 1))
  const drop = (rel: string, reason: string): void => {
    const info = paths.get(rel)
    if (!info) return
    paths.delete(rel)
    const entry = unplaced.get(reason) ?? { reason, requests: 0, examples: [] }
    entry.requests += info.requests
    if (entry.examples.length < EXAMPLES) entry.examples.push(info.example)
    unplaced.set(reason, entry)
  }
  for (const rel of clashes) {
    const info = paths.get(rel)
    if (!info) continue // under a file kept earlier
    if (info.ok > underOk.get(rel)!) {
      const prefix = rel + '/'
      for (const other of [...paths.keys()]) if (other.startsWith(prefix)) drop(other, FILE_KEPT)
    } else {
      drop(rel, DIRECTORY_KEPT)
    }
  }
}

async function isEmptyDir(path: string): Promise<boolean> {
  return (await readdir(path)).length === 0
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

/** The result for a terminal: counts, then each reason a target could not be placed. */
export function formatMaterializeLog(result: MaterializeLogResult): string {
  const lines = [
    `${result.files.toLocaleString('en-US')} files, ${result.bytes.toLocaleString('en-US')} bytes in ${result.docroot}` +
      ` (${result.defaulted.toLocaleString('en-US')} sized by the default, ${result.defaultSize.toLocaleString('en-US')} bytes: no 200 response with a size in the log)`,
    `${result.placedRequests.toLocaleString('en-US')} of ${result.requests.toLocaleString('en-US')} requests ask for a path that is now a file`,
  ]
  for (const entry of result.unplaced) {
    lines.push(`not placed: ${entry.requests.toLocaleString('en-US')} requests, ${entry.reason}; e.g. ${entry.examples.map((e) => JSON.stringify(e)).join(', ')}`)
  }
  return lines.join('\n')
}
