// The cluster credential a relayed request carries: proof that a cluster member (who holds
// the cluster token) made the routing decision, so the receiving peer serves it without
// asking the dispatcher again. It binds the decision (target node, route) to the request
// (method, target), a timestamp and a random nonce; stale, future-dated, forged or replayed
// credentials are refused.
//
//   X-L7-Handoff: <node>.<route>.<unix ms>.<nonce: 16 hex>.<hex HMAC-SHA256(token, "node|route|ms|nonce|method|target")>
//
// Single use: the receiving node remembers every nonce it accepted for as long as the
// credential could still be accepted, so a credential seen on the wire (a client, a proxy
// log) cannot be replayed.
//
// Bound to the connection: the relay keeps persistent connections to each peer and signs only
// the first request of each (a retry on a new connection signs again). Once a connection has
// shown a valid credential, the peer trusts that connection, and later requests on it carry
// the decision alone:
//
//   X-L7-Handoff: <node>.<route>
//
// which is refused on any connection that has not shown a credential. Only the relaying node
// writes to its connection, so a client cannot borrow the trust; and signing costs about as
// much as serving a small file, so one signature per connection instead of per request is
// most of the relay's CPU saved.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const HANDOFF_HEADER = 'x-l7-handoff'
/** How old a credential may be (ms): a relayed request travels one hop on the cluster's network. */
export const CREDENTIAL_MAX_AGE_MS = 10_000
/** How far in the future a credential's time may be (ms): clock skew between cluster hosts. */
export const CREDENTIAL_MAX_SKEW_MS = 1_000

/**
 * How the sender decided: the dispatcher's answer, the fallback, or a recent answer of the
 * dispatcher reused without asking (PolicyParams.reuseMs; the serving node sends no DONE for it).
 */
export type HandoffRoute = 'dispatched' | 'fallback' | 'reused'

function mac(token: string, node: number, route: string, ms: number, nonce: string, method: string, target: string): string {
  return createHmac('sha256', token).update(`${node}|${route}|${ms}|${nonce}|${method}|${target}`).digest('hex')
}

export function signHandoff(token: string, node: number, route: HandoffRoute, method: string, target: string, now = Date.now()): string {
  const nonce = randomBytes(8).toString('hex')
  return `${node}.${route}.${now}.${nonce}.${mac(token, node, route, now, nonce, method, target)}`
}

/**
 * Nonces of credentials accepted, kept in two generations that rotate every
 * (max age + skew): a nonce stays at least that long, the longest its credential is
 * acceptable, and memory is bounded by the credentials accepted in two windows.
 */
export class ReplayGuard {
  private current = new Set<string>()
  private previous = new Set<string>()
  private rotatedAt: number

  constructor(
    private readonly windowMs = CREDENTIAL_MAX_AGE_MS + CREDENTIAL_MAX_SKEW_MS,
    now = Date.now(),
  ) {
    this.rotatedAt = now
  }

  /** True the first time `nonce` is claimed within its window, false on a replay. */
  claim(nonce: string, now = Date.now()): boolean {
    if (now - this.rotatedAt >= this.windowMs) {
      // Two windows or more without a claim: everything held is past its credential's age.
      this.previous = now - this.rotatedAt >= 2 * this.windowMs ? new Set() : this.current
      this.current = new Set()
      this.rotatedAt = now
    }
    if (this.current.has(nonce) || this.previous.has(nonce)) return false
    this.current.add(nonce)
    return true
  }

  get size(): number {
    return this.current.size + this.previous.size
  }
}

/** One guard per process: the credentials a node accepts (node ids are in the MAC, so nodes sharing a process do not collide). */
const processGuard = new ReplayGuard()

const CREDENTIAL = /^(\d+)\.(dispatched|fallback|reused)\.(\d+)\.([0-9a-f]{16})\.([0-9a-f]{64})$/

/** The route the credential carries if it is valid for this node and request and not seen before, else null. */
export function verifyHandoff(
  token: string,
  value: string,
  self: number,
  method: string,
  target: string,
  now = Date.now(),
  guard: ReplayGuard = processGuard,
): HandoffRoute | null {
  const m = CREDENTIAL.exec(value)
  if (!m) return null
  const node = Number(m[1])
  const ms = Number(m[3])
  if (node !== self || now - ms > CREDENTIAL_MAX_AGE_MS || ms - now > CREDENTIAL_MAX_SKEW_MS) return null
  const expected = Buffer.from(mac(token, node, m[2], ms, m[4], method, target), 'hex')
  const given = Buffer.from(m[5], 'hex')
  if (!timingSafeEqual(expected, given)) return null
  // Claimed only once the MAC holds: forged nonces cannot fill the guard.
  return guard.claim(m[4], now) ? (m[2] as HandoffRoute) : null
}

const DECISION = /^(\d+)\.(dispatched|fallback|reused)$/

/** The short form sent on a connection that has shown a credential. */
export function handoffDecision(node: number, route: HandoffRoute): string {
  return `${node}.${route}`
}

/** The route a short-form decision carries if it names this node, else null (trusted connections only). */
export function verifyDecision(value: string, self: number): HandoffRoute | null {
  const m = DECISION.exec(value)
  return m && Number(m[1]) === self ? (m[2] as HandoffRoute) : null
}
