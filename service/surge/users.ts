// SURGE user equivalents (UEs): each takes the next object of the shared request sequence,
// fetches its files in order (base first; with active OFF gaps between them if enabled), then
// thinks for an inactive OFF time. OFF times come from each user's own seeded stream, so they do
// not depend on how users interleave. The replay tool drives SurgeUsers in real time (closed
// loop); surgeTraceRecords runs them with zero service time to make a timed trace.
import type { TraceRecord } from '../trace/types.js'
import { paretoSample, weibullSample } from './distributions.js'
import { surgeUrl } from './files.js'
import type { SurgeWorkload } from './generate.js'
import { Random } from './random.js'

export interface SurgeVisit {
  /** Object index (objout.txt line) and its position in the sequence (name.txt line, 0-based). */
  object: number
  position: number
  files: { url: string; size: number }[]
  /** Wait before each file after the first, microseconds (active OFF; zeros when disabled). */
  gapsUs: number[]
  /** Think time after the object's last file, microseconds (inactive OFF). */
  thinkUs: number
}

/** The shared cursor over the request sequence; `wrap` starts it again at the end. */
export class SurgeSequenceCursor {
  private position = 0
  constructor(
    private readonly workload: SurgeWorkload,
    private readonly wrap = false,
  ) {}

  next(): { object: number; position: number } | undefined {
    const sequence = this.workload.sequence
    if (this.position >= sequence.length) {
      if (!this.wrap || sequence.length === 0) return undefined
      this.position = 0
    }
    const position = this.position++
    return { object: sequence[position], position }
  }
}

export class SurgeUser {
  private readonly rng: Random
  /** When the user starts, microseconds: spread over the think time's minimum so UEs do not start in lockstep. */
  readonly startUs: number

  constructor(
    private readonly workload: SurgeWorkload,
    readonly id: number,
    private readonly cursor: SurgeSequenceCursor,
  ) {
    this.rng = new Random(workload.params.seed, `user:${id}`)
    this.startUs = Math.round(this.rng.uniform() * workload.params.inactiveOff.k * 1e6)
  }

  /** Draws one inactive OFF time (think time), microseconds. */
  drawThinkUs(): number {
    return Math.round(paretoSample(this.rng, this.workload.params.inactiveOff) * 1e6)
  }

  /** Draws one active OFF time (gap between a base file and an embedded one), microseconds. */
  drawActiveOffUs(): number {
    const active = this.workload.params.activeOff
    return active ? Math.round(weibullSample(this.rng, active) * 1e6) : 0
  }

  /** The next object to fetch, with the OFF times around it; undefined when the sequence is done. */
  nextVisit(): SurgeVisit | undefined {
    const next = this.cursor.next()
    if (!next) return undefined
    const fileIndices = this.workload.objects[next.object]
    const files = fileIndices.map((f) => ({ url: surgeUrl(f), size: this.workload.files[f].size }))
    const gapsUs = fileIndices.slice(1).map(() => this.drawActiveOffUs())
    return { object: next.object, position: next.position, files, gapsUs, thinkUs: this.drawThinkUs() }
  }
}

export function createSurgeUsers(workload: SurgeWorkload, users: number, options: { wrap?: boolean } = {}): SurgeUser[] {
  const cursor = new SurgeSequenceCursor(workload, options.wrap ?? false)
  return Array.from({ length: users }, (_, id) => new SurgeUser(workload, id, cursor))
}

interface Pending {
  timeUs: number
  /** Sequence position of the visit in progress; idle users sort after any visit at the same time. */
  position: number
  user: number
}

function before(a: Pending, b: Pending): boolean {
  return a.timeUs !== b.timeUs ? a.timeUs < b.timeUs : a.position !== b.position ? a.position < b.position : a.user < b.user
}

class MinHeap {
  private readonly items: Pending[] = []
  get size(): number {
    return this.items.length
  }
  push(item: Pending): void {
    const items = this.items
    let i = items.push(item) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i], items[parent])) break
      ;[items[i], items[parent]] = [items[parent], items[i]]
      i = parent
    }
  }
  pop(): Pending {
    const items = this.items
    const top = items[0]
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && before(items[l], items[m])) m = l
        if (r < items.length && before(items[r], items[m])) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m], items[i]]
        i = m
      }
    }
    return top
  }
}

/**
 * The workload as a timed trace for `users` UEs with zero service time, in time order. Without
 * active OFF times an object's files share one time and come out together, so the URLs follow
 * the sequence exactly (what SURGE's files give when read back).
 */
export function* surgeTraceRecords(workload: SurgeWorkload, options: { users: number }): Generator<TraceRecord> {
  const users = createSurgeUsers(workload, options.users)
  const visits: (SurgeVisit | undefined)[] = users.map(() => undefined)
  const nextFile = users.map(() => 0)
  const heap = new MinHeap()
  for (const u of users) heap.push({ timeUs: u.startUs, position: Infinity, user: u.id })
  while (heap.size > 0) {
    const at = heap.pop()
    let visit = visits[at.user]
    if (!visit) {
      visit = users[at.user].nextVisit()
      if (!visit) continue
      visits[at.user] = visit
      nextFile[at.user] = 0
    }
    const i = nextFile[at.user]++
    const file = visit.files[i]
    yield { timeUs: at.timeUs, user: at.user, method: 'GET', url: file.url, size: file.size, status: 0, line: 0 }
    if (i + 1 < visit.files.length) {
      heap.push({ timeUs: at.timeUs + visit.gapsUs[i], position: visit.position, user: at.user })
    } else {
      visits[at.user] = undefined
      heap.push({ timeUs: at.timeUs + visit.thinkUs, position: Infinity, user: at.user })
    }
  }
}
