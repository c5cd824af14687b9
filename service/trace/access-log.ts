// Access-log lines: Common Log Format, Combined (CLF plus referer and user agent, ignored
// here) and the EPA variant `host [DD:HH:MM:SS] "METHOD url PROTO" status bytes`, which has no
// year, month or zone (taken from options). One byte-level parser serves all three: the
// `[time]` field's shape tells CLF and EPA apart. Hosts become user ids in first-seen order.
import type { TraceRecord } from './types.js'
import { ByteInterner, DASH, QUOTE, SPACE, daysFromCivil, indexIn, isDigit, methodString, parse2, parseUint } from './bytes.js'

/** Distinct URLs whose strings are shared (about 100 bytes each, so tens of MB at most). */
const URLS_INTERNED = 1 << 18

export interface EpaDate {
  year: number
  /** 1..12 */
  month: number
  /** Minutes east of UTC of the log's clock (EDT: -240). */
  utcOffsetMinutes: number
}

/** The EPA-HTTP trace: 29-30 August 1995, Research Triangle Park, EDT (-0400). */
export const EPA_DEFAULT_DATE: EpaDate = { year: 1995, month: 8, utcOffsetMinutes: -240 }

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function monthAt(buf: Buffer, at: number): number {
  const a = buf[at]
  const b = buf[at + 1]
  const c = buf[at + 2]
  for (let m = 0; m < 12; m++) {
    const name = MONTHS[m]
    if (name.charCodeAt(0) === a && name.charCodeAt(1) === b && name.charCodeAt(2) === c) return m + 1
  }
  return -1
}

/** Seconds since the epoch of local midnight of the date in `10/Oct/2000:13:55:36 -0700` at `at`, zone applied. */
function clfDaySeconds(buf: Buffer, at: number): number | undefined {
  const day = parse2(buf, at)
  const month = monthAt(buf, at + 3)
  const year = parseUint(buf, at + 7, at + 11)
  const sign = buf[at + 21]
  const zoneHours = parse2(buf, at + 22)
  const zoneMinutes = parse2(buf, at + 24)
  if (day < 1 || day > 31 || month < 0 || year < 0 || zoneHours < 0 || zoneMinutes < 0) return undefined
  if ((sign !== 43 && sign !== DASH) || buf[at + 2] !== 47 || buf[at + 6] !== 47 || buf[at + 20] !== SPACE) return undefined
  const zone = (sign === DASH ? -1 : 1) * (zoneHours * 60 + zoneMinutes)
  return daysFromCivil(year, month, day) * 86400 - zone * 60
}

/**
 * `DD:HH:MM:SS` at `at` -> microseconds since the epoch, or -1. `monthsLater` counts month ends
 * the log has crossed (its day number fell back), since the format has no month.
 */
function epaTimeUs(buf: Buffer, at: number, date: EpaDate, monthsLater: number): number {
  const day = parse2(buf, at)
  const hour = parse2(buf, at + 3)
  const minute = parse2(buf, at + 6)
  const second = parse2(buf, at + 9)
  if (day < 1 || day > 31 || hour < 0 || minute < 0 || second < 0) return -1
  const months = date.month - 1 + monthsLater
  const year = date.year + Math.floor(months / 12)
  const seconds =
    daysFromCivil(year, (months % 12) + 1, day) * 86400 + hour * 3600 + minute * 60 + second - date.utcOffsetMinutes * 60
  return seconds * 1e6
}

export type AccessLogKind = 'clf' | 'epa'

export class AccessLogParser {
  /** Host bytes -> user id (first-seen order): never full, every host needs its id. */
  private readonly hosts = new ByteInterner()
  /** Repeated URLs share one string; bounded, so a log of unique URLs cannot exhaust memory. */
  private readonly urls = new ByteInterner(URLS_INTERNED)
  private firstUs = Number.NaN
  // Consecutive lines mostly share a date: remember the last one to skip the calendar work.
  private readonly lastDate = Buffer.alloc(26)
  private lastDateValid = false
  private lastDaySeconds = 0
  // EPA: the last day number seen and how many month ends the log has crossed
  private epaLastDay = 0
  private epaMonthsLater = 0

  constructor(
    private readonly kind: AccessLogKind,
    private readonly epaDate: EpaDate = EPA_DEFAULT_DATE,
  ) {}

  /** `10/Oct/2000:13:55:36 -0700` at `at` -> microseconds since the epoch, or -1. */
  private clfTimeUs(buf: Buffer, at: number): number {
    const hour = parse2(buf, at + 12)
    const minute = parse2(buf, at + 15)
    const second = parse2(buf, at + 18)
    if (hour < 0 || minute < 0 || second < 0 || buf[at + 11] !== 58 || buf[at + 14] !== 58 || buf[at + 17] !== 58) return -1
    // the date (bytes 0-10) and the zone (20-25) are those of the last line: reuse its midnight
    let same = this.lastDateValid
    for (let i = 0; same && i < 26; i++) same = (i >= 11 && i < 20) || buf[at + i] === this.lastDate[i]
    if (!same) {
      const daySeconds = clfDaySeconds(buf, at)
      if (daySeconds === undefined) return -1
      for (let i = 0; i < 26; i++) this.lastDate[i] = buf[at + i]
      this.lastDateValid = true
      this.lastDaySeconds = daySeconds
    }
    return (this.lastDaySeconds + hour * 3600 + minute * 60 + second) * 1e6
  }


