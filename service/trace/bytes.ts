// Byte-level field helpers shared by the line parsers: they read numbers straight out of
// the chunk buffer, so the hot loop allocates only the strings a record keeps.

export const SPACE = 32
export const QUOTE = 34
export const HASH = 35
export const DASH = 45

export function isDigit(byte: number): boolean {
  return byte >= 48 && byte <= 57
}

/** Unsigned decimal in [start, end); -1 when empty, not all digits, or beyond 2^53. */
export function parseUint(buf: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 15) return -1
  let value = 0
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48
    if (d < 0 || d > 9) return -1
    value = value * 10 + d
  }
  return value
}

/** Two decimal digits at `at`; -1 when either is not a digit. */
export function parse2(buf: Buffer, at: number): number {
  const a = buf[at] - 48
  const b = buf[at + 1] - 48
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1
  return a * 10 + b
}

/** Index of `byte` in [start, end), or -1 (Buffer.indexOf would search past `end`). */
export function indexIn(buf: Buffer, byte: number, start: number, end: number): number {
  const at = buf.indexOf(byte, start)
  return at < 0 || at >= end ? -1 : at
}

const COMMON_METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE']

/** The method as a string, without allocating one for the common methods. */
export function methodString(buf: Buffer, start: number, end: number): string {
  const length = end - start
  for (const method of COMMON_METHODS) {
    if (method.length !== length) continue
    let same = true
    for (let i = 0; i < length; i++) {
      if (buf[start + i] !== method.charCodeAt(i)) {
        same = false
        break
      }
    }
    if (same) return method
  }
  return latin1(buf, start, end)
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

// Buffer#toString(encoding, start, end) goes through argument checks and a slice; Node's
// prototype method latin1Slice (present since Node 0.x, untyped) does the decoding alone and
// is measurably faster in the per-line loop. Fall back when a runtime lacks it.
type Latin1Slicer = { latin1Slice?: (start: number, end: number) => string }
const hasLatin1Slice = typeof (Buffer.prototype as unknown as Latin1Slicer).latin1Slice === 'function'

/** buf[start, end) as a string, one character per byte. */
export function latin1(buf: Buffer, start: number, end: number): string {
  return hasLatin1Slice ? (buf as unknown as Required<Latin1Slicer>).latin1Slice(start, end) : buf.toString('latin1', start, end)
}
