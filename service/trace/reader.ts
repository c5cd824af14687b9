// readTrace: one streaming reader API for every format. Lines are split on bytes inside
// ~1 MB chunks and parsed by index; bad lines go to onProblem (1-based line numbers) and are
// skipped, or throw TraceParseError in strict mode.
import { TraceParseError } from '../core/errors.js'
import { readSurgeBatches } from '../surge/files.js'
import { AccessLogParser, EPA_DEFAULT_DATE, type EpaDate } from './access-log.js'
import { HASH } from './bytes.js'
import { UTF8_BOM, detectTraceFormat, surgeDirectoryOf } from './detect.js'
import { LONG_LINE, MAX_LINE_BYTES, readLineChunks } from './lines.js'
import { parseL7Line } from './l7-format.js'
import type { TraceFormat, TraceProblem, TraceRecord } from './types.js'

export interface ReadTraceOptions {
  /** Auto-detected from the first lines (or a SURGE directory) when not given. */
  format?: TraceFormat
  /** Throw TraceParseError at the first bad line instead of skipping it. */
  strict?: boolean
  /** Year, month and zone of an EPA log, which has none (default Aug 1995, -0400). */
  epa?: EpaDate
  onProblem?: (p: TraceProblem) => void
  /** Filled while reading: lines seen so far (blank and `#` lines included). */
  counts?: { lines: number }
}

type LineParser = (buf: Buffer, start: number, end: number, line: number) => TraceRecord | string

function lineParserFor(format: Exclude<TraceFormat, 'surge'>, options: ReadTraceOptions): LineParser {
  if (format === 'l7') return parseL7Line
  const parser = new AccessLogParser(format === 'epa' ? 'epa' : 'clf', options.epa ?? EPA_DEFAULT_DATE)
  return (buf, start, end, line) => parser.parse(buf, start, end, line)
}

/** The records in batches (one per ~1 MB of input): the fast path for statistics and converters. */
export async function* readTraceBatches(path: string, options: ReadTraceOptions = {}): AsyncGenerator<TraceRecord[]> {
  const format = options.format ?? (await detectTraceFormat(path))
  if (format === 'surge') {
    const dir = (await surgeDirectoryOf(path)) ?? path
    yield* readSurgeBatches(dir, options)
    return
  }
  const parseLine = lineParserFor(format, options)
  let line = 0
  for await (const chunk of readLineChunks(path)) {
    if (chunk === LONG_LINE) {
      line++
      const message = `line longer than ${MAX_LINE_BYTES / (1 << 20)} MiB (skipped without reading it whole)`
      if (options.strict) throw new TraceParseError(line, message)
      options.onProblem?.({ line, message })
      continue
    }
    const batch: TraceRecord[] = []
    const end = chunk.length
    let pos = 0
    // a UTF-8 byte order mark before the first line (an editor's) is not part of it
    if (line === 0 && end >= 3 && chunk[0] === UTF8_BOM[0] && chunk[1] === UTF8_BOM[1] && chunk[2] === UTF8_BOM[2]) pos = 3
    while (pos < end) {
      let nl = chunk.indexOf(10, pos)
      if (nl < 0) nl = end
      let lineEnd = nl
      if (lineEnd > pos && chunk[lineEnd - 1] === 13) lineEnd--
      line++
      // blank lines and `#` comments are neither requests nor errors
      if (lineEnd > pos && chunk[pos] !== HASH) {
        const parsed = parseLine(chunk, pos, lineEnd, line)
        if (typeof parsed === 'string') {
          if (options.strict) throw new TraceParseError(line, parsed)
          options.onProblem?.({ line, message: parsed })
        } else {
          batch.push(parsed)
        }
      }
      pos = nl + 1
    }
    if (options.counts) options.counts.lines = line
    if (batch.length > 0) yield batch
  }
}

export async function* readTrace(path: string, options: ReadTraceOptions = {}): AsyncGenerator<TraceRecord> {
  for await (const batch of readTraceBatches(path, options)) yield* batch
}
