// Helpers shared by the specs that read traces (trace reader and writer, SURGE directories).
import { readTrace } from './reader.js'
import type { TraceRecord } from './types.js'

/** Every record of a trace, in order (Array.fromAsync needs Node 22). */
export async function readAllRecords(path: string, options: Parameters<typeof readTrace>[1] = {}): Promise<TraceRecord[]> {
  const records: TraceRecord[] = []
  for await (const record of readTrace(path, options)) records.push(record)
  return records
}
