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

function nameIs(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    if ((buf[start + i] | 0x20) !== lower.charCodeAt(i)) return false
  }
  return true
}

export function parseResponseHead(buf: Buffer): ResponseParse {
  const stop = buf.indexOf('\r\n\r\n', 0, 'latin1')
  if (stop < 0) return buf.length > MAX_RESPONSE_HEAD ? { error: 'response head too large' } : 'incomplete'
  const headEnd = stop + 4
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  if (buf.length < 12 || buf.toString('latin1', 0, 5) !== 'HTTP/' || buf[8] !== 0x20) return { error: 'malformed status line' }
  const status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48)
  if (!(status >= 100 && status <= 599)) return { error: 'malformed status code' }
  const http10 = buf[5] === 0x31 && buf[7] === 0x30
  let contentLength = -1
  let connection: string | null = null
  let connectionStart = -1
  let connectionEnd = -1
  let p = buf.indexOf('\r\n', 0, 'latin1') + 2
  while (p < headEnd - 2) {
    const eol = buf.indexOf('\r\n', p, 'latin1')
    const colon = buf.indexOf(0x3a, p)
    if (colon < 0 || colon > eol) return { error: 'malformed header line' }
    if (nameIs(buf, p, colon, CONTENT_LENGTH)) {
      const text = buf.toString('latin1', colon + 1, eol).trim()
      if (!/^\d{1,15}$/.test(text) || (contentLength >= 0 && Number(text) !== contentLength)) return { error: 'malformed content-length' }
      contentLength = Number(text)
    } else if (nameIs(buf, p, colon, CONNECTION)) {
      connection = buf.toString('latin1', colon + 1, eol).trim().toLowerCase()
      connectionStart = p
      connectionEnd = eol + 2
    }
    p = eol + 2
  }
  if (contentLength < 0) return { error: 'response without content-length' }
  const keepAlive = connection === null ? !http10 : http10 ? connection.includes('keep-alive') : !connection.includes('close')
  return { status, contentLength, keepAlive, headEnd, connectionStart, connectionEnd }
}

/** Body bytes that follow a response head, given the request's method. */
export function bodyLength(head: ResponseHead, requestMethod: string): number {
  if (requestMethod === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200) return 0
  return head.contentLength
}
