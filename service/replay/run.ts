// The replay engine. Open loop (timed, rate): each request has a scheduled send time on an
// absolute schedule t0 + offset; the loop sleeps until it, sends, and the latency is measured
// from the scheduled time, so a stalled server cannot hide its stall by slowing the generator
// down (no coordinated omission). Closed loop: users fetch an object's files one after another,
// then wait their OFF time. Requests go out through undici Pools with a minimal handler that
// counts body bytes without buffering them.
import { Pool, type Dispatcher } from 'undici'
import { InvalidArgumentError } from '../core/errors.js'
import { encodeUrlField } from '../trace/l7-format.js'
import type { TraceRecord } from '../trace/types.js'
import { FastPool } from './fast-client.js'
import { initHistograms, summarizeMs } from './histograms.js'
import { RateClock, RecordFeed, TraceClock, sessionsFromRecords, type Clock } from './schedule.js'
import { RunStats, type ErrorKind } from './stats.js'
import type { ObjectSource, ReplayMode, ReplayOptions, ReplayResult, UserObject, UserSession } from './types.js'

const DEFAULT_TIMEOUT_MS = 10_000
/** How long a stopped run (Ctrl-C) waits for requests in flight before giving up on them. */
const ABORT_DRAIN_MS = 500
/** Sends in a row, when behind schedule, before the loop lets I/O in. */
const SENDS_PER_YIELD = 64

interface Target {
  url: string
  /** undici's pool, or the lean client's (one of the two). */
  pool: Pool | undefined
  fast: FastPool | undefined
  /** Path prefix of the base URL ('' for '/'). */
  basePath: string
}

/** Runs a replay to its end (or until `signal` aborts it) and returns the measured results. */
export async function runReplay(options: ReplayOptions): Promise<ReplayResult> {
  if (options.targets.length === 0) throw new InvalidArgumentError('at least one target URL is needed')
  await initHistograms()
  const run = new Run(options)
  try {
    return await run.execute()
  } finally {
    run.dispose()
  }
}

/** One request's undici handler (the legacy handler interface: no header parsing, no wrapper). */
class Exchange implements Dispatcher.DispatchHandler {
  sentMs = 0
  status = 0
  bytes = 0
  headerKeys: string[] | undefined = undefined

  constructor(
    private readonly run: Run,
    readonly target: number,
    readonly scheduledMs: number,
    readonly measured: boolean,
    readonly user: ClosedUser | undefined,
  ) {}

  onConnect(): void {
    // Called as the request is written on a socket (again if undici retries it).
    this.sentMs = performance.now()
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = l7HeaderName(rawHeaders[i])
      if (name !== undefined) (this.headerKeys ??= []).push(`${name}=${rawHeaders[i + 1].toString('latin1')}`)
    }
    return true
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length
    return true
  }

  onComplete(): void {
    this.run.completed(this)
  }

  onError(error: Error): void {
    this.run.failed(this, error)
  }
}

/** 'x-l7-node', 'x-l7-route' or 'x-l7-cache' when the raw header name is one of them. */
function l7HeaderName(name: Buffer): string | undefined {
  if (name.length !== 9 && name.length !== 10) return undefined
  if ((name[0] | 0x20) !== 0x78 || name[1] !== 0x2d || (name[2] | 0x20) !== 0x6c || name[3] !== 0x37 || name[4] !== 0x2d) {
    return undefined
  }
  const lower = name.toString('latin1').toLowerCase()
  return lower === 'x-l7-node' || lower === 'x-l7-route' || lower === 'x-l7-cache' ? lower : undefined
}

/**
 * Calls `fire` at `atMs` (performance.now() time) or after, never before: Node's timers count
 * whole milliseconds from the event loop's cached clock and can fire up to a millisecond
 * early, so an early timer is re-armed. `onArm` receives each timer, for clearTimeout.
 */
function timeoutAt(atMs: number, fire: () => void, onArm: (timer: NodeJS.Timeout) => void): void {
  const check = (): void => {
    const nowMs = performance.now()
    if (nowMs >= atMs) fire()
    else onArm(setTimeout(check, Math.max(1, Math.ceil(atMs - nowMs))))
  }
  check()
}

const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const validMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])

