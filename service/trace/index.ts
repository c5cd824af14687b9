// The trace library's public face: readers for every format, our format's writer, detection.
export type { TraceFormat, TraceProblem, TraceRecord } from './types.js'
export { readTrace, readTraceBatches, type ReadTraceOptions } from './reader.js'
export { TraceWriter, writeTrace, lineFormatter, type LineFormat, type TraceWriterOptions } from './writer.js'
export { formatTraceRecord, parseL7Line, encodeUrlField, L7_HEADER } from './l7-format.js'
export { detectTraceFormat, detectFormatFromLines, TRACE_FORMATS } from './detect.js'
export { EPA_DEFAULT_DATE, type EpaDate } from './access-log.js'
