// Request path -> file inside the document root, and nothing outside it. Two stages:
// a lexical check on the decoded path (no NUL, no `..` segment, no backslash) that needs
// no I/O, then a realpath check on the file itself so a symlink cannot lead out of the root.

import { realpath } from 'node:fs/promises'
import { sep } from 'node:path'

/** `/seg/seg...`: no `%`, no empty segment, no segment starting with `.`, no trailing `/`. */
const PLAIN_PATH = /^(?:\/[\w~+,;=:@!$&'()*-][\w~+,;=:@!$&'()*.-]*)+$/

export type LexicalResult = { rel: string } | { status: 400; reason: string }

/**
 * Decodes a raw request path (no query) into a root-relative path with `/` separators.
 * Percent-decoding is done once, as UTF-8; malformed escapes, NUL, backslashes and dot-dot
 * segments are refused with 400 (after decoding, so `%2e%2e` and `%2f..` are caught too).
 */
export function lexicalPath(rawPath: string): LexicalResult {
  // Nearly every path is already plain: segments of unreserved characters, none empty, none
  // starting with a dot, no escapes. It is its own root-relative form.
  if (PLAIN_PATH.test(rawPath)) return { rel: rawPath.slice(1) }
  return decodedLexicalPath(rawPath)
}

/** lexicalPath without the shortcut for plain paths (its spec checks the two agree). */
export function decodedLexicalPath(rawPath: string): LexicalResult {
  let decoded: string
  try {
    decoded = rawPath.includes('%') ? decodeURIComponent(rawPath) : rawPath
  } catch {
    return { status: 400, reason: 'malformed percent-encoding' }
  }
  if (!decoded.startsWith('/')) return { status: 400, reason: 'path must start with /' }
  if (decoded.includes('\0')) return { status: 400, reason: 'NUL in path' }
  if (decoded.includes('\\')) return { status: 400, reason: 'backslash in path' }
  const parts: string[] = []
  for (const part of decoded.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') return { status: 400, reason: 'dot-dot segment in path' }
    parts.push(part)
  }
  if (parts.length === 0 || decoded.endsWith('/')) parts.push('index.html')
  return { rel: parts.join('/') }
}

/**
 * The real path of root/rel if it exists and lies inside the (real) root, else null.
 * `realRoot` must itself be a realpath.
 */
export async function resolveInside(realRoot: string, rel: string): Promise<string | null> {
  let real: string
  try {
    real = await realpath(realRoot + sep + rel)
  } catch {
    return null
  }
  return real.startsWith(realRoot + sep) ? real : null
}