function isMethodToken(method: string): boolean {
  if (validMethods.has(method)) return true
  if (!METHOD_TOKEN.test(method)) return false
  validMethods.add(method)
  return true
}

/**
 * The request target sent for a trace URL: the trace format's own rule (encodeUrlField: a
 * space, control byte or DEL becomes %XX, nothing else changes), so a URL with a space in an
 * access log and its `%20` form in a converted l7 trace are the same request.
 */
export function requestTarget(url: string): string {
  return encodeUrlField(url)
}

/** Reasons a record is skipped, not sent (counted per reason, printed once). */
export const SKIP_ORIGIN_FORM = 'target not in origin form (does not start with /)'
export const SKIP_METHOD_TOKEN = 'method is not an HTTP token'
export const SKIP_WIDE_CHAR = 'target has a character beyond one byte'
const BEYOND_LATIN1 = /[^\u0000-\u00ff]/
export function skipMethodReason(method: string): string {
  return `method ${method} not in the methods sent (a log keeps no request bodies)`
}

export function classifyError(error: Error): ErrorKind {
  switch ((error as { code?: string }).code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect'
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout'
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'reset'
    default:
      return 'other'
  }
}

class Run {
  readonly mode: ReplayMode | undefined
  readonly targets: Target[]
  readonly http10: boolean
  readonly timeoutMs: number
  readonly blocking: boolean
  stats!: RunStats
  t0 = 0
  endMs = Infinity
  readonly maxRequests: number
  stopping = false
  private nextTarget = 0
  private inFlight = 0
  private sendingDone = false
  private onIdle: (() => void) | undefined
  private openLoop: OpenLoop | undefined
  private users: ClosedUser[] = []
  private sendingFinished: Promise<void> = Promise.resolve()
  private onSendingDone: (() => void) | undefined
  private endTimer: NodeJS.Timeout | undefined
  private usersActive = 0
  private lagMaxSinceTick = 0
  private lagWarnedMs = 0
  readonly warnings: string[] = []
  readonly errorSamples = new Map<string, number>()
  readonly client: 'undici' | 'fast'
  /** Methods sent (others skipped); undefined: every method. */
  readonly methods: Set<string> | undefined
  /** Records not sent, by reason. */
  readonly skipped = new Map<string, number>()

  constructor(readonly options: ReplayOptions) {
    this.mode = options.mode
    this.http10 = options.http10 ?? false
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const pipelining = this.http10 ? 1 : (options.pipelining ?? 1)
    this.blocking = pipelining <= 1
    // A closed-loop user has at most one request out: a connection each means no queueing in the pool.
    const closed = options.mode === 'closed' || (options.mode === undefined && options.users !== undefined)
    const connections = options.connections ?? (closed ? (options.users ?? 10) : 10)
    if (!(connections >= 1)) throw new InvalidArgumentError(`connections must be >= 1, got ${connections}`)
    if (!(pipelining >= 1)) throw new InvalidArgumentError(`pipelining must be >= 1, got ${pipelining}`)
    if (!(this.timeoutMs > 0)) throw new InvalidArgumentError(`timeout must be > 0 ms, got ${this.timeoutMs}`)
    this.maxRequests = options.requests ?? Infinity
    if (!(this.maxRequests >= 1)) throw new InvalidArgumentError(`requests must be >= 1, got ${options.requests}`)
    if (options.durationS !== undefined && !(options.durationS > 0)) {
      throw new InvalidArgumentError(`duration must be > 0 s, got ${options.durationS}`)
    }
    // Every URL is checked before any pool exists, so that a bad one leaves nothing open.
    const urls = options.targets.map((text) => {
      let url: URL
      try {
        url = new URL(text)
      } catch {
        throw new InvalidArgumentError(`target is not a URL: ${text}`)
      }
      if (url.protocol !== 'http:') throw new InvalidArgumentError(`target must be an http:// URL: ${text}`)
      return url
    })
    // The lean client wherever it can (keep-alive or HTTP/1.0, one request at a time per connection).
    this.client = options.client ?? (pipelining > 1 ? 'undici' : 'fast')
    const fast = this.client === 'fast'
    if (fast && pipelining > 1) {
      throw new InvalidArgumentError('the fast client sends one request at a time per connection: use --client undici for --pipelining')
    }
    this.methods = options.methods === undefined ? undefined : new Set(options.methods)
    this.targets = urls.map((url, i) => {
      const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
      if (fast) return { url: options.targets[i], pool: undefined, fast: new FastPool(url, connections, this.timeoutMs, this.http10), basePath }
      const pool = new Pool(url.origin, {
        connections,
        pipelining,
        connectTimeout: this.timeoutMs,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      })
      return { url: options.targets[i], pool, fast: undefined, basePath }
    })
  }

