// Converts a trace between formats, streaming (batches in, lines out).
import { mkdir } from 'node:fs/promises'
import { writeSurgeFromTrace } from '../surge/files.js'
import { readTraceBatches, type ReadTraceOptions } from './reader.js'
import type { TraceFormat } from './types.js'
import { TraceWriter, type TraceWriterOptions } from './writer.js'

export interface ConvertOptions extends ReadTraceOptions {
  to: TraceFormat
  /** Options of the line formats written (start time and zone of CLF, EPA month). */
  write?: Omit<TraceWriterOptions, 'format'>
}

/** Returns the number of requests written. A SURGE output is a directory (created if needed). */
export async function convertTrace(input: string, output: string, options: ConvertOptions): Promise<number> {
  const { to, write, ...read } = options
  const batches = readTraceBatches(input, read)
  if (to === 'surge') {
    await mkdir(output, { recursive: true })
    return (await writeSurgeFromTrace(output, batches)).requests
  }
  const writer = new TraceWriter(output, { ...write, format: to })
  try {
    for await (const batch of batches) {
      for (const record of batch) {
        const wait = writer.write(record)
        if (wait) await wait
      }
    }
  } finally {
    await writer.close()
  }
  return writer.count
}
