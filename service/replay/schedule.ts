// Where each request's send time comes from. Open-loop clocks give every request an offset
// from the run's start t0 (an absolute schedule: a late wake-up never shifts later requests);
// closed-loop sessions give each user its objects and OFF times.
import { InvalidArgumentError } from '../core/errors.js'
import { mulberry32 } from '../core/random.js'
import type { TraceRecord } from '../trace/types.js'
import type { RecordIterable, RecordSource, UserSession } from './types.js'

/** A looping feed keeps a pass of up to this many records in memory and loops over it. */
const PASS_CACHE_LIMIT = 1_000_000

/**
 * Pulls records from a source in chunks, so that the send loop takes them synchronously and
 * awaits only when a chunk runs out. With `loop`, the records go round again at the end: from
 * memory when the whole pass fit in PASS_CACHE_LIMIT records, else by opening the source again.
 */
export class RecordFeed {
  private buffer: TraceRecord[] = []
  private index = 0
  private iterator: Iterator<TraceRecord> | AsyncIterator<TraceRecord> | undefined
  private passRecords = 0
  /** The current pass while it is small enough to keep. */
  private pass: TraceRecord[] | undefined
  /** A whole pass in memory: later passes loop over it. */
  private cachedPass: TraceRecord[] | undefined
  private done = false

  constructor(
    private readonly source: RecordSource,
    private readonly loop: boolean,
  ) {
    this.pass = loop ? [] : undefined
  }

  /** The next buffered record, or undefined when `refill()` must be awaited. */
  take(): TraceRecord | undefined {
    if (this.index < this.buffer.length) return this.buffer[this.index++]
    // Looping over a pass held in memory needs no refill: wrap around synchronously (a refill
    // is a promise and a turn of the event loop, per pass: per request for a one-line trace).
    if (this.buffer === this.cachedPass) {
      this.index = 1
      return this.buffer[0]
    }
    return undefined
  }

  /**
   * Whether the records carry request times (not all the same time). A busy log can have
   * thousands of requests in its first second: while the buffered records share one time,
   * more are read into the buffer (up to `limit`), so the answer does not hang on the chunk size.
   */
  async hasTimes(limit = 100_000): Promise<boolean> {
    const first = this.buffer[this.index]?.timeUs
    if (first === undefined) return false
    for (let i = this.index; ; i++) {
      if (i === this.buffer.length) {
        if (this.buffer.length - this.index >= limit || this.cachedPass) return false
        const before = this.buffer.length
        await this.read(this.buffer, before + 512)
        if (this.buffer.length === before) return false
      }
      if (this.buffer[i].timeUs !== first) return true
    }
  }

  /** Refills the buffer; false when the source is exhausted (and not looping). */
  async refill(chunk = 512): Promise<boolean> {
    this.index = 0
    if (this.cachedPass) {
      this.buffer = this.cachedPass
      return true
    }
    this.buffer = []
    await this.read(this.buffer, chunk)
    return this.buffer.length > 0
  }

  /** Appends records to `buffer` until it holds `length` (or a pass ends). */
  private async read(buffer: TraceRecord[], length: number): Promise<void> {
    while (!this.done && buffer.length < length) {
      this.iterator ??= openIterator(this.source)
      const next = this.iterator.next()
      // Sync sources (arrays, generators) are read without a microtask per record.
      const step = 'then' in next ? await next : next
      if (!step.done) {
        buffer.push(step.value)
        this.passRecords++
        if (this.pass) {
          this.pass.push(step.value)
          if (this.pass.length > PASS_CACHE_LIMIT) this.pass = undefined
        }
        continue
      }
      this.iterator = undefined
      const empty = this.passRecords === 0
      this.passRecords = 0
      if (!this.loop || empty) {
        // A pass that gave nothing would loop forever.
        this.done = true
      } else if (this.pass) {
        this.cachedPass = this.pass
        this.pass = undefined
        if (buffer.length === 0) this.buffer = this.cachedPass
        break
      } else if (typeof this.source !== 'function' && !Array.isArray(this.source)) {
        // Too big to keep, and a generator or stream cannot be read twice.
        this.done = true
      }
    }
  }
}