  async execute(): Promise<ReplayResult> {
    const { options } = this
    const loop = options.durationS !== undefined || options.requests !== undefined
    let feed: RecordFeed | undefined
    let clock: Clock | undefined
    let objects: ObjectSource | undefined
    let users = 0
    let mode = this.mode
    if (mode === 'closed' || (mode === undefined && (options.sessions || options.objects || options.users !== undefined))) {
      mode = 'closed'
      if (options.objects) {
        objects = options.objects
        users = options.users ?? 0
      } else {
        const sessions = options.sessions ?? (await this.sessionsFromTrace())
        if (sessions.length === 0) throw new InvalidArgumentError('closed mode: no sessions to replay (empty trace?)')
        users = options.users ?? sessions.length
        objects = new SessionObjects(sessions, users, loop)
      }
      if (!(users >= 1 && Number.isInteger(users))) throw new InvalidArgumentError(`closed mode needs users >= 1, got ${options.users}`)
    } else {
      if (!options.records) throw new InvalidArgumentError('records are needed for timed and rate modes')
      mode ??= options.rate !== undefined ? 'rate' : 'timed'
      feed = new RecordFeed(options.records, mode === 'rate' && loop)
      if (!(await feed.refill())) throw new InvalidArgumentError('the trace has no records')
      if (mode === 'timed' && !(await feed.hasTimes())) {
        throw new InvalidArgumentError(
          'the trace has no request times (its records all have the same time), so a timed replay would send them all at once: ' +
            'use --mode rate --rate R or --mode closed --users U',
        )
      }
      clock = this.clockFor(mode)
    }

    const started = new Date()
    const cpuStart = process.cpuUsage()
    this.t0 = performance.now()
    const warmupMs = (options.warmupS ?? 0) * 1000
    this.stats = new RunStats(
      this.targets.map((target) => target.url),
      this.t0 + warmupMs,
    )
    if (options.durationS !== undefined) this.endMs = this.t0 + warmupMs + options.durationS * 1000
    const onAbort = (): void => this.stop()
    options.signal?.addEventListener('abort', onAbort)
    if (options.signal?.aborted) this.stop()
    const ticker = setInterval(() => this.tick(), 1000)
    try {
      if (mode === 'closed') {
        this.startUsers(objects!, users)
        await this.sendingFinished
      } else {
        this.openLoop = new OpenLoop(this, feed!, clock!)
        if (this.stopping) this.openLoop.finish()
        else this.openLoop.pump()
        await this.openLoop.done
        this.sendingDone = true
        if (this.openLoop.error) throw this.openLoop.error
      }
      await this.drain()
    } finally {
      clearInterval(ticker)
      clearTimeout(this.endTimer)
      options.signal?.removeEventListener('abort', onAbort)
    }
    const cpu = process.cpuUsage(cpuStart)
    return this.result(mode, started, cpu)
  }

  private async sessionsFromTrace(): Promise<UserSession[]> {
    const { options } = this
    if (!options.records) throw new InvalidArgumentError('closed mode needs records or sessions')
    const records = typeof options.records === 'function' ? options.records() : options.records
    return sessionsFromRecords(records, {
      objectGapMs: options.objectGapMs ?? 1000,
      offTimeMs: options.offTimeMs,
      speed: options.speed ?? 1,
      maxGapMs: options.maxGapMs ?? Infinity,
    })
  }

  private clockFor(mode: ReplayMode): Clock {
    const { options } = this
    if (mode === 'rate') {
      if (options.rate === undefined) throw new InvalidArgumentError('rate mode needs a rate (requests/s)')
      return new RateClock(options.rate, options.arrivals === 'poisson', options.seed ?? 1)
    }
    return new TraceClock(options.speed ?? 1, options.maxGapMs ?? Infinity)
  }

