// Streaming trace writer: records in, lines out (gzip when the path ends in .gz), with
// backpressure, so a converter never holds a whole trace in memory.
import { createWriteStream, type WriteStream } from 'node:fs'
import { once } from 'node:events'
import { createGzip, type Gzip } from 'node:zlib'
import { InvalidArgumentError } from '../core/errors.js'
import { EPA_DEFAULT_DATE, formatClfLine, formatEpaLine, type AccessLogWriteOptions } from './access-log.js'
import { L7_HEADER, formatTraceRecord } from './l7-format.js'
import type { TraceFormat, TraceRecord } from './types.js'

export type LineFormat = Exclude<TraceFormat, 'surge'>

export interface TraceWriterOptions extends Partial<AccessLogWriteOptions> {
  format?: LineFormat
}

const FLUSH_CHARS = 1 << 16

export function lineFormatter(format: LineFormat, options: TraceWriterOptions = {}): (r: TraceRecord) => string {
  const epaDate = options.epaDate ?? EPA_DEFAULT_DATE
  const access: AccessLogWriteOptions = {
    epaDate,
    utcOffsetMinutes: options.utcOffsetMinutes ?? 0,
    // default time 0: local midnight of day 1 of the EPA month, or 2000-01-01T00:00Z
    startMs: options.startMs ?? (format === 'epa' ? Date.UTC(epaDate.year, epaDate.month - 1, 1) - epaDate.utcOffsetMinutes * 60000 : Date.UTC(2000, 0, 1)),
  }
  switch (format) {
    case 'l7':
      return formatTraceRecord
    case 'clf':
      return (r) => formatClfLine(r, access, false)
    case 'combined':
      return (r) => formatClfLine(r, access, true)
    case 'epa':
      return (r) => formatEpaLine(r, access)
    default:
      throw new InvalidArgumentError(`cannot write trace format ${String(format)} line by line`)
  }
}

export class TraceWriter {
  private buffer = ''
  private readonly sink: WriteStream | Gzip
  private readonly file: WriteStream
  private readonly format: (r: TraceRecord) => string
  count = 0

  constructor(path: string, options: TraceWriterOptions = {}) {
    const format = options.format ?? 'l7'
    this.format = lineFormatter(format, options)
    this.file = createWriteStream(path)
    if (path.endsWith('.gz')) {
      const gzip = createGzip()
      gzip.pipe(this.file)
      this.sink = gzip
    } else {
      this.sink = this.file
    }
    if (format === 'l7') this.buffer = L7_HEADER + '\n'
  }

  /** Await the result only when it is a promise: the sink asked to wait (backpressure). */
  write(record: TraceRecord): Promise<void> | undefined {
    this.buffer += this.format(record) + '\n'
    this.count++
    if (this.buffer.length < FLUSH_CHARS) return undefined
    const ok = this.sink.write(this.buffer, 'latin1')
    this.buffer = ''
    return ok ? undefined : once(this.sink, 'drain').then(() => undefined)
  }

  async close(): Promise<void> {
    this.sink.end(this.buffer, 'latin1')
    this.buffer = ''
    await once(this.file, 'close')
  }
}

/** Writes every record of a stream; returns how many. */
export async function writeTrace(
  path: string,
  records: AsyncIterable<TraceRecord> | Iterable<TraceRecord>,
  options: TraceWriterOptions = {},
): Promise<number> {
  const writer = new TraceWriter(path, options)
  for await (const record of records) {
    const wait = writer.write(record)
    if (wait) await wait
  }
  await writer.close()
  return writer.count
}
