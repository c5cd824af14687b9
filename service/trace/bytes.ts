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
  if (start >= end || end - start > 16) return -1
  let value = 0
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48
    if (d < 0 || d > 9) return -1
    value = value * 10 + d
  }
  return value <= Number.MAX_SAFE_INTEGER ? value : -1
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

/**
 * Byte strings to small integer ids (0, 1, 2, ... in first-seen order) and their strings, keyed
 * by the bytes themselves: a repeated host or URL (most of a log's lines) costs a hash and a
 * compare in JS instead of a new string from C++, and the string it returns is shared, so a
 * Map keyed by it hashes it once. Open addressing, FNV-1a. With `maxEntries` reached, new byte
 * strings are not added (id -1) and memory stays bounded.
 */
export class ByteInterner {
  private slots = new Int32Array(1 << 12) // id + 1; 0 is empty
  private hashes = new Int32Array(1 << 10)
  private offsets = new Int32Array(1 << 10)
  private arena = Buffer.allocUnsafe(1 << 16)
  private arenaUsed = 0
  private readonly strings: string[] = []

  constructor(private readonly maxEntries = Number.POSITIVE_INFINITY) {}

  get size(): number {
    return this.strings.length
  }

  /** The id of buf[start, end), added if new; -1 when new and the interner is full. */
  id(buf: Buffer, start: number, end: number): number {
    let h = 0x811c9dc5 | 0
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193)
    const length = end - start
    const slots = this.slots
    const hashes = this.hashes
    const offsets = this.offsets
    const arena = this.arena
    const mask = slots.length - 1
    let slot = h & mask
    for (;;) {
      const entry = slots[slot]
      if (entry === 0) break
      const id = entry - 1
      if (hashes[id] === h && offsets[id + 1] - offsets[id] === length) {
        const delta = offsets[id] - start
        let i = start
        while (i < end && arena[i + delta] === buf[i]) i++
        if (i === end) return id
      }
      slot = (slot + 1) & mask
    }
    const id = this.strings.length
    if (id >= this.maxEntries) return -1
    this.add(buf, start, end, h)
    this.slots[slot] = id + 1
    if (this.strings.length * 2 > this.slots.length) this.rehash()
    return id
  }

  string(id: number): string {
    return this.strings[id]
  }

  /** buf[start, end) as a string, shared with earlier equal byte strings while there is room. */
  intern(buf: Buffer, start: number, end: number): string {
    const id = this.id(buf, start, end)
    return id < 0 ? latin1(buf, start, end) : this.strings[id]
  }

  private add(buf: Buffer, start: number, end: number, hash: number): void {
    const id = this.strings.length
    const length = end - start
    if (id + 2 > this.hashes.length) {
      this.hashes = grow(this.hashes, this.hashes.length * 2)
      this.offsets = grow(this.offsets, this.offsets.length * 2)
    }
    if (this.arenaUsed + length > this.arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaUsed + length))
      this.arena.copy(bigger, 0, 0, this.arenaUsed)
      this.arena = bigger
    }
    buf.copy(this.arena, this.arenaUsed, start, end)
    this.hashes[id] = hash
    this.offsets[id] = this.arenaUsed
    this.arenaUsed += length
    this.offsets[id + 1] = this.arenaUsed
    this.strings.push(latin1(buf, start, end))
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2)
    const mask = slots.length - 1
    for (let id = 0; id < this.strings.length; id++) {
      let slot = this.hashes[id] & mask
      while (slots[slot] !== 0) slot = (slot + 1) & mask
      slots[slot] = id + 1
    }
    this.slots = slots
  }
}

function grow(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length)
  b.set(a)
  return b
}