  /** May another measured request, scheduled at `scheduledMs`, go out? */
  canSend(scheduledMs: number): boolean {
    return !this.stopping && scheduledMs < this.endMs && this.stats.requests < this.maxRequests
  }

  private startUsers(objects: ObjectSource, count: number): void {
    this.usersActive = count
    this.sendingFinished = new Promise((resolve) => (this.onSendingDone = resolve))
    if (Number.isFinite(this.endMs)) {
      // Users asleep in an OFF time at the end would otherwise hold the run open.
      this.endTimer = setTimeout(() => {
        for (const user of this.users) user.cancelSleep()
      }, this.endMs - performance.now())
    }
    for (let id = 0; id < count; id++) this.users.push(new ClosedUser(this, id, objects, this.options.offTimeMs))
    for (let id = 0; id < count; id++) this.users[id].sleep(this.t0 + (objects.startOffsetMs?.(id) ?? 0))
  }

  userFinished(): void {
    if (--this.usersActive === 0) {
      this.sendingDone = true
      this.onSendingDone?.()
    }
  }

  /** The target to send for `record` (before the base path), or undefined: skipped, the reason counted. */
  prepare(record: TraceRecord): string | undefined {
    let reason: string | undefined
    if (this.methods !== undefined && !this.methods.has(record.method)) reason = skipMethodReason(record.method)
    else if (record.url.charCodeAt(0) !== 0x2f) reason = SKIP_ORIGIN_FORM
    else if (!isMethodToken(record.method)) reason = SKIP_METHOD_TOKEN
    else if (BEYOND_LATIN1.test(record.url)) reason = SKIP_WIDE_CHAR
    if (reason === undefined) return requestTarget(record.url)
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1)
    return undefined
  }

  send(record: TraceRecord, target: string, scheduledMs: number, nowMs: number, user: ClosedUser | undefined): void {
    const index = this.nextTarget
    this.nextTarget = index + 1 === this.targets.length ? 0 : index + 1
    const to = this.targets[index]
    const measured = scheduledMs >= this.stats.measureStartMs
    const lagMs = nowMs - scheduledMs
    if (measured) this.stats.countSend(index, lagMs, nowMs)
    else this.stats.warmupRequests++
    if (lagMs > this.lagMaxSinceTick) this.lagMaxSinceTick = lagMs
    this.inFlight++
    const exchange = new Exchange(this, index, scheduledMs, measured, user)
    const path = to.basePath === '' ? target : to.basePath + target
    this.dispatching = true
    // The pool carries the timeouts; only what differs from undici's defaults goes per request.
    const method = record.method as Dispatcher.HttpMethod
    if (to.fast) to.fast.dispatch(path, method, exchange)
    else if (this.http10) to.pool!.dispatch({ path, method, reset: true }, exchange)
    else if (this.blocking) to.pool!.dispatch({ path, method }, exchange)
    else to.pool!.dispatch({ path, method, blocking: false }, exchange)
    this.dispatching = false
  }

  /** True while inside pool.dispatch, which reports a bad request (say, an invalid path) synchronously. */
  private dispatching = false

  /** Lets a closed-loop user go on; deferred when the failure came synchronously out of dispatch, so a bad trace cannot recurse. */
  private resume(user: ClosedUser | undefined, nowMs: number): void {
    if (user === undefined) return
    if (this.dispatching) setImmediate(() => user.done(performance.now()))
    else user.done(nowMs)
  }

  completed(exchange: Exchange): void {
    this.inFlight--
    const nowMs = performance.now()
    if (exchange.measured) {
      this.stats.countResponse(
        exchange.target,
        exchange.status,
        exchange.bytes,
        exchange.scheduledMs,
        exchange.sentMs || exchange.scheduledMs,
        nowMs,
        exchange.headerKeys,
      )
    }
    this.resume(exchange.user, nowMs)
    this.openLoop?.poke(nowMs)
    if (this.inFlight === 0) this.checkIdle()
  }

  failed(exchange: Exchange, error: Error): void {
    this.inFlight--
    const nowMs = performance.now()
    // Requests cut off by our own stop are "unfinished", not the server's errors.
    if (exchange.measured && !this.disposing) {
      const kind = classifyError(error)
      this.stats.countError(exchange.target, kind, nowMs)
      if (this.errorSamples.size < 20) {
        const sample = `${kind}: ${(error as { code?: string }).code ?? error.name}: ${error.message}`
        this.errorSamples.set(sample, (this.errorSamples.get(sample) ?? 0) + 1)
      } else {
        const sample = [...this.errorSamples.keys()].find((key) => key.startsWith(`${kind}:`))
        if (sample) this.errorSamples.set(sample, this.errorSamples.get(sample)! + 1)
      }
    }
    this.resume(exchange.user, nowMs)
    this.openLoop?.poke(nowMs)
    if (this.inFlight === 0) this.checkIdle()
  }

  private disposing = false

  private checkIdle(): void {
    if (this.inFlight === 0 && this.sendingDone && this.onIdle) this.onIdle()
  }

  /** Waits for the requests in flight: up to the timeout (plus a margin), or briefly after a stop. */
  private async drain(): Promise<void> {
    if (this.inFlight === 0) return
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const finish = (): void => {
        clearTimeout(timer)
        this.onIdle = undefined
        this.onStop = undefined
        resolve()
      }
      const arm = (ms: number): void => {
        clearTimeout(timer)
        timer = setTimeout(finish, ms)
      }
      this.onIdle = finish
      this.onStop = () => arm(ABORT_DRAIN_MS)
      arm(this.stopping ? ABORT_DRAIN_MS : this.timeoutMs + 1000)
    })
  }

  private onStop: (() => void) | undefined

  stop(): void {
    if (this.stopping) return
    this.stopping = true
    this.openLoop?.finish()
    for (const user of this.users) user.cancel()
    this.onStop?.()
  }

  private tick(): void {
    const nowMs = performance.now()
    const lag = this.lagMaxSinceTick
    this.lagMaxSinceTick = 0
    const threshold = this.options.lagWarnMs ?? 10
    if (lag > threshold && lag > 2 * this.lagWarnedMs) {
      this.lagWarnedMs = lag
      const message =
        `send lag reached ${lag.toFixed(1)} ms at ${((nowMs - this.t0) / 1000).toFixed(0)} s: the generator is ` +
        'behind its schedule (short of CPU?); latency still counts from the scheduled times'
      this.warnings.push(message)
      this.options.onWarning?.(message)
    }
    if (!this.options.onProgress) return
    const second = Math.floor((nowMs - this.stats.measureStartMs) / 1000) - 1
    const elapsedMs = nowMs - this.t0
    const warmupMs = this.stats.measureStartMs - this.t0
    let fraction = -1
    if (Number.isFinite(this.endMs)) fraction = Math.min(1, elapsedMs / (this.endMs - this.t0))
    if (Number.isFinite(this.maxRequests)) fraction = Math.max(fraction, Math.min(1, this.stats.requests / this.maxRequests))
    this.options.onProgress({
      elapsedS: elapsedMs / 1000,
      fraction: elapsedMs < warmupMs && fraction < 0 ? -1 : fraction,
      requests: this.stats.requests,
      completed: this.stats.ok + this.stats.errors,
      errors: this.stats.errors,
      currentRps: second >= 0 ? this.stats.responsesIn(second) : 0,
      latencyP99Ms: this.stats.latency.totalCount > 0 ? this.stats.latency.getValueAtPercentile(99) / 1000 : 0,
      sendLagMaxMs: lag,
    })
  }

  private result(mode: ReplayMode, started: Date, cpu: NodeJS.CpuUsage): ReplayResult {
    const { stats } = this
    const durationMs = Math.max(0, stats.lastCompletionMs - stats.measureStartMs)
    const responses = stats.statusClasses.reduce((sum, count) => sum + count, 0)
    const problems = this.options.traceProblems ?? []
    const warnings = [...this.warnings]
    for (const [sample, count] of this.errorSamples) warnings.push(`${count} x ${sample}`)
    return {
      mode,
      client: this.client,
      targets: this.targets.map((target) => target.url),
      connectionStyle: this.http10 ? 'http1.0' : 'keep-alive',
      startedAt: started.toISOString(),
      durationS: durationMs / 1000,
      requests: stats.requests,
      ok: stats.ok,
      errors: stats.errors,
      errorsByKind: { ...stats.errorsByKind },
      statusClasses: stats.statusClassCounts(),
      unfinished: stats.requests - stats.ok - stats.errors,
      warmupRequests: stats.warmupRequests,
      throughputRps: durationMs > 0 ? Math.round((responses / durationMs) * 1000 * 10) / 10 : 0,
      bytes: stats.bytes,
      latencyMs: summarizeMs(stats.latency),
      serviceMs: summarizeMs(stats.service),
      sendLagMs: summarizeMs(stats.sendLag),
      cpuUsPerRequest: stats.requests > 0 ? Math.round(((cpu.user + cpu.system) / stats.requests) * 100) / 100 : 0,
      cpuUs: { user: cpu.user, system: cpu.system },
      ...stats.groups(),
      timeline: stats.timeline(),
      warnings,
      skipped: Object.fromEntries(this.skipped),
      traceProblems: { count: problems.length, first: problems.slice(0, 5) },
      histograms: stats.encoded(),
    }
  }

  dispose(): void {
    this.disposing = true
    this.stop()
    for (const target of this.targets) {
      target.pool?.destroy().catch(() => {})
      target.fast?.destroy()
    }
    // Histograms exist only once execute() got past its checks.
    ;(this.stats as RunStats | undefined)?.destroy()
  }
}

