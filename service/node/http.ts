// A small HTTP/1.x request-head parser over raw bytes. The node parses requests itself
// (rather than through node:http) because it needs the raw bytes: the target is hashed
// straight from them, and a request handed off by file-descriptor passing travels as the
// bytes already read. Sizes are bounded; anything outside HTTP/1.0 and 1.1 is refused.

export const MAX_REQUEST_LINE = 8 * 1024
export const MAX_HEAD = 16 * 1024

export interface RequestHead {
  method: string
  /** The request target as sent (origin-form path with query, or absolute-form). */
  target: string
  /** Byte range of the target's path (no query, no fragment) inside the parsed buffer. */
  pathStart: number
  pathEnd: number
  /** 10 or 11. */
  version: 10 | 11
  keepAlive: boolean
  /** Header names lower-cased, in order; duplicates kept. */
  headers: Array<[string, string]>
  /** Declared body: Content-Length > 0 or any Transfer-Encoding. */
  hasBody: boolean
  /** Offset just past the blank line that ends the head. */
  headEnd: number
  /**
   * The head can be forwarded to a peer byte for byte (plus the credential): HTTP/1.1 and
   * no header a proxy must not pass on (hop-by-hop fields, Expect, a credential).
   */
  forwardable: boolean
  /** The Expect field's value, lower-cased; null when absent. */
  expect: string | null
}

/** Fields a proxy consumes rather than forwards (RFC 9110 section 7.6.1), plus Expect and the credential. */
export const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'proxy-connection', 'trailer', 'expect', 'x-l7-handoff'])

/** Why a head could not be parsed, with the status to answer. */
export interface HeadError {
  status: 400 | 414 | 431 | 505
  reason: string
}

export type ParseResult = { head: RequestHead } | { error: HeadError } | { incomplete: true }

const CR = 13
const LF = 10
const SP = 32

function isTokenChar(c: number): boolean {
  // RFC 9110 tchar
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b ||
    c === 0x2d || c === 0x2e || c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e
  )
}

const BARE_LF = -2

/** Index of the CR of the first CRLF in buf[from, end); -1 when none yet; BARE_LF when an LF without CR comes first. */
function findCrlf(buf: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    if (buf[i] === LF) return i > from && buf[i - 1] === CR ? i - 1 : BARE_LF
  }
  return -1
}

/**
 * Index of the CRLFCRLF that ends the head, searching from the request line's CRLF at `from`;
 * -1 when not there yet; BARE_LF when a header line ends in LF alone. Scanned in JavaScript:
 * for a head of a few hundred bytes, a loop costs less than a native search's call.
 */
function findBlankLine(buf: Buffer, from: number, end: number): number {
  for (let i = from + 1; i < end; i++) {
    if (buf[i] !== LF) continue
    if (buf[i - 1] !== CR) return BARE_LF
    if (i + 2 < end && buf[i + 1] === CR && buf[i + 2] === LF) return i - 1
  }
  return -1
}