  /** Parses buf[start, end); a string is the reason the line is bad. */
  parse(buf: Buffer, start: number, end: number, line: number): TraceRecord | string {
    let hostEnd = start
    while (hostEnd < end && buf[hostEnd] !== SPACE) hostEnd++
    if (hostEnd === start || hostEnd === end) return 'no host field'
    let open = hostEnd
    while (open < end && buf[open] !== 91) open++ // [
    if (open === end) return 'no [time] field'
    let epochUs: number
    let close: number
    if (this.kind === 'epa') {
      close = open + 12
      if (buf[close] !== 93 || open !== hostEnd + 1) return 'time is not [DD:HH:MM:SS]'
      const day = parse2(buf, open + 1)
      // a day number far below the last one (31 -> 1) is the next month; a little below is disorder
      if (day > 0 && day < this.epaLastDay - 15) this.epaMonthsLater++
      if (day > 0) this.epaLastDay = day
      epochUs = epaTimeUs(buf, open + 1, this.epaDate, this.epaMonthsLater)
    } else {
      close = open + 27
      if (close >= end || buf[close] !== 93) return 'time is not [dd/Mon/yyyy:HH:MM:SS +zzzz]'
      epochUs = this.clfTimeUs(buf, open + 1)
    }
    if (epochUs < 0) return 'unreadable time'
    if (buf[close + 1] !== SPACE || buf[close + 2] !== QUOTE) return 'no "request" after the time'
    const requestStart = close + 3
    // The request ends at a quote followed by a space and the status: URLs may hold quotes.
    let requestEnd = requestStart
    for (;;) {
      requestEnd = indexIn(buf, QUOTE, requestEnd, end)
      if (requestEnd < 0) return 'unterminated "request"'
      if (buf[requestEnd + 1] === SPACE && isDigit(buf[requestEnd + 2])) break
      requestEnd++
    }
    let methodEnd = requestStart
    while (methodEnd < requestEnd && buf[methodEnd] !== SPACE) methodEnd++
    if (methodEnd === requestStart || methodEnd === requestEnd) return 'request has no method and URL'
    let urlEnd = requestEnd
    // drop a trailing " HTTP/x.y" (usually exactly 9 bytes; otherwise look for the last space)
    const tail = requestEnd - 9
    if (tail > methodEnd && buf[tail] === SPACE && buf[tail + 1] === 72 && buf[tail + 5] === 47) urlEnd = tail
    else {
      const lastSpace = buf.lastIndexOf(SPACE, requestEnd - 1)
      if (lastSpace > methodEnd && buf[lastSpace + 1] === 72 && buf[lastSpace + 5] === 47) urlEnd = lastSpace // " HTTP/"
    }
    if (urlEnd <= methodEnd + 1) return 'request has no URL'
    const statusStart = requestEnd + 2
    let statusEnd = statusStart
    while (statusEnd < end && buf[statusEnd] !== SPACE) statusEnd++
    const status = parseUint(buf, statusStart, statusEnd)
    if (status < 0) return 'status is not a number'
    let size = -1 // a missing bytes field (some EPA lines) or `-`: unknown
    if (statusEnd < end) {
      let bytesEnd = statusEnd + 1
      while (bytesEnd < end && buf[bytesEnd] !== SPACE) bytesEnd++
      if (!(bytesEnd === statusEnd + 2 && buf[statusEnd + 1] === DASH)) {
        size = parseUint(buf, statusEnd + 1, bytesEnd)
        if (size < 0) return 'bytes is neither a number nor -'
      }
    }
    const user = this.hosts.id(buf, start, hostEnd)
    if (Number.isNaN(this.firstUs)) this.firstUs = epochUs
    return {
      timeUs: epochUs - this.firstUs,
      user,
      method: methodString(buf, requestStart, methodEnd),
      url: this.urls.intern(buf, methodEnd + 1, urlEnd),
      size,
      status,
      line,
    }
  }
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n)
}

export interface AccessLogWriteOptions {
  /** Epoch milliseconds of the trace's time 0 (CLF and Combined). */
  startMs: number
  /** Zone written in CLF times, minutes east of UTC. */
  utcOffsetMinutes: number
  /** EPA output: the day 1 of which month, and its zone. */
  epaDate: EpaDate
}

/** A host for a user id: `u<id>` (the original host names are not in a TraceRecord). */
function hostOf(r: TraceRecord): string {
  return 'u' + r.user
}

function requestOf(r: TraceRecord): string {
  return `"${r.method} ${r.url.replace(/[\s"]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))} HTTP/1.0"`
}

export function formatClfLine(r: TraceRecord, options: AccessLogWriteOptions, combined: boolean): string {
  const offset = options.utcOffsetMinutes
  const local = new Date(options.startMs + r.timeUs / 1000 + offset * 60000)
  const zone = `${offset < 0 ? '-' : '+'}${pad2(Math.floor(Math.abs(offset) / 60))}${pad2(Math.abs(offset) % 60)}`
  const time =
    `${pad2(local.getUTCDate())}/${MONTHS[local.getUTCMonth()]}/${local.getUTCFullYear()}:` +
    `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())} ${zone}`
  const status = r.status > 0 ? r.status : 200
  const size = r.size < 0 ? '-' : String(r.size)
  const line = `${hostOf(r)} - - [${time}] ${requestOf(r)} ${status} ${size}`
  return combined ? line + ' "-" "-"' : line
}

export function formatEpaLine(r: TraceRecord, options: AccessLogWriteOptions): string {
  const date = options.epaDate
  const localMs = options.startMs + r.timeUs / 1000 + date.utcOffsetMinutes * 60000
  const local = new Date(localMs)
  const day = Math.floor((localMs - Date.UTC(date.year, date.month - 1, 1)) / 86400000) + 1
  const time = `${pad2(day)}:${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`
  const status = r.status > 0 ? r.status : 200
  const size = r.size < 0 ? '-' : String(r.size)
  return `${hostOf(r)} [${time}] ${requestOf(r)} ${status} ${size}`
}