/**
 * The open-loop sender: sends every request whose scheduled time has come, woken by a timer
 * armed for the next one or, at high rates, by the completion of an earlier request (one
 * wake-up then serves both, and the send is more punctual than a millisecond timer).
 */
class OpenLoop {
  private pending: TraceRecord | undefined
  /** The request target of `pending`. */
  private pendingTarget = ''
  /** Scheduled time of `pending` (Infinity when there is none). */
  private pendingAtMs = Infinity
  private timer: NodeJS.Timeout | undefined
  private timerAtMs = Infinity
  private refilling = false
  private yielding = false
  private pumping = false
  private finished = false
  error: unknown
  readonly done: Promise<void>
  private resolveDone!: () => void

  constructor(
    private readonly run: Run,
    private readonly feed: RecordFeed,
    private readonly clock: Clock,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve))
  }

  /** A request completed at `nowMs`: send what has come due meanwhile. */
  poke(nowMs: number): void {
    if (nowMs >= this.pendingAtMs) this.pump()
  }

  /** Sends everything due, then arms the timer for the next request. */
  pump(): void {
    // Not re-entered: a request that fails inside dispatch pokes the loop that is sending it.
    if (this.finished || this.yielding || this.pumping) return
    this.pumping = true
    try {
      this.sendDue()
    } finally {
      this.pumping = false
    }
  }

  private sendDue(): void {
    let nowMs = performance.now()
    for (let sent = 0; ; ) {
      if (this.pending === undefined) {
        const record = this.feed.take()
        if (record === undefined) return this.refill()
        const target = this.run.prepare(record)
        if (target === undefined) continue
        const atMs = this.run.t0 + this.clock.offsetMs(record)
        if (!this.run.canSend(atMs)) return this.finish()
        this.pending = record
        this.pendingTarget = target
        this.pendingAtMs = atMs
      }
      if (this.pendingAtMs > nowMs) return this.arm(this.pendingAtMs)
      const record = this.pending
      const atMs = this.pendingAtMs
      this.pending = undefined
      this.pendingAtMs = Infinity
      this.run.send(record, this.pendingTarget, atMs, nowMs, undefined)
      nowMs = performance.now()
      if (++sent >= SENDS_PER_YIELD) {
        // Behind schedule: keep sending, but let responses be read meanwhile.
        this.yielding = true
        setImmediate(() => {
          this.yielding = false
          this.pump()
        })
        return
      }
    }
  }

  private arm(atMs: number): void {
    // An earlier timer still comes first; the pump re-arms when it fires (early fires included).
    if (this.timer !== undefined && this.timerAtMs <= atMs) return
    clearTimeout(this.timer)
    this.timerAtMs = atMs
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(atMs - performance.now())))
  }

  private readonly onTimer = (): void => {
    this.timer = undefined
    this.timerAtMs = Infinity
    this.pump()
  }

  private refill(): void {
    if (this.refilling) return
    this.refilling = true
    this.feed.refill().then(
      (more) => {
        this.refilling = false
        if (more) this.pump()
        else this.finish()
      },
      (error: unknown) => {
        this.refilling = false
        this.error = error
        this.finish()
      },
    )
  }

  finish(): void {
    if (this.finished) return
    this.finished = true
    clearTimeout(this.timer)
    this.timer = undefined
    this.pendingAtMs = Infinity
    this.resolveDone()
  }
}

