// URL key and 32-bit hash over bytes in linear memory; service/policy/hash.ts is the same
// algorithm in TypeScript (see there for the key rules). FNV-1a 32 + Murmur3's fmix32.

const FNV_OFFSET: u32 = 0x811c9dc5
const FNV_PRIME: u32 = 0x01000193
const SLASH: u32 = 0x2f
const QUESTION: u32 = 0x3f
const HASH_MARK: u32 = 0x23
const COLON: u32 = 0x3a
const STAR: u32 = 0x2a
const SP: u32 = 0x20
const CR: u32 = 0x0d
const LF: u32 = 0x0a

// @ts-ignore: decorator
@inline export function fmix32(h: u32): u32 {
  h ^= h >>> 16
  h *= 0x85ebca6b
  h ^= h >>> 13
  h *= 0xc2b2ae35
  h ^= h >>> 16
  return h
}

// @ts-ignore: decorator
@inline function at(p: usize): u32 {
  return <u32>load<u8>(p)
}

function fnv1a(start: usize, end: usize): u32 {
  let h = FNV_OFFSET
  for (let p = start; p < end; p++) h = (h ^ at(p)) * FNV_PRIME
  return h
}

/** Hash of "/": the key of an absolute-form target without a path. */
function rootHash(): u32 {
  return fmix32((FNV_OFFSET ^ SLASH) * FNV_PRIME)
}

/** Key hash of the request target in [start, end). */
export function hashTarget(start: usize, end: usize, keepQuery: bool): u32 {
  let s = start
  if (s < end && at(s) != SLASH && at(s) != STAR) {
    let p = s
    while (p + 2 < end && !(at(p) == COLON && at(p + 1) == SLASH && at(p + 2) == SLASH)) p++
    if (p + 2 < end) {
      p += 3
      while (p < end && at(p) != SLASH && at(p) != QUESTION && at(p) != HASH_MARK) p++
      if (p >= end || at(p) != SLASH) return rootHash()
      s = p
    }
  }
  let e = s
  while (e < end && at(e) != HASH_MARK && (keepQuery || at(e) != QUESTION)) e++
  return fmix32(fnv1a(s, e))
}

function isTokenChar(c: u32): bool {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true
  return (
    c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a ||
    c == 0x2b || c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e
  )
}

// @ts-ignore: decorator
@inline function isDigit(c: u32): bool {
  return c >= 0x30 && c <= 0x39
}

/** Key hash of the request line in [start, end) as f64, or -1 when the line is malformed. */
export function hashLine(start: usize, end: usize, keepQuery: bool): f64 {
  if (end > start && at(end - 1) == LF) end--
  if (end > start && at(end - 1) == CR) end--
  let p = start
  while (p < end && isTokenChar(at(p))) p++
  if (p == start || p >= end || at(p) != SP) return -1
  const targetStart = ++p
  while (p < end && at(p) > SP && at(p) != 0x7f) p++
  const targetEnd = p
  if (targetEnd == targetStart || end - p != 9 || at(p) != SP) return -1
  if (at(p + 1) != 0x48 || at(p + 2) != 0x54 || at(p + 3) != 0x54 || at(p + 4) != 0x50) return -1
  if (at(p + 5) != SLASH || !isDigit(at(p + 6)) || at(p + 7) != 0x2e || !isDigit(at(p + 8))) return -1
  return <f64>hashTarget(targetStart, targetEnd, keepQuery)
}
