// Starts the dispatcher inside a cluster child process through the dispatcher's library,
// on the Wasm scheduler when it is built, else the TypeScript reference (same decisions).

import { startDispatcher, type Dispatcher, type LogFn } from '../dispatcher/dispatcher.js'
import type { DispatcherChildConfig } from './messages.js'

/** Warnings and errors only: joins and leaves would drown the cluster's one-line output. */
const quietLog: LogFn = (level, event, fields = {}) => {
  if (level !== 'info') process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + '\n')
}

export async function startClusterDispatcher(config: DispatcherChildConfig): Promise<{ port: number; url: string; adminPort: number | null; close(): Promise<void> }> {
  const options = { policy: config.policy, params: config.params, host: config.host, port: config.port, token: config.token, adminPort: config.adminPort, log: quietLog }
  let dispatcher: Dispatcher
  try {
    dispatcher = await startDispatcher({ ...options, impl: 'wasm' })
  } catch {
    dispatcher = await startDispatcher({ ...options, impl: 'ts' })
  }
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host
  return { port: dispatcher.port, url: `ws://${host}:${dispatcher.port}`, adminPort: dispatcher.adminPort, close: () => dispatcher.close() }
}
