// Typed errors shared by every component (after undici's lib/core/errors.js): callers
// branch on `code`, never on message text.

export class L7Error extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A caller passed a value outside what the API accepts (node id, batch size, option). */
export class InvalidArgumentError extends L7Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super('L7_INVALID_ARGUMENT', message, options)
  }
}

/** A frame or message on the control channel failed validation. */
export class ProtocolError extends L7Error {
  constructor(code: string, message: string) {
    super(code, message)
  }
}

/** A line of a trace or log could not be parsed (carries the 1-based line number). */
export class TraceParseError extends L7Error {
  readonly line: number
  constructor(line: number, message: string) {
    super('L7_TRACE_PARSE', `line ${line}: ${message}`)
    this.line = line
  }
}

/** Something this machine lacks (a peer binary, the native uWS build, Chromium). */
export class MissingDependencyError extends L7Error {
  constructor(message: string) {
    super('L7_MISSING_DEPENDENCY', message)
  }
}
