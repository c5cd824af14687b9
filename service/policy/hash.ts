// URL key and 32-bit hash, the TypeScript side. assembly/hash.ts is the same algorithm in
// Wasm; the two must agree bit for bit (hash.test.ts checks it with fast-check).
//
// Key: the request target's path, without the query string unless keepQuery (the fragment
// is always dropped; clients should not send one). An absolute-form target
// ("http://host/p?q") is reduced to its path ("/p"), or "/" when it has none.
// Hash: FNV-1a 32 over the key's bytes, then Murmur3's fmix32 finalizer (see README.md).

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

const SLASH = 0x2f
const QUESTION = 0x3f
const HASH_MARK = 0x23
const COLON = 0x3a
const STAR = 0x2a
const SP = 0x20
const CR = 0x0d
const LF = 0x0a

/** Murmur3's 32-bit finalizer: spreads every input bit over the whole word. */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function fnv1a(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], FNV_PRIME)
  return h
}

const ROOT = new Uint8Array([SLASH])
const ROOT_HASH = fmix32(fnv1a(ROOT, 0, 1))

/**
 * Hash of the key of a request target held in buf[start, end) (path, origin-form or
 * absolute-form). Always a uint32.
 */
export function hashPath(buf: Uint8Array, start: number, end: number, keepQuery = false): number {
  let s = start
  if (s < end && buf[s] !== SLASH && buf[s] !== STAR) {
    // absolute-form: skip "scheme://authority"
    let p = s
    while (p + 2 < end && !(buf[p] === COLON && buf[p + 1] === SLASH && buf[p + 2] === SLASH)) p++
    if (p + 2 < end) {
      p += 3
      while (p < end && buf[p] !== SLASH && buf[p] !== QUESTION && buf[p] !== HASH_MARK) p++
      if (p >= end || buf[p] !== SLASH) return ROOT_HASH
      s = p
    }
  }
  let e = s
  while (e < end && buf[e] !== HASH_MARK && (keepQuery || buf[e] !== QUESTION)) e++
  return fmix32(fnv1a(buf, s, e))
}

function isTokenChar(c: number): boolean {
  // RFC 9110 tchar
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true
  return (
    c === 0x21 || c === 0x23 || c === 0x24 || c === 0x25 || c === 0x26 || c === 0x27 || c === 0x2a ||
    c === 0x2b || c === 0x2d || c === 0x2e || c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e
  )
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

/**
 * Hash of the key of an HTTP request line in buf[start, end): `METHOD SP target SP HTTP/d.d`,
 * optionally followed by CRLF or LF. Returns -1 for a malformed line.
 */
export function hashRequestLine(buf: Uint8Array, start: number, end: number, keepQuery = false): number {
  if (end > start && buf[end - 1] === LF) end--
  if (end > start && buf[end - 1] === CR) end--
  let p = start
  while (p < end && isTokenChar(buf[p])) p++
  if (p === start || p >= end || buf[p] !== SP) return -1
  const targetStart = ++p
  while (p < end && buf[p] > SP && buf[p] !== 0x7f) p++
  const targetEnd = p
  if (targetEnd === targetStart || end - p !== 9 || buf[p] !== SP) return -1
  // "HTTP/d.d"
  if (buf[p + 1] !== 0x48 || buf[p + 2] !== 0x54 || buf[p + 3] !== 0x54 || buf[p + 4] !== 0x50) return -1
  if (buf[p + 5] !== SLASH || !isDigit(buf[p + 6]) || buf[p + 7] !== 0x2e || !isDigit(buf[p + 8])) return -1
  return hashPath(buf, targetStart, targetEnd, keepQuery)
}

const encoder = new TextEncoder()

/** Hash of a URL's key (the target as a string: path, or absolute URL), UTF-8 encoded. */
export function hashKey(url: string, keepQuery = false): number {
  const bytes = encoder.encode(url)
  return hashPath(bytes, 0, bytes.length, keepQuery)
}
