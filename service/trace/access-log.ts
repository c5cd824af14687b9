// Access-log lines: Common Log Format, Combined (CLF plus referer and user agent, ignored
// here) and the EPA variant `host [DD:HH:MM:SS] "METHOD url PROTO" status bytes`, which has no
// year, month or zone (taken from options). One byte-level parser serves all three: the
// `[time]` field's shape tells CLF and EPA apart. Hosts become user ids in first-seen order.
import type { TraceRecord } from './types.js'
import { DASH, QUOTE, SPACE, daysFromCivil, indexIn, isDigit, methodString, parse2, parseUint } from './bytes.js'

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

/** `10/Oct/2000:13:55:36 -0700` at `at` -> microseconds since the epoch, or -1. */
function clfTimeUs(buf: Buffer, at: number): number {
  const day = parse2(buf, at)
  const month = monthAt(buf, at + 3)
  const year = parseUint(buf, at + 7, at + 11)
  const hour = parse2(buf, at + 12)
  const minute = parse2(buf, at + 15)
  const second = parse2(buf, at + 18)
  const sign = buf[at + 21]
  const zoneHours = parse2(buf, at + 22)
  const zoneMinutes = parse2(buf, at + 24)
  if (day < 1 || month < 0 || year < 0 || hour < 0 || minute < 0 || second < 0) return -1
  if (zoneHours < 0 || zoneMinutes < 0 || (sign !== 43 && sign !== DASH)) return -1
  const zone = (sign === DASH ? -1 : 1) * (zoneHours * 60 + zoneMinutes)
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - zone * 60
  return seconds * 1e6
}

/** `DD:HH:MM:SS` at `at` -> microseconds since the epoch in the given month, or -1. */
function epaTimeUs(buf: Buffer, at: number, date: EpaDate): number {
  const day = parse2(buf, at)
  const hour = parse2(buf, at + 3)
  const minute = parse2(buf, at + 6)
  const second = parse2(buf, at + 9)
  if (day < 1 || hour < 0 || minute < 0 || second < 0) return -1
  const seconds =
    daysFromCivil(date.year, date.month, day) * 86400 + hour * 3600 + minute * 60 + second - date.utcOffsetMinutes * 60
  return seconds * 1e6
}

export type AccessLogKind = 'clf' | 'epa'

export class AccessLogParser {
  private readonly hosts = new Map<string, number>()
  private firstUs = Number.NaN

  constructor(
    private readonly kind: AccessLogKind,
    private readonly epaDate: EpaDate = EPA_DEFAULT_DATE,
  ) {}

  /** Parses buf[start, end); a string is the reason the line is bad. */
  parse(buf: Buffer, start: number, end: number, line: number): TraceRecord | string {
    const hostEnd = indexIn(buf, SPACE, start, end)
    if (hostEnd <= start) return 'no host field'
    const open = indexIn(buf, 91, hostEnd, end) // [
    if (open < 0) return 'no [time] field'
    const close = indexIn(buf, 93, open, end) // ]
    if (close < 0) return 'unterminated [time] field'
    let epochUs: number
    if (this.kind === 'epa') {
      if (close - open !== 12 || open !== hostEnd + 1) return 'time is not [DD:HH:MM:SS]'
      epochUs = epaTimeUs(buf, open + 1, this.epaDate)
    } else {
      if (close - open !== 27) return 'time is not [dd/Mon/yyyy:HH:MM:SS +zzzz]'
      epochUs = clfTimeUs(buf, open + 1)
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
    const methodEnd = indexIn(buf, SPACE, requestStart, requestEnd)
    if (methodEnd <= requestStart) return 'request has no method and URL'
    let urlEnd = requestEnd
    const lastSpace = buf.lastIndexOf(SPACE, requestEnd - 1)
    if (lastSpace > methodEnd && buf[lastSpace + 1] === 72 && buf[lastSpace + 5] === 47) urlEnd = lastSpace // " HTTP/"
    if (urlEnd <= methodEnd + 1) return 'request has no URL'
    const statusStart = requestEnd + 2
    let statusEnd = indexIn(buf, SPACE, statusStart, end)
    if (statusEnd < 0) statusEnd = end
    const status = parseUint(buf, statusStart, statusEnd)
    if (status < 0) return 'status is not a number'
    let size = -1 // a missing bytes field (some EPA lines) or `-`: unknown
    if (statusEnd < end) {
      let bytesEnd = indexIn(buf, SPACE, statusEnd + 1, end)
      if (bytesEnd < 0) bytesEnd = end
      if (!(bytesEnd === statusEnd + 2 && buf[statusEnd + 1] === DASH)) {
        size = parseUint(buf, statusEnd + 1, bytesEnd)
        if (size < 0) return 'bytes is neither a number nor -'
      }
    }
    const host = buf.toString('latin1', start, hostEnd)
    let user = this.hosts.get(host)
    if (user === undefined) {
      user = this.hosts.size
      this.hosts.set(host, user)
    }
    if (Number.isNaN(this.firstUs)) this.firstUs = epochUs
    return {
      timeUs: epochUs - this.firstUs,
      user,
      method: methodString(buf, requestStart, methodEnd),
      url: buf.toString('latin1', methodEnd + 1, urlEnd),
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
