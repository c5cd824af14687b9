// Starts the dispatcher inside a cluster child process through the dispatcher's library.
// TEMPORARY: service/dispatcher has not landed yet.

import { MissingDependencyError } from '../core/errors.js'
import type { DispatcherChildConfig } from './messages.js'

export async function startClusterDispatcher(_config: DispatcherChildConfig): Promise<{ port: number; url: string; close(): Promise<void> }> {
  throw new MissingDependencyError('the dispatcher (service/dispatcher) is not available yet')
}
