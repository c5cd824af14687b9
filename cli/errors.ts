// How every failure of `l7` ends (cli/README.md, "Exit codes and errors"): one line on stderr,
// `Error: <what>, <what to do>`, no class names and no stack trace unless DEBUG is set; exit code
// 2 for usage (a bad flag or argument, a missing input file, an unknown command), 1 for a failure
// at run time. bin/run.js calls describeFailure() for whatever a command threw.
import { InvalidArgumentError, L7Error, TraceParseError } from '../service/core/errors.js'

export const EXIT_USAGE = 2
export const EXIT_FAILURE = 1

export interface Failure {
  /** Process exit code. */
  code: number
  /** What to print on stderr (no trailing newline); empty for a plain exit. */
  text: string
}

interface OclifLike {
  code?: string
  oclif?: { exit?: number }
  parse?: unknown
  /** Set by L7Command.catch: the command that failed, as the user types it ("trace stats"). */
  l7Command?: string
  path?: string
  address?: string
  port?: number
  syscall?: string
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g
const OCLIF_HELP_HINT = /\n?See more help with --help\s*$/

/** The exit code and the one-line message for `err` (with its stack when `debug`). */
export function describeFailure(err: unknown, options: { bin?: string; debug?: boolean; argv?: string[]; commands?: string[] } = {}): Failure {
  const bin = options.bin ?? 'l7'
  if (!(err instanceof Error)) return { code: EXIT_FAILURE, text: `Error: ${String(err)}` }
  const e = err as Error & OclifLike
  // this.exit(n): no message.
  if (e.code === 'EEXIT') return { code: e.oclif?.exit ?? 0, text: '' }
  const help = e.l7Command ? `see \`${bin} ${e.l7Command} --help\`` : `see \`${bin} help\``
  let code: number
  let what: string
  let todo: string | undefined
  if (e.oclif?.exit === 127) {
    // @oclif/plugin-not-found: an unknown command. Its warning named the command already.
    code = EXIT_USAGE
    const typed = (options.argv ?? []).filter((word) => !word.startsWith('-')).slice(0, 3)
    const guess = closestCommand(typed, options.commands ?? [])
    what = `no such command${typed.length ? ` "${typed.join(' ')}"` : ''}${guess ? ` (did you mean "${bin} ${guess}"?)` : ''}`
    todo = e.message.replace(/\.$/, '').replace(/^Run/, 'run')
  } else if (isParseError(e)) {
    code = EXIT_USAGE
    what = cleanParseMessage(e.message)
    todo = help
  } else if (e instanceof InvalidArgumentError || e instanceof TraceParseError) {
    code = EXIT_USAGE
    what = e.message
    todo = help
  } else if (e.code === 'ENOENT' && e.path) {
    code = EXIT_FAILURE
    what = `${e.path}: no such file or directory`
    todo = 'check the path'
  } else if ((e.code === 'EADDRINUSE' || e.code === 'EACCES') && e.port !== undefined) {
    code = EXIT_FAILURE
    what = `${e.address ?? ''}:${e.port} ${e.code === 'EADDRINUSE' ? 'is already in use' : 'needs privileges to listen on'}`
    todo = 'choose another address with --listen (port 0: any free port)'
  } else if (e.code === 'EACCES' && e.path) {
    code = EXIT_FAILURE
    what = `${e.path}: permission denied`
    todo = 'check its permissions'
  } else {
    // A CLIError from this.error(msg, {exit}) keeps its code; anything else is a run-time failure.
    code = e instanceof L7Error || e.oclif?.exit === undefined ? EXIT_FAILURE : e.oclif.exit
    what = e.message.replace(OCLIF_HELP_HINT, '')
  }
  // Plugins colour parts of their messages; the line stays plain (logs, pipes, specs).
  what = what.replace(ANSI, '').trim().replace(/\.$/, '')
  if (todo) todo = todo.replace(ANSI, '')
  const line = `Error: ${what}${todo ? `, ${todo}` : ''}`
  return { code, text: options.debug && e.stack ? `${line}\n${e.stack}` : line }
}

function isParseError(e: Error & OclifLike): boolean {
  // oclif's CLIParseError subclasses carry `parse`; a custom flag's parse failure is rewritten to
  // "Parsing --flag \n\t<message>\nSee more help with --help".
  return e.parse !== undefined || /^Parsing --/.test(e.message) || (e.oclif?.exit === EXIT_USAGE && OCLIF_HELP_HINT.test(e.message))
}

/** "Parsing --x \n\t--x: bad\nSee more help with --help" -> "--x: bad"; keeps the flag's name once. */
function cleanParseMessage(message: string): string {
  const text = message.replace(OCLIF_HELP_HINT, '')
  const wrapped = /^Parsing (--[\w.-]+)\s*\n\t([\s\S]*)$/.exec(text)
  if (!wrapped) return text.replace(/\n+/g, ' ')
  const [, flag, inner] = wrapped
  return (inner.startsWith(flag) ? inner : `${flag}: ${inner}`).replace(/\n+/g, ' ')
}

/** The known command ("trace stats") nearest to the words typed, by edit distance; undefined if none is close. */
export function closestCommand(words: string[], commands: string[]): string | undefined {
  let best: { id: string; distance: number } | undefined
  for (const id of commands) {
    const depth = id.split(' ').length
    const distance = editDistance(words.slice(0, depth).join(' '), id)
    if (!best || distance < best.distance) best = { id, distance }
  }
  // More than half the name wrong is not a typo.
  return best && best.distance <= Math.max(2, Math.floor(best.id.length / 2)) ? best.id : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = row
  }
  return previous[b.length]
}