/** Parses one request head at buf[start..end). Bytes after the head are left to the caller. */
export function parseRequestHead(buf: Buffer, start = 0, end = buf.length): ParseResult {
  const lineEnd = findCrlf(buf, start, end)
  if (lineEnd < 0) {
    // A line ended by a bare LF never completes: refuse it now rather than at the deadline.
    if (lineEnd === BARE_LF) return { error: { status: 400, reason: 'request line must end with CRLF' } }
    if (end - start > MAX_REQUEST_LINE) return { error: { status: 414, reason: 'request line too long' } }
    return { incomplete: true }
  }
  // Check the request line before waiting for the rest of the head, so that an HTTP/0.9
  // request (no version) is refused at once instead of waiting for a blank line.
  const early = checkRequestLine(buf, start, lineEnd)
  if (early) return { error: early }
  if (lineEnd - start > MAX_REQUEST_LINE) return { error: { status: 414, reason: 'request line too long' } }
  const headStop = findBlankLine(buf, lineEnd, end)
  if (headStop < 0) {
    if (headStop === BARE_LF) return { error: { status: 400, reason: 'header line must end with CRLF' } }
    if (end - start > MAX_HEAD) return { error: { status: 431, reason: 'request header fields too large' } }
    return { incomplete: true }
  }
  const headEnd = headStop + 4
  if (headEnd - start > MAX_HEAD) return { error: { status: 431, reason: 'request header fields too large' } }

  // request-line = method SP request-target SP HTTP-version
  let i = start
  while (i < lineEnd && isTokenChar(buf[i])) i++
  if (i === start || i >= lineEnd || buf[i] !== SP) return { error: { status: 400, reason: 'malformed request line' } }
  const method = buf.toString('latin1', start, i)
  const targetStart = ++i
  let pathEnd = -1
  while (i < lineEnd) {
    const c = buf[i]
    if (c <= SP || c === 0x7f) break
    if (pathEnd < 0 && (c === 0x3f || c === 0x23)) pathEnd = i
    i++
  }
  const targetEnd = i
  if (targetEnd === targetStart || buf[i] !== SP) return { error: { status: 400, reason: 'malformed request target' } }
  if (pathEnd < 0) pathEnd = targetEnd
  const versionText = buf.toString('latin1', i + 1, lineEnd)
  let version: 10 | 11
  if (versionText === 'HTTP/1.1') version = 11
  else if (versionText === 'HTTP/1.0') version = 10
  else if (/^HTTP\/\d\.\d$/.test(versionText)) return { error: { status: 505, reason: 'HTTP version not supported' } }
  else return { error: { status: 400, reason: 'malformed request line' } }

  let pathStart = targetStart
  if (buf[targetStart] !== 0x2f) {
    // absolute-form (http://host/path): the key is the path part
    const text = buf.toString('latin1', targetStart, targetEnd)
    const m = /^https?:\/\/[^/?#]*/i.exec(text)
    if (!m) return { error: { status: 400, reason: 'malformed request target' } }
    pathStart = targetStart + m[0].length
    if (pathStart >= pathEnd) return { error: { status: 400, reason: 'malformed request target' } }
  }

  const headers: Array<[string, string]> = []
  let connection = ''
  let hasBody = false
  let hasHost = false
  let forwardable = version === 11
  let expect: string | null = null
  let p = lineEnd + 2
  while (p < headStop + 2) {
    let eol = p
    while (buf[eol] !== CR) eol++
    // A CR inside a field is not a line end (a lone CR is refused, RFC 9112 section 2.2).
    if (buf[eol + 1] !== LF) return { error: { status: 400, reason: 'malformed header value' } }
    let colon = p
    while (colon < eol && buf[colon] !== 0x3a) colon++
    if (colon >= eol || colon === p) return { error: { status: 400, reason: 'malformed header field' } }
    for (let k = p; k < colon; k++) {
      if (!isTokenChar(buf[k])) return { error: { status: 400, reason: 'malformed header field' } }
    }
    for (let k = colon + 1; k < eol; k++) {
      const c = buf[k]
      if ((c < SP && c !== 9) || c === 0x7f || c === CR || c === LF) {
        return { error: { status: 400, reason: 'malformed header value' } }
      }
    }
    const name = buf.toString('latin1', p, colon).toLowerCase()
    const value = buf.toString('latin1', colon + 1, eol).trim()
    headers.push([name, value])
    if (NOT_FORWARDED.has(name)) forwardable = false
    if (name === 'host') hasHost = true
    else if (name === 'expect') expect = value.toLowerCase()
    else if (name === 'connection') connection = value.toLowerCase()
    else if (name === 'content-length') {
      if (!/^\d+$/.test(value)) return { error: { status: 400, reason: 'malformed content-length' } }
      if (Number(value) > 0) hasBody = true
    } else if (name === 'transfer-encoding') hasBody = true
    p = eol + 2
  }
  // RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
  if (version === 11 && !hasHost) return { error: { status: 400, reason: 'HTTP/1.1 request without Host header' } }
  const keepAlive =
    version === 11 ? !/(^|,)\s*close\s*(,|$)/.test(connection) : /(^|,)\s*keep-alive\s*(,|$)/.test(connection)
  return {
    head: {
      method,
      target: buf.toString('latin1', targetStart, targetEnd),
      pathStart,
      pathEnd,
      version,
      keepAlive,
      headers,
      hasBody,
      headEnd,
      forwardable,
      expect,
    },
  }
}

/** The request line's shape, checked as soon as the line is complete; null when it is fine. */
function checkRequestLine(buf: Buffer, start: number, lineEnd: number): HeadError | null {
  const firstSpace = buf.indexOf(SP, start)
  if (firstSpace < 0 || firstSpace >= lineEnd) return { status: 400, reason: 'malformed request line' }
  const secondSpace = buf.indexOf(SP, firstSpace + 1)
  if (secondSpace < 0 || secondSpace >= lineEnd) return { status: 400, reason: 'request line has no HTTP version (HTTP/0.9 is not supported)' }
  return null
}

export function headerValue(head: RequestHead, name: string): string | undefined {
  for (const [n, v] of head.headers) if (n === name) return v
  return undefined
}

export const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  301: 'Moved Permanently',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  417: 'Expectation Failed',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
}

let dateSecond = 0
let dateText = ''
/** The Date header value, formatted at most once a second. */
export function httpDate(): string {
  const now = Date.now()
  const s = Math.floor(now / 1000)
  if (s !== dateSecond) {
    dateSecond = s
    dateText = new Date(now).toUTCString()
  }
  return dateText
}
