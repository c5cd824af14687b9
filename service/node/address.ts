// `host:port` as the node's --listen flag takes it.

import { InvalidArgumentError } from '../core/errors.js'

export function parseListen(text: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text)
  if (!m) throw new InvalidArgumentError(`${flag}: expected host:port or port, got "${text}"`)
  const port = Number(m[3])
  if (port > 65535) throw new InvalidArgumentError(`${flag}: port ${port} is out of range`)
  return { host: m[1] || m[2] || '127.0.0.1', port }
}

/** The address local clients reach a listener on: 127.0.0.1 for a wildcard (or no) host. */
export function reachableHost(host: string | undefined): string {
  return !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
}
