// Guesses a trace's format from its first lines (or from being a SURGE directory), so that
// every command takes any supported trace without a --format flag.
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { InvalidArgumentError } from '../core/errors.js'
import { isGzipFile, openByteStream } from './lines.js'
import { L7_HEADER } from './l7-format.js'
import type { TraceFormat } from './types.js'

export const TRACE_FORMATS: readonly TraceFormat[] = ['l7', 'clf', 'combined', 'epa', 'surge']
export const SURGE_FILE_NAMES = ['name.txt', 'objout.txt', 'mout.txt']

const LINE_SHAPES: [TraceFormat, RegExp][] = [
  ['l7', /^-?\d+ \d+ [A-Za-z]+ \S+ (-|\d+)( \d+)?$/],
  ['epa', /^\S+ \[\d\d:\d\d:\d\d:\d\d\] "/],
  ['combined', /^\S+ \S+ .*\[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] ".*" \d{3} (\d+|-) "[^"]*" "/],
  ['clf', /^\S+ \S+ .*\[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] ".*" \d{3} (\d+|-)/],
]

const SAMPLE_LINES = 50
/** Detection looks at no more than this many (decompressed) bytes: a huge line costs nothing. */
export const DETECT_PREFIX_BYTES = 64 * 1024
/** A UTF-8 byte order mark, which some editors put before the first line. */
export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** The format most of the first lines have; `#l7-trace` on line 1 decides at once. */
export function detectFormatFromLines(lines: string[]): TraceFormat | undefined {
  if (lines[0]?.startsWith(L7_HEADER.split(' ')[0])) return 'l7'
  const votes = new Map<TraceFormat, number>()
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue
    const shape = LINE_SHAPES.find(([, re]) => re.test(line))
    if (shape) votes.set(shape[0], (votes.get(shape[0]) ?? 0) + 1)
  }
  let best: TraceFormat | undefined
  let bestVotes = 0
  for (const [format, count] of votes) {
    if (count > bestVotes) {
      best = format
      bestVotes = count
    }
  }
  return best
}

/** SURGE traces are a directory holding name.txt, objout.txt and mout.txt (or one of them). */
export async function surgeDirectoryOf(path: string): Promise<string | undefined> {
  const info = await stat(path)
  if (info.isDirectory()) return path
  if (SURGE_FILE_NAMES.includes(basename(path))) return path.slice(0, path.length - basename(path).length) || '.'
  return undefined
}

/**
 * The first lines (up to SAMPLE_LINES) in the first DETECT_PREFIX_BYTES of the stream, as
 * strings, a leading BOM dropped. A line cut by the prefix's end is left out; `complete` is
 * false when the prefix held no whole line at all.
 */
export async function readPrefixLines(path: string): Promise<{ lines: string[]; complete: boolean }> {
  const gzip = await isGzipFile(path)
  const prefix = Buffer.allocUnsafe(DETECT_PREFIX_BYTES)
  let used = 0
  let ended = true
  for await (const chunk of openByteStream(path, gzip)) {
    const take = Math.min(chunk.length, DETECT_PREFIX_BYTES - used)
    chunk.copy(prefix, used, 0, take)
    used += take
    if (used === DETECT_PREFIX_BYTES) {
      ended = false
      break // leaving the loop closes the stream: nothing past the prefix is read
    }
  }
  let bytes = prefix.subarray(0, used)
  if (bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3)
  // Whole lines only: the bytes after the last newline are a line only if the file ended there.
  const lastNl = bytes.lastIndexOf(10)
  const whole = ended ? bytes : bytes.subarray(0, lastNl + 1)
  const lines = whole.toString('latin1').split('\n', SAMPLE_LINES + 1).slice(0, SAMPLE_LINES).map((l) => l.replace(/\r$/, ''))
  if (lines.at(-1) === '') lines.pop()
  return { lines, complete: ended || lastNl >= 0 }
}

export async function detectTraceFormat(path: string): Promise<TraceFormat> {
  if (await surgeDirectoryOf(path)) return 'surge'
  const { lines, complete } = await readPrefixLines(path)
  if (!complete) {
    throw new InvalidArgumentError(
      `${path}: the first line is longer than ${DETECT_PREFIX_BYTES / 1024} KiB, which no trace format has; ` +
        `if the rest is a trace, choose its format with --format (${TRACE_FORMATS.join(', ')}) and that line is skipped`,
    )
  }
  const format = detectFormatFromLines(lines)
  if (!format) {
    throw new InvalidArgumentError(`${path}: cannot tell the trace format from its first lines; choose one with --format (${TRACE_FORMATS.join(', ')})`)
  }
  return format
}
