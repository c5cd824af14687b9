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

export async function detectTraceFormat(path: string): Promise<TraceFormat> {
  if (await surgeDirectoryOf(path)) return 'surge'
  const gzip = await isGzipFile(path)
  let head = ''
  for await (const chunk of openByteStream(path, gzip)) {
    head += chunk.toString('latin1')
    if (head.split('\n').length > SAMPLE_LINES) break
  }
  const lines = head.split('\n').slice(0, SAMPLE_LINES).map((l) => l.replace(/\r$/, ''))
  const format = detectFormatFromLines(lines)
  if (!format) {
    throw new InvalidArgumentError(`${path}: cannot tell the trace format from its first lines; choose one with --format (${TRACE_FORMATS.join(', ')})`)
  }
  return format
}
