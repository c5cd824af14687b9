// Parsing the head of a response a peer node sends back through a relay. Peers are l7 nodes,
// so every response is framed by Content-Length; anything else is a protocol error and the
// peer connection is dropped. The parser works on raw bytes and makes no header map: the
// relay forwards the head as received, rewriting only the Connection line when it must.

/** Largest response head accepted from a peer. */
export const MAX_RESPONSE_HEAD = 16 * 1024

export interface ResponseHead {
  status: number
  contentLength: number
  /** The peer keeps the connection open after this response. */
  keepAlive: boolean
  /** Offset just past the blank line. */
  headEnd: number
  /** Byte range [start, end) of the Connection line, CRLF included; -1 when absent. */
  connectionStart: number
  connectionEnd: number
}

export type ResponseParse = ResponseHead | 'incomplete' | { error: string }

const CONTENT_LENGTH = 'content-length'
const CONNECTION = 'connection'
const CR = 13
const LF = 10

/** The header name at buf[start, end) equals `lower`, ignoring ASCII case. */
function nameIs(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    if ((buf[start + i] | 0x20) !== lower.charCodeAt(i)) return false
  }
  return true
}

/** Whether buf[start, end) holds `word` (lower-case) as a comma-separated token, ignoring case. */
function hasToken(buf: Buffer, start: number, end: number, word: string): boolean {
  let i = start
  while (i < end) {
    while (i < end && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x2c)) i++
    let k = 0
    while (k < word.length && i + k < end && (buf[i + k] | 0x20) === word.charCodeAt(k)) k++
    let j = i + k
    if (k === word.length) {
      while (j < end && (buf[j] === 0x20 || buf[j] === 0x09)) j++
      if (j === end || buf[j] === 0x2c) return true
    }
    while (j < end && buf[j] !== 0x2c) j++
    i = j + 1
  }
  return false
}

/**
 * One pass over the bytes, no strings made: the relay parses a head per relayed response,
 * and on this path string searches and slices cost more than the rest of the parse.
 */
export function parseResponseHead(buf: Buffer): ResponseParse {
  const limit = Math.min(buf.length, MAX_RESPONSE_HEAD + 4)
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  if (buf.length >= 5 && !(buf[0] === 0x48 && buf[1] === 0x54 && buf[2] === 0x54 && buf[3] === 0x50 && buf[4] === 0x2f)) return { error: 'malformed status line' }
  let lineStart = 0
  let status = -1
  let http10 = false
  let contentLength = -1
  let connectionStart = -1
  let connectionEnd = -1
  let keepAliveToken = false
  let closeToken = false
  for (let i = 0; i < limit; i++) {
    if (buf[i] !== LF) continue
    if (i === 0 || buf[i - 1] !== CR) return { error: 'line not ended by CRLF' }
    const lineEnd = i - 1
    if (status < 0) {
      if (lineEnd < 12 || buf[8] !== 0x20) return { error: 'malformed status line' }
      status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48)
      if (!(status >= 100 && status <= 599) || buf[9] < 48 || buf[10] < 48 || buf[10] > 57 || buf[11] < 48 || buf[11] > 57) return { error: 'malformed status code' }
      http10 = buf[5] === 0x31 && buf[7] === 0x30
    } else if (lineEnd === lineStart) {
      // The blank line: the head ends here.
      if (contentLength < 0) return { error: 'response without content-length' }
      const keepAlive = connectionStart < 0 ? !http10 : http10 ? keepAliveToken : !closeToken
      return { status, contentLength, keepAlive, headEnd: i + 1, connectionStart, connectionEnd }
    } else {
      let colon = lineStart
      while (colon < lineEnd && buf[colon] !== 0x3a) colon++
      if (colon === lineEnd || colon === lineStart) return { error: 'malformed header line' }
      let v = colon + 1
      while (v < lineEnd && (buf[v] === 0x20 || buf[v] === 0x09)) v++
      let ve = lineEnd
      while (ve > v && (buf[ve - 1] === 0x20 || buf[ve - 1] === 0x09)) ve--
      if (nameIs(buf, lineStart, colon, CONTENT_LENGTH)) {
        if (ve === v || ve - v > 15) return { error: 'malformed content-length' }
        let n = 0
        for (let k = v; k < ve; k++) {
          const d = buf[k] - 48
          if (d < 0 || d > 9) return { error: 'malformed content-length' }
          n = n * 10 + d
        }
        if (contentLength >= 0 && n !== contentLength) return { error: 'malformed content-length' }
        contentLength = n
      } else if (nameIs(buf, lineStart, colon, CONNECTION)) {
        connectionStart = lineStart
        connectionEnd = i + 1
        keepAliveToken = hasToken(buf, v, ve, 'keep-alive')
        closeToken = hasToken(buf, v, ve, 'close')
      }
    }
    lineStart = i + 1
  }
  return buf.length > MAX_RESPONSE_HEAD ? { error: 'response head too large' } : 'incomplete'
}

/** Body bytes that follow a response head, given the request's method. */
export function bodyLength(head: ResponseHead, requestMethod: string): number {
  if (requestMethod === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200) return 0
  return head.contentLength
}