/**
 * Sessions played by closed-loop users: user `id` of `count` plays sessions id, id + count,
 * id + 2 count, ... (wrapping around when the run loops; once each otherwise, and at least
 * one session per user).
 */
class SessionObjects implements ObjectSource {
  private readonly position: Array<{ session: number; object: number }> = []
  private readonly lastSession: number

  constructor(
    private readonly sessions: UserSession[],
    private readonly count: number,
    private readonly loop: boolean,
  ) {
    for (const session of sessions) {
      if (!session.objects.some((object) => object.records.length > 0)) {
        throw new InvalidArgumentError('closed mode: a session without any request')
      }
    }
    this.lastSession = Math.max(sessions.length, count)
  }

  nextObject(user: number): UserObject | undefined {
    const at = (this.position[user] ??= { session: user, object: 0 })
    for (;;) {
      if (!this.loop && at.session >= this.lastSession) return undefined
      const session = this.sessions[at.session % this.sessions.length]
      if (at.object < session.objects.length) return session.objects[at.object++]
      at.object = 0
      at.session += this.count
    }
  }
}

/**
 * A closed-loop user: fetches the files of an object one after another (each sent when the
 * previous one completes), then sleeps the object's OFF time, then takes the next object.
 */
class ClosedUser {
  private object: UserObject | undefined
  private recordIndex = 0
  private timer: NodeJS.Timeout | undefined
  private finished = false

