// Errors of the node side of the control channel. A node branches on them: unavailable means
// "decide locally for now" (bounded-load consistent hashing), refused means misconfiguration.
import { L7Error } from '../core/errors.js'

/** The dispatcher cannot be reached (not connected, connection lost, or closed by us). */
export class DispatcherUnavailableError extends L7Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super('L7_DISPATCHER_UNAVAILABLE', message, options)
  }
}

/** The dispatcher refused this node (ERROR frame): wrong token, duplicate or bad node id. */
export class DispatcherRefusedError extends L7Error {
  /** Reason name from the protocol (BAD_TOKEN, DUPLICATE_NODE, ...). */
  readonly reason: string
  constructor(reason: string, message: string) {
    super('L7_DISPATCHER_REFUSED', `${reason}: ${message}`)
    this.reason = reason
  }
}
