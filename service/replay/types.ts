// Options and results of a replay run (`runReplay`, `l7 replay`). Times in the options are
// milliseconds unless the name says otherwise; latencies in the results are milliseconds.
import type { TraceProblem, TraceRecord } from '../trace/types.js'

/** Anything records can be read from: an array, a generator, or an async trace reader. */
export type RecordIterable = Iterable<TraceRecord> | AsyncIterable<TraceRecord>

/**
 * Where the records come from. A function is called again for each pass when the run loops
 * over the trace (rate and closed modes with a duration or a request count beyond the trace).
 */
export type RecordSource = RecordIterable | (() => RecordIterable)

export type ReplayMode = 'timed' | 'rate' | 'closed'
export type Arrivals = 'constant' | 'poisson'

/** One object of a closed-loop user: files fetched one after another, then an OFF time. */
export interface UserObject {
  records: TraceRecord[]
  /** Think time after the object's last file completes, ms. */
  offMs: number
}

/** A closed-loop user's sequence of objects (a SURGE UE, or one user's session in a log). */
export interface UserSession {
  objects: UserObject[]
}

/** Closed mode: hands each user its next object; undefined ends that user. */
export interface ObjectSource {
  nextObject(user: number): UserObject | undefined
  /** When the user starts, ms after t0 (spreads users out); 0 when absent. */
  startOffsetMs?(user: number): number
}

export interface ReplayOptions {
  /** Records to replay (needed unless `sessions` is given for closed mode). */
  records?: RecordSource
  /** Closed mode: prepared sessions; otherwise built from `records` (grouped by user). */
  sessions?: UserSession[]
  /** Closed mode: objects handed out to users as they go (SURGE user equivalents). */
  objects?: ObjectSource
  /** Base URLs; requests are spread over them round robin (one URL: all to one address). */
  targets: string[]
  /** Default: 'timed' when the records carry times, else an error asks for rate or closed. */
  mode?: ReplayMode
  /** Timed mode: trace time runs this many times faster (2 = twice as fast). Default 1. */
  speed?: number
  /** Timed mode: idle stretches of the trace longer than this are cut to it (trace ms). */
  maxGapMs?: number
  /** Rate mode: requests per second. */
  rate?: number
  /** Rate mode: evenly spaced or Poisson arrivals. Default constant. */
  arrivals?: Arrivals
  /** Seed of the Poisson arrivals' generator (runs repeat exactly). Default 1. */
  seed?: number
  /** Closed mode: number of users. */
  users?: number
  /** Closed mode: a fixed OFF time after every object, replacing the trace's own. */
  offTimeMs?: number
  /** Closed mode, sessions from a trace: a gap at least this long starts a new object. Default 1000. */
  objectGapMs?: number
  /** Measured seconds (after the warm-up). Default: one pass over the trace. */
  durationS?: number
  /** Measured requests to send (after the warm-up). */
  requests?: number
  /** Seconds at the start whose requests are sent but not recorded. */
  warmupS?: number
  /** A new connection per request with `Connection: close`, as SURGE's HTTP/1.0 client. */
  http10?: boolean
  /** Connections per target (keep-alive pool size, or the cap on concurrent connections). */
  connections?: number
  /**
   * HTTP client: 'fast' (default unless pipelining), a lean HTTP/1.x client (keep-alive or one
   * connection per request, one request at a time per connection), or undici's pools (every
   * connection style, pipelining included).
   */
  client?: 'undici' | 'fast'
  /** Methods sent; records with another method are skipped and counted. Default: every method. */
  methods?: string[]
  /** Requests in flight per keep-alive connection. Default 1. */
  pipelining?: number
  /** Per-request timeout (headers and between body chunks), ms. Default 10000. */
  timeoutMs?: number
  /** Send lag that raises a warning (the generator falling behind its schedule), ms. Default 10. */
  lagWarnMs?: number
  /** Stops the run; the results so far are returned. */
  signal?: AbortSignal
  /** Called about once a second while the run goes. */
  onProgress?: (progress: ReplayProgress) => void
  /** Called when the send lag grows past `lagWarnMs` (and again each time it doubles). */
  onWarning?: (message: string) => void
  /** Problems the trace reader reports during the run (a live list, read at the end). */
  traceProblems?: TraceProblem[]
}

export interface ReplayProgress {
  elapsedS: number
  /** Fraction of the run done, 0..1, or -1 when unknown (a streamed trace without limits). */
  fraction: number
  requests: number
  completed: number
  errors: number
  /** Responses in the last second. */
  currentRps: number
  latencyP99Ms: number
  sendLagMaxMs: number
}

export interface LatencySummary {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
  p9999: number
  max: number
}

/** Counts and latency of one slice of the run: a target, a header value, a size class. */
export interface GroupResult {
  key: string
  requests: number
  ok: number
  errors: number
  bytes: number
  latencyMs: LatencySummary
}

export interface ErrorCounts {
  connect: number
  timeout: number
  reset: number
  other: number
  /** Responses with a 4xx status. */
  status4xx: number
  /** Responses with a 5xx status. */
  status5xx: number
}

export interface TimelinePoint {
  /** Second of the measured run (0 = first). */
  second: number
  responses: number
  errors: number
  sendLagMaxMs: number
}

export interface ReplayResult {
  mode: ReplayMode
  client: 'undici' | 'fast'
  targets: string[]
  connectionStyle: 'keep-alive' | 'http1.0'
  startedAt: string
  /** Measured wall time: from the end of the warm-up to the last completion, seconds. */
  durationS: number
  /** Measured requests sent. */
  requests: number
  /** Responses with a 1xx-3xx status. */
  ok: number
  errors: number
  errorsByKind: ErrorCounts
  statusClasses: Record<string, number>
  /** Sent but neither answered nor failed when the run stopped (Ctrl-C, drain limit). */
  unfinished: number
  warmupRequests: number
  throughputRps: number
  bytes: number
  /** From the scheduled send time to the end of the response (no coordinated omission). */
  latencyMs: LatencySummary
  /** From the request's write on the socket to the end of the response. */
  serviceMs: LatencySummary
  /** Actual send minus scheduled send: how far the generator itself lags. */
  sendLagMs: LatencySummary
  cpuUsPerRequest: number
  cpuUs: { user: number; system: number }
  perTarget: GroupResult[]
  /** Per value of X-L7-Node, X-L7-Route and X-L7-Cache (keys `x-l7-node=3`, ...). */
  perHeader: GroupResult[]
  perSizeClass: GroupResult[]
  timeline: TimelinePoint[]
  warnings: string[]
  /** Trace records not sent, by reason (a method not sent, a target that is not a path). */
  skipped: Record<string, number>
  traceProblems: { count: number; first: TraceProblem[] }
  /** HdrHistograms (microseconds) compressed as base64, to merge runs. */
  histograms: { latencyUs: string; serviceUs: string; sendLagUs: string }
}
