// A cluster node: the client-facing HTTP/1.x front end, the content server over a document
// root, the routing of each request (DS fast path, dispatcher, fallback), and handoff to
// peers (relay over keep-alive pools, or passing the client socket itself).
//
// Each request on a connection is routed on its own (HTTP/1.1 keep-alive included):
//   hash the path from the raw bytes -> a credential from a peer? serve it (or 403)
//   -> DS node half says local? serve -> ask the dispatcher -> self: serve; peer: hand off
//   -> dispatcher unreachable: chbl over the last membership ("fallback").

import net from 'node:net'
import http from 'node:http'
import { realpath } from 'node:fs/promises'
import { once } from 'node:events'
import { Pool } from 'undici'
import { InvalidArgumentError } from '../core/errors.js'
import type { LocalTable, PolicyName } from '../policy/types.js'
import { ContentCache } from './cache.js'
import { EmulatedDisk, type DiskModel } from './disk.js'
import { HANDOFF_HEADER, signHandoff, verifyHandoff, type HandoffRoute } from './credential.js'
import { FallbackRouter } from './fallback.js'
import { createTargetHasher, type TargetHasher } from './hash.js'
import { STATUS_TEXT, headerValue, httpDate, parseRequestHead, type RequestHead } from './http.js'
import { NodeMetrics, type Route } from './metrics.js'
import { lexicalPath } from './paths.js'

export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024

/** Where one request goes and how the decision was made. */
export interface Decision {
  node: number
  route: 'local' | 'dispatched' | 'fallback'
}

/** What the node gives its dispatcher link. */
export interface LinkHost {
  id: number
  /** This node's HTTP address as peers reach it (host:port). */
  address: string
  load(): number
  /** The membership changed: peers' addresses by node id (this node excluded). */
  setPeers(peers: Record<number, string>): void
  log(message: string): void
}

/**
 * The node's view of the dispatcher (the control client, adapted in control-link.ts):
 * routing questions, load reports, membership. Absent = no dispatcher.
 */
export interface ControlLink {
  readonly connected: boolean
  /** Policy the dispatcher runs (from its WELCOME); null until the first WELCOME. */
  readonly policy: PolicyName | null
  /** DS node half (policy ds only), built with the WELCOME's parameters. */
  readonly localTable: LocalTable | null
  /** Resolves on the first WELCOME, or after timeoutMs (the node then starts in fallback). */
  ready(timeoutMs: number): Promise<void>
  /** Ask which node serves `hash`; rejects when the dispatcher is unreachable. */
  assign(hash: number, ownLoad: number): Promise<number>
  /** This node finished a request the dispatcher counted against it. */
  done(hash: number): void
  /** DS: this node served `hash` locally without asking. */
  reportLocal(hash: number): void
  close(): Promise<void>
}

export interface NodeOptions {
  id: number
  docroot: string
  host?: string
  /** Client-facing port; 0 = ephemeral. */
  port?: number
  /** host:port peers and the dispatcher should use to reach this node (default: the listen address; 127.0.0.1 for a wildcard). */
  advertise?: string
  /** Admin port (/metrics, /healthz); 0 = ephemeral, null = no admin server. */
  adminPort?: number | null
  cacheBytes?: number
  disk?: DiskModel | null
  /** Cluster token: signs handoff credentials (and registers with the dispatcher). */
  token?: string
  /** The dispatcher connection; absent = no dispatcher (alone: policy `local`; with peers: chbl). */
  link?: (host: LinkHost) => ControlLink
  /** Peers' HTTP addresses (`host:port`) by node id; updated with setPeers(). */
  peers?: Record<number, string>
  /** Fixed routing (tests, benchmarks): replaces DS/dispatcher/fallback. */
  decide?: (hash: number, path: string) => Decision
  /** Hand a client connection to a sibling process (fd passing); false = not possible, relay. */
  passSocket?: (to: number, socket: net.Socket, bytes: Buffer, route: HandoffRoute) => boolean
  hasher?: TargetHasher
  /** How long startNode waits for the dispatcher's WELCOME before starting in fallback (ms). */
  linkReadyTimeoutMs?: number
  headerTimeoutMs?: number
  idleTimeoutMs?: number
}

export interface ClusterNode {
  readonly id: number
  readonly port: number
  readonly url: string
  readonly adminPort: number | null
  readonly metrics: NodeMetrics
  readonly cache: ContentCache
  /** Current load: requests this node is serving. */
  load(): number
  setPeers(peers: Record<number, string>): void
  /** Take over a client connection handed off by a sibling, with the bytes already read from it. */
  adoptSocket(socket: net.Socket, bytes: Buffer, route: HandoffRoute): void
  metricsText(): string
  close(): Promise<void>
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'proxy-connection', 'trailer'])
const MAX_BUFFERED_PIPELINE = 64 * 1024

