// Our own trace format (documented in traces/README.md): one request per line,
//   <timeUs> <user> <method> <url> <size> [<status>]
// space separated; the URL has its spaces and control bytes percent-encoded; size `-` is
// unknown. An optional first line `#l7-trace 1` names the format; other `#` lines are comments.
import type { TraceRecord } from './types.js'
import { DASH, SPACE, indexIn, latin1, methodString, parseUint } from './bytes.js'

export const L7_HEADER = '#l7-trace 1'

/** Bytes a URL field may not hold raw: space, control bytes, DEL. */
function mustEscape(code: number): boolean {
  return code <= 0x20 || code === 0x7f
}

/** Percent-encodes only what would break the line, so logged URLs stay greppable as they were. */
export function encodeUrlField(url: string): string {
  let i = 0
  while (i < url.length && !mustEscape(url.charCodeAt(i))) i++
  if (i === url.length) return url.length > 0 ? url : '/'
  let out = url.slice(0, i)
  for (; i < url.length; i++) {
    const code = url.charCodeAt(i)
    out += mustEscape(code) ? '%' + code.toString(16).toUpperCase().padStart(2, '0') : url[i]
  }
  return out
}

export function formatTraceRecord(r: TraceRecord): string {
  const size = r.size < 0 ? '-' : String(r.size)
  const tail = r.status > 0 ? ` ${r.status}` : ''
  return `${Math.round(r.timeUs)} ${r.user} ${r.method} ${encodeUrlField(r.url)} ${size}${tail}`
}

/** Parses one line of our format in buf[start, end); a string is the reason it is bad. */
export function parseL7Line(buf: Buffer, start: number, end: number, line: number): TraceRecord | string {
  const s1 = indexIn(buf, SPACE, start, end)
  if (s1 < 0) return 'expected 5 or 6 space-separated fields'
  const negative = buf[start] === DASH
  let timeUs = parseUint(buf, negative ? start + 1 : start, s1)
  if (timeUs < 0) return 'time is not an integer number of microseconds'
  if (negative) timeUs = -timeUs
  const s2 = indexIn(buf, SPACE, s1 + 1, end)
  if (s2 < 0) return 'expected 5 or 6 space-separated fields'
  const user = parseUint(buf, s1 + 1, s2)
  if (user < 0) return 'user is not a non-negative integer'
  const s3 = indexIn(buf, SPACE, s2 + 1, end)
  if (s3 < 0 || s3 === s2 + 1) return 'expected 5 or 6 space-separated fields'
  const s4 = indexIn(buf, SPACE, s3 + 1, end)
  if (s4 < 0 || s4 === s3 + 1) return 'expected 5 or 6 space-separated fields'
  const s5 = indexIn(buf, SPACE, s4 + 1, end)
  const sizeEnd = s5 < 0 ? end : s5
  let size: number
  if (sizeEnd === s4 + 2 && buf[s4 + 1] === DASH) size = -1
  else {
    size = parseUint(buf, s4 + 1, sizeEnd)
    if (size < 0) return 'size is neither a byte count nor -'
  }
  let status = 0
  if (s5 >= 0) {
    status = parseUint(buf, s5 + 1, end)
    if (status < 0 || indexIn(buf, SPACE, s5 + 1, end) >= 0) return 'status is not an integer (or extra fields)'
  }
  return {
    timeUs,
    user,
    method: methodString(buf, s2 + 1, s3),
    url: latin1(buf, s3 + 1, s4),
    size,
    status,
    line,
  }
}
