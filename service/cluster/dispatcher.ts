// Starts the dispatcher inside a cluster child process through the dispatcher's library,
// on the Wasm scheduler when it is built, else the TypeScript reference (same decisions).

import { startDispatcher, type Dispatcher, type LogFn } from '../dispatcher/dispatcher.js'
import { reachableHost } from '../node/address.js'
import type { DispatcherChildConfig } from './messages.js'

/** The URL nodes reach a cluster dispatcher on (a wildcard listen address is reached on loopback). */
export function clusterDispatcherUrl(config: Pick<DispatcherChildConfig, 'host'>, port: number): string {
  const host = reachableHost(config.host)
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}`
}

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
  return { port: dispatcher.port, url: clusterDispatcherUrl(config, dispatcher.port), adminPort: dispatcher.adminPort, close: () => dispatcher.close() }
}
