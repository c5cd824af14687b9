// One request through the node, as stages: parse (front.ts) -> check -> route (route.ts)
// -> serve here (serve.ts) or hand off, by passing the client socket to a sibling process
// (fd passing) or by relay to the peer (relay.ts). A request a peer routed here (a valid
// credential, or a socket a sibling passed) skips routing: the decision is made.

import { hashKey } from '../policy/index.js'
import { HANDOFF_HEADER, handoffDecision, signHandoff, verifyDecision, verifyHandoff, type HandoffRoute } from './credential.js'
import type { ClientStream } from './client-stream.js'
import type { ClientConnection, Outcome, RequestHandler } from './front.js'
import type { TargetHasher } from './hash.js'
import { headerValue, type RequestHead } from './http.js'
import type { NodeMetrics, Route } from './metrics.js'
import { lexicalPath } from './paths.js'
import { RelayError, type PeerRelay } from './relay.js'
import type { Arrival, Decision, Router } from './route.js'
import type { FileServer } from './serve.js'

/** Hands a client connection to a sibling process (fd passing). */
export interface SocketPasser {
  /** The sibling can be reached now (checked before the connection stops reading). */
  canPass(to: number): boolean
  /** Sends the socket with every byte read from it and not yet answered. */
  pass(to: number, socket: ClientStream, bytes: Buffer, route: HandoffRoute): void
}

export interface RequestPathOptions {
  self: number
  token: string
  hasher: TargetHasher
  router: Router
  server: FileServer
  relay: PeerRelay
  metrics: NodeMetrics
  passer?: SocketPasser
}

/**
 * The key a target is routed by: its path as served ('/' + the root-relative file), so
 * `/a//b`, `/./a/b` and `/%61/b` hash as `/a/b`. Paths already in that form, nearly all of
 * them, are hashed straight from the request bytes.
 */
export function targetHash(hasher: TargetHasher, bytes: Buffer, head: RequestHead, rawPath: string, rel: string): number {
  if (rawPath.length === rel.length + 1 && rawPath.startsWith(rel, 1)) return hasher(bytes, head.pathStart, head.pathEnd)
  return hashKey('/' + rel)
}

export class RequestPath implements RequestHandler {
  /** Requests this node is serving: its load, as DS and the dispatcher compare it. */
  inFlight = 0
  private readonly self: number

  constructor(private readonly o: RequestPathOptions) {
    this.self = o.self
  }

  refuse(socket: ClientStream, status: number, reason: string): void {
    this.o.server.error(socket, status, reason, false)
  }

  handle(conn: ClientConnection, head: RequestHead, bytes: Buffer, adopted: HandoffRoute | null): Outcome | Promise<Outcome> {
    const socket = conn.socket
    const server = this.o.server
    if (head.method !== 'GET' && head.method !== 'HEAD') {
      server.error(socket, 405, `method ${head.method} not allowed`, false)
      return 'close'
    }
    if (head.hasBody) {
      server.error(socket, 400, 'GET and HEAD take no body', false)
      return 'close'
    }
    // RFC 9110 section 10.1.1: 100-continue needs no interim response when there is no
    // content (it is not forwarded either); any other expectation cannot be met.
    if (head.expect !== null && head.expect !== '100-continue') {
      server.error(socket, 417, `expectation "${head.expect}" not supported`, false)
      return 'close'
    }
    const rawPath = bytes.toString('latin1', head.pathStart, head.pathEnd)
    const lexical = lexicalPath(rawPath)
    if ('status' in lexical) {
      server.error(socket, 400, lexical.reason, false)
      return 'close'
    }
    const rel = lexical.rel
    const hash = targetHash(this.o.hasher, bytes, head, rawPath, rel)

    if (adopted) {
      this.o.metrics.handoffsInFd++
      return this.handedIn(socket, head, rel, hash, adopted)
    }
    if (!head.forwardable) {
      // A head that carries a credential is never forwardable as it is (http.ts).
      const credential = headerValue(head, HANDOFF_HEADER)
      if (credential !== undefined) {
        const route = this.verifyCredential(conn, credential, head)
        if (!route) {
          this.o.metrics.handoffRefused++
          server.error(socket, 403, 'handoff credential refused', false)
          return 'close'
        }
        this.o.metrics.handoffsIn++
        return this.handedIn(socket, head, rel, hash, route)
      }
    }
    const decision = this.o.router.decide(hash, rawPath)
    if (decision instanceof Promise) return decision.then((d) => this.dispatch(conn, head, bytes, rel, hash, d))
    return this.dispatch(conn, head, bytes, rel, hash, decision)
  }

