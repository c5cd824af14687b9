// The request record every trace reader yields and every consumer (replay, simulator,
// statistics, converters) takes. Readers stream: they yield records, never whole files.

export type TraceFormat = 'l7' | 'clf' | 'combined' | 'epa' | 'surge'

export interface TraceRecord {
  /** Microseconds from the trace's start (0 for the first record of a timed trace). */
  timeUs: number
  /** User / session / client id (SURGE UE, log host mapped to a number, or 0). */
  user: number
  method: string
  /** Request target as sent: path and optional query string. */
  url: string
  /** Expected response size in bytes (-1 when unknown). */
  size: number
  /** HTTP status from a server log (0 when the source has none). */
  status: number
  /** 1-based line number in the source, for error reports. */
  line: number
}

export interface TraceProblem {
  line: number
  message: string
}
