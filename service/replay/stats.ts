// Everything a replay run counts: overall histograms (latency from the scheduled send,
// service time, send lag), counters by error kind and status class, and the same counts sliced
// per target, per X-L7-* header value and per response-size class; responses per second.
import { encodeHistogram, newHistogram, recordMs, summarizeMs, type Histogram } from './histograms.js'
import type { ErrorCounts, GroupResult, TimelinePoint } from './types.js'

export type ErrorKind = 'connect' | 'timeout' | 'reset' | 'other'

/** Counts and latency of one slice (a target, a header value, a size class). */
export class Group {
  requests = 0
  ok = 0
  errors = 0
  bytes = 0
  readonly latency: Histogram = newHistogram()

  constructor(readonly key: string) {}

  result(): GroupResult {
    const { key, requests, ok, errors, bytes } = this
    return { key, requests, ok, errors, bytes, latencyMs: summarizeMs(this.latency) }
  }
}

const SIZE_CLASSES: Array<[limit: number, key: string]> = [
  [1024, '<1KB'],
  [10 * 1024, '1KB-10KB'],
  [100 * 1024, '10KB-100KB'],
  [1024 * 1024, '100KB-1MB'],
  [Infinity, '>=1MB'],
]

export class RunStats {
  readonly latency = newHistogram()
  readonly service = newHistogram()
  readonly sendLag = newHistogram()
  readonly perTarget: Group[]
  readonly perSize: Group[] = SIZE_CLASSES.map(([, key]) => new Group(key))
  readonly perHeader = new Map<string, Group>()
  readonly errorsByKind: ErrorCounts = { connect: 0, timeout: 0, reset: 0, other: 0, status4xx: 0, status5xx: 0 }
  /** Index = status / 100 (0 unused). */
  readonly statusClasses = [0, 0, 0, 0, 0, 0]
  requests = 0
  warmupRequests = 0
  ok = 0
  errors = 0
  bytes = 0
  /** performance.now() of the last completion that was recorded. */
  lastCompletionMs = 0
  private readonly responsesPerSecond: number[] = []
  private readonly errorsPerSecond: number[] = []
  private readonly lagMaxPerSecond: number[] = []

  constructor(
    targets: string[],
    /** performance.now() at which measurement starts (end of the warm-up). */
    readonly measureStartMs: number,
  ) {
    this.perTarget = targets.map((target) => new Group(target))
  }

  countSend(target: number, lagMs: number, nowMs: number): void {
    this.requests++
    this.perTarget[target].requests++
    recordMs(this.sendLag, lagMs)
    const second = Math.floor((nowMs - this.measureStartMs) / 1000)
    if (second >= 0 && !(lagMs <= (this.lagMaxPerSecond[second] ?? 0))) this.lagMaxPerSecond[second] = lagMs
  }

  countResponse(
    target: number,
    status: number,
    bytes: number,
    scheduledMs: number,
    sentMs: number,
    nowMs: number,
    headerKeys: string[] | undefined,
  ): void {
    const ok = status < 400
    const latencyMs = nowMs - scheduledMs
    recordMs(this.latency, latencyMs)
    recordMs(this.service, nowMs - sentMs)
    const klass = Math.floor(status / 100)
    if (klass >= 1 && klass <= 5) this.statusClasses[klass]++
    if (ok) this.ok++
    else {
      this.errors++
      if (klass === 4) this.errorsByKind.status4xx++
      else if (klass === 5) this.errorsByKind.status5xx++
      else this.errorsByKind.other++
    }
    this.bytes += bytes
    this.countInGroup(this.perTarget[target], ok, bytes, latencyMs)
    const sizeGroup = this.sizeGroup(bytes)
    sizeGroup.requests++
    this.countInGroup(sizeGroup, ok, bytes, latencyMs)
    if (headerKeys !== undefined) {
      for (const key of headerKeys) {
        let group = this.perHeader.get(key)
        if (!group) {
          group = new Group(key)
          this.perHeader.set(key, group)
        }
        group.requests++
        this.countInGroup(group, ok, bytes, latencyMs)
      }
    }
    this.tick(nowMs, ok)
  }

  countError(target: number, kind: ErrorKind, nowMs: number): void {
    this.errors++
    this.errorsByKind[kind]++
    this.perTarget[target].errors++
    this.tick(nowMs, false)
  }

  private countInGroup(group: Group, ok: boolean, bytes: number, latencyMs: number): void {
    if (ok) group.ok++
    else group.errors++
    group.bytes += bytes
    recordMs(group.latency, latencyMs)
  }

  private sizeGroup(bytes: number): Group {
    for (let i = 0; i < SIZE_CLASSES.length; i++) if (bytes < SIZE_CLASSES[i][0]) return this.perSize[i]
    return this.perSize[SIZE_CLASSES.length - 1]
  }

  private tick(nowMs: number, ok: boolean): void {
    this.lastCompletionMs = nowMs
    const second = Math.floor((nowMs - this.measureStartMs) / 1000)
    if (second < 0) return
    this.responsesPerSecond[second] = (this.responsesPerSecond[second] ?? 0) + 1
    if (!ok) this.errorsPerSecond[second] = (this.errorsPerSecond[second] ?? 0) + 1
  }

  /** Responses and errors completed in the given measured second. */
  responsesIn(second: number): number {
    return this.responsesPerSecond[second] ?? 0
  }

  lagMaxIn(second: number): number {
    return this.lagMaxPerSecond[second] ?? 0
  }

  timeline(): TimelinePoint[] {
    const seconds = Math.max(this.responsesPerSecond.length, this.lagMaxPerSecond.length)
    const points: TimelinePoint[] = []
    for (let second = 0; second < seconds; second++) {
      points.push({
        second,
        responses: this.responsesPerSecond[second] ?? 0,
        errors: this.errorsPerSecond[second] ?? 0,
        sendLagMaxMs: Math.round((this.lagMaxPerSecond[second] ?? 0) * 1000) / 1000,
      })
    }
    return points
  }

  statusClassCounts(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (let klass = 1; klass <= 5; klass++) if (this.statusClasses[klass] > 0) counts[`${klass}xx`] = this.statusClasses[klass]
    return counts
  }

  groups(): { perTarget: GroupResult[]; perHeader: GroupResult[]; perSizeClass: GroupResult[] } {
    return {
      perTarget: this.perTarget.map((group) => group.result()),
      perHeader: [...this.perHeader.values()].sort((a, b) => a.key.localeCompare(b.key)).map((group) => group.result()),
      perSizeClass: this.perSize.filter((group) => group.requests > 0).map((group) => group.result()),
    }
  }

  encoded(): { latencyUs: string; serviceUs: string; sendLagUs: string } {
    return {
      latencyUs: encodeHistogram(this.latency),
      serviceUs: encodeHistogram(this.service),
      sendLagUs: encodeHistogram(this.sendLag),
    }
  }

  /** Frees the Wasm histograms; the object is unusable afterwards. */
  destroy(): void {
    this.latency.destroy()
    this.service.destroy()
    this.sendLag.destroy()
    for (const group of [...this.perTarget, ...this.perSize, ...this.perHeader.values()]) group.latency.destroy()
  }
}
