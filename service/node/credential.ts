// The cluster credential a relayed request carries: proof that a cluster member (who holds
// the cluster token) made the routing decision, so the receiving peer serves it without
// asking the dispatcher again. It binds the decision (target node, route) to the request
// (method, target) and a timestamp; stale or forged credentials are refused.
//
//   X-L7-Handoff: <node>.<route>.<unix ms>.<hex HMAC-SHA256(token, "node|route|ms|method|target")>

import { createHmac, timingSafeEqual } from 'node:crypto'

export const HANDOFF_HEADER = 'x-l7-handoff'
/** How old a credential may be (ms): covers clock skew between processes and queueing. */
export const CREDENTIAL_MAX_AGE_MS = 30_000

export type HandoffRoute = 'dispatched' | 'fallback'

function mac(token: string, node: number, route: string, ms: number, method: string, target: string): string {
  return createHmac('sha256', token).update(`${node}|${route}|${ms}|${method}|${target}`).digest('hex')
}

export function signHandoff(token: string, node: number, route: HandoffRoute, method: string, target: string, now = Date.now()): string {
  return `${node}.${route}.${now}.${mac(token, node, route, now, method, target)}`
}

/** The route the credential carries if it is valid for this node and request, else null. */
export function verifyHandoff(
  token: string,
  value: string,
  self: number,
  method: string,
  target: string,
  now = Date.now(),
): HandoffRoute | null {
  const m = /^(\d+)\.(dispatched|fallback)\.(\d+)\.([0-9a-f]{64})$/.exec(value)
  if (!m) return null
  const node = Number(m[1])
  const ms = Number(m[3])
  if (node !== self || Math.abs(now - ms) > CREDENTIAL_MAX_AGE_MS) return null
  const expected = Buffer.from(mac(token, node, m[2], ms, method, target), 'hex')
  const given = Buffer.from(m[4], 'hex')
  return timingSafeEqual(expected, given) ? (m[2] as HandoffRoute) : null
}