  constructor(
    private readonly run: Run,
    private readonly id: number,
    private readonly objects: ObjectSource,
    private readonly fixedOffMs: number | undefined,
  ) {}

  /** Sends the next file, scheduled at `scheduledMs` (now, or the end of an OFF time). */
  next(scheduledMs: number): void {
    // Objects without files are skipped; a source that gives nothing else would spin forever.
    for (let empty = 0; empty < 10_000; ) {
      const object = this.object
      if (object !== undefined && this.recordIndex < object.records.length) {
        if (!this.run.canSend(scheduledMs)) return this.finish()
        const record = object.records[this.recordIndex++]
        const target = this.run.prepare(record)
        if (target === undefined) {
          empty++ // skipped requests, like empty objects, must not spin forever
          continue
        }
        this.run.send(record, target, scheduledMs, performance.now(), this)
        return
      }
      this.object = undefined
      this.recordIndex = 0
      const offMs = object === undefined ? 0 : (this.fixedOffMs ?? object.offMs)
      if (offMs > 0) return this.sleep(scheduledMs + offMs)
      this.object = this.objects.nextObject(this.id)
      if (this.object === undefined) return this.finish()
      if (this.object.records.length === 0) empty++
    }
    this.finish()
  }

  /** Starts the user at `atMs`. */
  sleep(atMs: number): void {
    timeoutAt(
      atMs,
      () => {
        this.timer = undefined
        this.object = this.objects.nextObject(this.id)
        if (this.object === undefined) this.finish()
        else this.next(atMs)
      },
      (timer) => (this.timer = timer),
    )
  }

  /** The user's request completed (or failed) at `nowMs`. */
  done(nowMs: number): void {
    if (!this.finished) this.next(nowMs)
  }

  /** Stops the user (its request in flight, if any, still completes). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.finish()
  }

  /** Stops the user if it is asleep in an OFF time. */
  cancelSleep(): void {
    if (this.timer) this.cancel()
  }

  private finish(): void {
    if (this.finished) return
    this.finished = true
    this.run.userFinished()
  }
}