export async function startNode(options: NodeOptions): Promise<ClusterNode> {
  if (!Number.isInteger(options.id) || options.id < 0) throw new InvalidArgumentError(`node id must be an integer >= 0, got ${options.id}`)
  const self = options.id
  const realRoot = await realpath(options.docroot).catch((err) => {
    throw new InvalidArgumentError(`document root ${options.docroot} cannot be opened: ${(err as Error).message}`)
  })
  const cache = new ContentCache(realRoot, options.cacheBytes ?? DEFAULT_CACHE_BYTES, options.disk ? new EmulatedDisk(options.disk) : null)
  const metrics = new NodeMetrics()
  const hasher = options.hasher ?? (await createTargetHasher())
  const token = options.token ?? ''
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000
  const fallback = new FallbackRouter(self)
  const peers = new Map<number, { address: string; pool: Pool | null }>()
  const connections = new Set<net.Socket>()
  let inFlight = 0
  let closing = false

  function setPeers(map: Record<number, string>): void {
    const next = new Map(Object.entries(map).map(([k, v]) => [Number(k), v]))
    for (const [id, peer] of peers) {
      if (next.get(id) !== peer.address) {
        void peer.pool?.close().catch(() => {})
        peers.delete(id)
      }
    }
    for (const [id, address] of next) if (id !== self && !peers.has(id)) peers.set(id, { address, pool: null })
    fallback.setMembers([...peers.keys()])
  }
  if (options.peers) setPeers(options.peers)

  function poolFor(id: number): Pool | null {
    const peer = peers.get(id)
    if (!peer) return null
    peer.pool ??= new Pool(`http://${peer.address}`, { connections: 32, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: 2000 })
    return peer.pool
  }

  // ---- routing ----------------------------------------------------------------------
  let link: ControlLink | null = null

  function fallbackDecision(hash: number, exclude?: ReadonlySet<number>): Decision {
    return { node: fallback.pick(hash, exclude), route: 'fallback' }
  }

  function decide(hash: number, path: string): Decision | Promise<Decision> {
    if (options.decide) return options.decide(hash, path)
    // No dispatcher: alone, every request is local; with known peers, chbl over them.
    if (!link) return peers.size === 0 ? { node: self, route: 'local' } : fallbackDecision(hash)
    const localTable = link.localTable
    if (localTable && localTable.check(hash, performance.now() * 1000, inFlight)) {
      link.reportLocal(hash)
      return { node: self, route: 'local' }
    }
    if (!link.connected) {
      metrics.enterFallback()
      return fallbackDecision(hash)
    }
    const started = performance.now()
    return link.assign(hash, inFlight).then(
      (node) => {
        metrics.leaveFallback()
        metrics.rtt((performance.now() - started) / 1000)
        if (node === self) link!.localTable?.assign(hash, performance.now() * 1000)
        if (node !== self && !peers.has(node)) {
          // A member we have no address for (membership lagging): serve it ourselves.
          return { node: self, route: 'fallback' as const }
        }
        return { node, route: 'dispatched' as const }
      },
      () => {
        metrics.enterFallback()
        return fallbackDecision(hash)
      },
    )
  }

  /** The request is finished: release what its decision counted. */
  function finished(hash: number, decision: Decision | { node: number; route: 'handoff-in' | 'fallback-in' }): void {
    if (decision.route === 'fallback') fallback.release(decision.node, hash)
    else if (decision.node === self && (decision.route === 'dispatched' || decision.route === 'handoff-in')) link?.done(hash)
  }

  // ---- responses --------------------------------------------------------------------
  function writeHead(
    status: number,
    contentType: string,
    length: number,
    keepAlive: boolean,
    route: Route,
    cache: 'hit' | 'miss',
  ): string {
    return (
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\nServer: l7\r\nDate: ${httpDate()}\r\n` +
      `Content-Type: ${contentType}\r\nContent-Length: ${length}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n` +
      `X-L7-Node: ${self}\r\nX-L7-Route: ${route}\r\nX-L7-Cache: ${cache}\r\n\r\n`
    )
  }

  /** Writes a whole response; resolves once the socket can take more (backpressure). */
  function send(socket: net.Socket, head: string, body: Buffer | null): boolean {
    if (socket.destroyed) return true
    if (!body || body.length === 0) return socket.write(head, 'latin1')
    if (body.length <= 16 * 1024) {
      const hl = Buffer.byteLength(head, 'latin1')
      const out = Buffer.allocUnsafe(hl + body.length)
      out.write(head, 0, 'latin1')
      body.copy(out, hl)
      return socket.write(out)
    }
    socket.cork()
    socket.write(head, 'latin1')
    const ok = socket.write(body)
    socket.uncork()
    return ok
  }

  function sendError(socket: net.Socket, status: number, reason: string, keepAlive: boolean, route: Route = 'local'): boolean {
    const body = Buffer.from(`${status} ${STATUS_TEXT[status] ?? ''}: ${reason}\n`)
    metrics.served(route, status, body.length)
    return send(socket, writeHead(status, 'text/plain; charset=utf-8', body.length, keepAlive, route, 'miss'), body)
  }

  /** Serve a request from this node's own cache. Returns false if the socket needs draining. */
  function serveLocal(socket: net.Socket, head: RequestHead, rel: string, route: Route): boolean | Promise<boolean> {
    const isHead = head.method === 'HEAD'
    const hit = cache.peek(rel)
    if (hit) {
      metrics.served(route, 200, isHead ? 0 : hit.body.length)
      return send(socket, writeHead(200, hit.contentType, hit.body.length, head.keepAlive, route, 'hit'), isHead ? null : hit.body)
    }
    return cache.get(rel).then(
      (found) => {
        if (!found) return sendError(socket, 404, 'no such file', head.keepAlive, route)
        metrics.served(route, 200, isHead ? 0 : found.file.body.length)
        return send(
          socket,
          writeHead(200, found.file.contentType, found.file.body.length, head.keepAlive, route, found.hit ? 'hit' : 'miss'),
          isHead ? null : found.file.body,
        )
      },
      (err) => {
        return sendError(socket, 500, (err as Error).message, false, route)
      },
    )
  }

  /**
   * Relay a request to a peer and stream its response back. Resolves to whether the client
   * connection may go on (keep-alive); throws if the peer failed before answering.
   */
  async function relay(socket: net.Socket, head: RequestHead, to: number, route: HandoffRoute): Promise<boolean> {
    const pool = poolFor(to)
    if (!pool) throw new Error(`no address for node ${to}`)
    const headers: Record<string, string> = {}
    for (const [name, value] of head.headers) {
      if (HOP_BY_HOP.has(name) || name === HANDOFF_HEADER || name === 'content-length') continue
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value
    }
    headers[HANDOFF_HEADER] = signHandoff(token, to, route, head.method, head.target)
    const res = await pool.request({ method: head.method as 'GET', path: head.target, headers, headersTimeout: 10_000, bodyTimeout: 30_000 })
    // Destroying the body when the client has gone emits an abort error: nothing to report.
    res.body.on('error', () => {})
    metrics.handoffsOut++
    let out = `HTTP/1.1 ${res.statusCode} ${STATUS_TEXT[res.statusCode] ?? ''}\r\n`
    let hasLength = false
    for (const [name, value] of Object.entries(res.headers)) {
      if (HOP_BY_HOP.has(name) || value === undefined) continue
      if (name === 'content-length') hasLength = true
      for (const v of Array.isArray(value) ? value : [value]) out += `${name}: ${v}\r\n`
    }
    const keepAlive = head.keepAlive && hasLength
    out += `connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`
    if (socket.destroyed) {
      res.body.destroy()
      return false
    }
    socket.write(out, 'latin1')
    try {
      for await (const chunk of res.body) {
        if (socket.destroyed) {
          res.body.destroy()
          return false
        }
        if (!socket.write(chunk)) await once(socket, 'drain')
      }
    } catch {
      // The peer failed after its head went out: the response cannot be redone, so the
      // client sees the connection close short of Content-Length (as with any proxy).
      socket.destroy()
      return false
    }
    return keepAlive
  }

  // ---- one request ------------------------------------------------------------------
  /**
   * Handles the request whose head is parsed; `bytes` holds it and whatever followed.
   * Resolves to 'next' (go on with the connection), 'drain' (wait for drain first),
   * or 'gone' (the socket was handed to another process or closed).
   */
  function handle(socket: net.Socket, head: RequestHead, bytes: Buffer, adopted: HandoffRoute | null): Outcome | Promise<Outcome> {
    if (head.method !== 'GET' && head.method !== 'HEAD') {
      sendError(socket, 405, `method ${head.method} not allowed`, false)
      return 'close'
    }
    if (head.hasBody) {
      sendError(socket, 400, 'GET and HEAD take no body', false)
      return 'close'
    }
    const rawPath = bytes.toString('latin1', head.pathStart, head.pathEnd)
    const lexical = lexicalPath(rawPath)
    if ('status' in lexical) {
      sendError(socket, 400, lexical.reason, false)
      return 'close'
    }
    const rel = lexical.rel

    // A request relayed by a peer, or a socket passed by a sibling: the decision is made.
    if (adopted) {
      metrics.handoffsInFd++
      return handedIn(socket, head, bytes, rel, adopted)
    }
    const credential = headerValue(head, HANDOFF_HEADER)
    if (credential !== undefined) {
      const route = token ? verifyHandoff(token, credential, self, head.method, head.target) : null
      if (!route) {
        metrics.handoffRefused++
        sendError(socket, 403, 'handoff credential refused', false)
        return 'close'
      }
      metrics.handoffsIn++
      return handedIn(socket, head, bytes, rel, route)
    }

    const hash = hashOf(bytes, head)
    const decision = decide(hash, rawPath)
    if (decision instanceof Promise) return decision.then((d) => dispatch(socket, head, bytes, rel, hash, d))
    return dispatch(socket, head, bytes, rel, hash, decision)
  }

  /** A request a peer routed here: the decision is made; serve it. */
  function handedIn(socket: net.Socket, head: RequestHead, bytes: Buffer, rel: string, route: HandoffRoute): Outcome | Promise<Outcome> {
    const hash = hashOf(bytes, head)
    // The dispatcher assigned the target to this node: the DS node half records it here,
    // so that clients arriving here directly can be served without asking.
    if (route === 'dispatched') link?.localTable?.assign(hash, performance.now() * 1000)
    return serveCounted(socket, head, rel, route === 'dispatched' ? 'handoff' : 'fallback', () =>
      finished(hash, route === 'dispatched' ? { node: self, route: 'handoff-in' } : { node: self, route: 'fallback-in' }),
    )
  }

  function hashOf(bytes: Buffer, head: RequestHead): number {
    return hasher(bytes, head.pathStart, head.pathEnd)
  }

  /**
   * Serves from this node and counts the request in the node's load (what DS and the
   * dispatcher compare) until its response is written or buffered below the high-water
   * mark; `done` then releases what the routing decision counted.
   */
  function serveCounted(socket: net.Socket, head: RequestHead, rel: string, route: Route, done: () => void): Outcome | Promise<Outcome> {
    inFlight++
    const settle = (ok: boolean): Outcome => {
      done()
      if (ok) inFlight--
      else {
        const release = () => {
          socket.off('drain', release)
          socket.off('close', release)
          inFlight--
        }
        socket.on('drain', release)
        socket.on('close', release)
      }
      return ok ? 'next' : 'drain'
    }
    const result = serveLocal(socket, head, rel, route)
    return result instanceof Promise ? result.then(settle) : settle(result)
  }

  async function dispatchAsync(
    socket: net.Socket,
    head: RequestHead,
    bytes: Buffer,
    rel: string,
    hash: number,
    first: Decision,
  ): Promise<Outcome> {
    let decision = first
    const tried = new Set<number>()
    for (;;) {
      if (decision.node === self) return serveCounted(socket, head, rel, decision.route, () => finished(hash, decision))
      const to = decision.node
      const route: HandoffRoute = decision.route === 'dispatched' ? 'dispatched' : 'fallback'
      if (options.passSocket && options.passSocket(to, socket, bytes, route)) {
        metrics.handoffsOutFd++
        finished(hash, decision)
        return 'gone'
      }
      try {
        const keepAlive = await relay(socket, head, to, route)
        finished(hash, decision)
        return keepAlive && !socket.destroyed ? 'next' : 'close'
      } catch (err) {
        finished(hash, decision)
        if (socket.destroyed) return 'gone'
        // The peer failed before answering: the request is idempotent (GET/HEAD), so try
        // the next choice; the client sees a response, not an error.
        metrics.handoffRetries++
        tried.add(to)
        fallback.peerFailed(to)
        if (tried.size > peers.size) decision = { node: self, route: 'fallback' }
        else decision = fallbackDecision(hash, tried)
      }
    }
  }

  function dispatch(socket: net.Socket, head: RequestHead, bytes: Buffer, rel: string, hash: number, decision: Decision): Outcome | Promise<Outcome> {
    if (decision.node === self) return serveCounted(socket, head, rel, decision.route, () => finished(hash, decision))
    return dispatchAsync(socket, head, bytes, rel, hash, decision)
  }

  // ---- connections ------------------------------------------------------------------
  function serveConnection(socket: net.Socket, initial: Buffer | null, adopted: HandoffRoute | null): void {
    connections.add(socket)
    socket.setNoDelay(true)
    socket.setTimeout(idleTimeoutMs)
    let buf: Buffer | null = initial && initial.length > 0 ? initial : null
    let busy = false
    let headStartedAt = buf ? performance.now() : 0
    let firstAdopted = adopted

    socket.on('timeout', () => {
      if (!busy && buf) sendError(socket, 408, 'request head not received in time', false)
      socket.destroy()
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => connections.delete(socket))
    /** No more requests on this connection: answer what was answered, then close. */
    let ended = false
    function endConnection(): void {
      ended = true
      buf = null
      socket.end()
    }

    socket.on('data', (chunk: Buffer) => {
      if (ended) return
      if (!buf) {
        buf = chunk
        headStartedAt = performance.now()
      } else buf = Buffer.concat([buf, chunk])
      if (busy) {
        if (buf.length > MAX_BUFFERED_PIPELINE) socket.pause()
        return
      }
      pump()
    })

    function pump(): void {
      while (buf && !busy && !socket.destroyed) {
        const parsed = parseRequestHead(buf)
        if ('incomplete' in parsed) {
          if (performance.now() - headStartedAt > headerTimeoutMs) {
            sendError(socket, 408, 'request head not received in time', false)
            endConnection()
          }
          return
        }
        if ('error' in parsed) {
          sendError(socket, parsed.error.status, parsed.error.reason, false)
          endConnection()
          return
        }
        const head = parsed.head
        const bytes = buf
        buf = head.headEnd < bytes.length ? bytes.subarray(head.headEnd) : null
        if (buf) headStartedAt = performance.now()
        const adoptedNow = firstAdopted
        firstAdopted = null
        let outcome: Outcome | Promise<Outcome>
        try {
          outcome = handle(socket, head, bytes, adoptedNow)
        } catch (err) {
          sendError(socket, 500, (err as Error).message, false)
          outcome = 'close'
        }
        if (outcome instanceof Promise) {
          busy = true
          outcome.then(
            (o) => proceed(o, head),
            (err) => {
              sendError(socket, 500, (err as Error).message, false)
              proceed('close', head)
            },
          )
          return
        }
        if (!settle(outcome, head)) return
      }
    }

    /** Applies an outcome synchronously; true = go on parsing. */
    function settle(outcome: Outcome, head: RequestHead): boolean {
      if (outcome === 'gone') {
        connections.delete(socket)
        buf = null
        return false
      }
      if (outcome === 'close' || !head.keepAlive || closing) {
        endConnection()
        return false
      }
      if (outcome === 'drain') {
        busy = true
        socket.once('drain', () => proceed('next', head))
        return false
      }
      return true
    }

    function proceed(outcome: Outcome, head: RequestHead): void {
      busy = false
      if (settle(outcome, head)) {
        if (socket.isPaused()) socket.resume()
        pump()
      }
    }

    if (buf) pump()
  }

  const server = net.createServer({ noDelay: true }, (socket) => serveConnection(socket, null, null))
  server.maxConnections = 10_000
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  const advertiseHost = !options.host || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host
  const address = options.advertise ?? `${advertiseHost}:${port}`

  let admin: http.Server | null = null
  let adminPort: number | null = null
  if (options.adminPort !== null) {
    admin = http.createServer((req, res) => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        res.end(metricsText())
      } else if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ ok: true, node: self, dispatcher: link ? (link.connected ? 'connected' : 'unreachable') : 'none', load: inFlight }))
      } else {
        res.writeHead(404).end()
      }
    })
    admin.listen(options.adminPort ?? 0, options.host ?? '127.0.0.1')
    await once(admin, 'listening')
    adminPort = (admin.address() as net.AddressInfo).port
  }

  function metricsText(): string {
    return metrics.render(self, cache.stats(), inFlight)
  }

  if (options.link) {
    link = options.link({ id: self, address, load: () => inFlight, setPeers, log: (m) => process.stderr.write(`node ${self}: ${m}\n`) })
    await link.ready(options.linkReadyTimeoutMs ?? 5000)
  }

  return {
    id: self,
    port,
    url: `http://${advertiseHost}:${port}`,
    adminPort,
    metrics,
    cache,
    load: () => inFlight,
    setPeers,
    adoptSocket(socket, bytes, route) {
      serveConnection(socket, bytes, route)
    },
    metricsText,
    async close() {
      closing = true
      server.close()
      for (const s of connections) s.destroy()
      admin?.close()
      admin?.closeAllConnections()
      await link?.close()
      await Promise.all([...peers.values()].map((p) => p.pool?.destroy().catch(() => {})))
      fallback.close()
    },
  }
}

type Outcome = 'next' | 'drain' | 'close' | 'gone'