  /** A full credential (which makes the connection a trusted peer's), or a bare decision on a trusted connection. */
  private verifyCredential(conn: ClientConnection, value: string, head: RequestHead): HandoffRoute | null {
    if (!this.o.token) return null
    if (conn.trustedPeer) {
      const route = verifyDecision(value, this.self)
      if (route) return route
    }
    const route = verifyHandoff(this.o.token, value, this.self, head.method, head.target)
    if (route) conn.trustedPeer = true
    return route
  }

  /** A request a peer routed here: the decision is made; serve it. */
  private handedIn(socket: ClientStream, head: RequestHead, rel: string, hash: number, route: HandoffRoute): Outcome | Promise<Outcome> {
    if (route === 'fallback') return this.serveCounted(socket, head, rel, 'fallback', hash, { node: this.self, route: 'fallback-in' })
    // A dispatcher's answer, asked for or reused by the sender (a reused one sends no DONE:
    // route.ts, Router.finished); either way DS's node half learns the target is ours.
    this.o.router.handedIn(hash)
    if (route === 'dispatched') return this.serveCounted(socket, head, rel, 'handoff', hash, { node: this.self, route: 'handoff-in' })
    return this.serveCounted(socket, head, rel, 'reused', hash, { node: this.self, route: 'reused-in' })
  }

  private dispatch(conn: ClientConnection, head: RequestHead, bytes: Buffer, rel: string, hash: number, decision: Decision): Outcome | Promise<Outcome> {
    if (decision.node === this.self) return this.serveCounted(conn.socket, head, rel, decision.route, hash, decision)
    return this.handOff(conn, head, bytes, rel, hash, decision)
  }

  /**
   * Serves from this node, counting the request in its load until the response is written
   * or buffered below the high-water mark; then releases what the decision counted.
   */
  private serveCounted(socket: ClientStream, head: RequestHead, rel: string, route: Route, hash: number, decision: Arrival): Outcome | Promise<Outcome> {
    this.inFlight++
    const settle = (ok: boolean): Outcome => {
      this.o.router.finished(hash, decision)
      if (ok) this.inFlight--
      else socket.whenWritable(() => this.inFlight--)
      return ok ? 'next' : 'drain'
    }
    const result = this.o.server.serve(socket, head, rel, route)
    return result instanceof Promise ? result.then(settle) : settle(result)
  }

  private async handOff(conn: ClientConnection, head: RequestHead, bytes: Buffer, rel: string, hash: number, first: Decision): Promise<Outcome> {
    const { router, relay, metrics, passer } = this.o
    let decision = first
    const tried = new Set<number>()
    for (;;) {
      if (decision.node === this.self) return this.serveCounted(conn.socket, head, rel, decision.route, hash, decision)
      const to = decision.node
      const route: HandoffRoute = decision.route === 'dispatched' || decision.route === 'reused' ? decision.route : 'fallback'
      if (passer && passer.canPass(to)) {
        const unread = conn.detach()
        if (unread) {
          passer.pass(to, conn.socket, unread, route)
          metrics.handoffsOutFd++
          router.finished(hash, decision)
          return 'gone'
        }
        // Responses still on their way out: this one goes by relay instead.
      }
      try {
        const token = this.o.token
        const credential = (connectionTrusted: boolean) =>
          `${HANDOFF_HEADER}: ${connectionTrusted ? handoffDecision(to, route) : signHandoff(token, to, route, head.method, head.target)}\r\n`
        metrics.handoffsOut++
        const outcome = await relay.relay(conn.socket, head, bytes, to, credential)
        router.finished(hash, decision)
        return conn.socket.destroyed ? 'gone' : outcome
      } catch (err) {
        router.finished(hash, decision)
        if (!(err instanceof RelayError) || !err.beforeResponse || conn.socket.destroyed) return 'gone'
        // The peer failed before answering: the request is idempotent (GET/HEAD), so try
        // the next choice; the client sees a response, not an error.
        metrics.handoffRetries++
        tried.add(to)
        router.peerFailed(to)
        decision = tried.size > router.peerCount ? { node: this.self, route: 'fallback' } : router.fallbackDecision(hash, tried)
      }
    }
  }
}