function openIterator(source: RecordSource): Iterator<TraceRecord> | AsyncIterator<TraceRecord> {
  const iterable: RecordIterable = typeof source === 'function' ? source() : source
  if (Symbol.asyncIterator in iterable) return iterable[Symbol.asyncIterator]()
  return iterable[Symbol.iterator]()
}

/** Gives each record its send offset from t0, in ms. */
export interface Clock {
  offsetMs(record: TraceRecord): number
}

/**
 * The trace's own timing: offset_i = sum of the gaps (each clamped to maxGap, negative gaps of
 * out-of-order logs taken as 0) divided by speed. Computed, never slept, so nothing drifts.
 */
export class TraceClock implements Clock {
  private previousUs = Number.NaN
  private offsetTraceMs = 0

  constructor(
    private readonly speed: number,
    private readonly maxGapMs: number,
  ) {
    if (!(speed > 0)) throw new InvalidArgumentError(`speed must be > 0, got ${speed}`)
    if (!(maxGapMs > 0)) throw new InvalidArgumentError(`max gap must be > 0 ms, got ${maxGapMs}`)
  }

  offsetMs(record: TraceRecord): number {
    if (!Number.isNaN(this.previousUs)) {
      const gapMs = Math.max(0, (record.timeUs - this.previousUs) / 1000)
      this.offsetTraceMs += Math.min(gapMs, this.maxGapMs)
    }
    this.previousUs = record.timeUs
    return this.offsetTraceMs / this.speed
  }
}

/** A fixed rate: evenly spaced, or Poisson (exponential gaps from a seeded generator). */
export class RateClock implements Clock {
  private count = 0
  private offset = 0
  private readonly random: () => number

  constructor(
    private readonly rate: number,
    private readonly poisson: boolean,
    seed: number,
  ) {
    if (!(rate > 0)) throw new InvalidArgumentError(`rate must be > 0 requests/s, got ${rate}`)
    this.random = mulberry32(seed)
  }

  offsetMs(): number {
    if (!this.poisson) return (this.count++ * 1000) / this.rate
    const at = this.offset
    this.offset += (-Math.log(1 - this.random()) * 1000) / this.rate
    return at
  }
}

/**
 * Sessions from a trace for closed mode: records grouped by `user`, in trace order; a gap of
 * at least `objectGapMs` between two of a user's requests ends an object, and (divided by
 * speed, clamped to maxGap) is its OFF time; `offTimeMs` replaces every OFF time when given.
 */
export async function sessionsFromRecords(
  records: RecordIterable,
  options: { objectGapMs: number; offTimeMs?: number; speed: number; maxGapMs: number },
): Promise<UserSession[]> {
  const byUser = new Map<number, { session: UserSession; lastUs: number }>()
  for await (const record of records) {
    let user = byUser.get(record.user)
    if (!user) {
      user = { session: { objects: [{ records: [], offMs: 0 }] }, lastUs: record.timeUs }
      byUser.set(record.user, user)
    }
    const objects = user.session.objects
    const gapMs = (record.timeUs - user.lastUs) / 1000
    const current = objects[objects.length - 1]
    if (current.records.length > 0 && gapMs >= options.objectGapMs) {
      current.offMs = Math.min(gapMs, options.maxGapMs) / options.speed
      objects.push({ records: [record], offMs: 0 })
    } else {
      current.records.push(record)
    }
    user.lastUs = Math.max(user.lastUs, record.timeUs)
  }
  const sessions = [...byUser.values()].map((user) => user.session)
  if (options.offTimeMs !== undefined) {
    for (const session of sessions) for (const object of session.objects) object.offMs = options.offTimeMs
  }
  return sessions
}
