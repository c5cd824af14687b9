// A cluster node: the client-facing HTTP/1.x front end, the content server over a document
// root, the routing of each request (DS fast path, dispatcher, fallback), and handoff to
// peers (relay over persistent connections, or passing the client socket itself).
//
// This file puts the stages together; each lives in its own module:
//   front.ts (connections, parsing, order, deadlines) -> request-path.ts (checks, credential)
//   -> route.ts (DS / dispatcher / fallback) -> serve.ts (cache) | relay.ts | fd passing
//   admin.ts (/metrics, /healthz)

import net from 'node:net'
import type http from 'node:http'
import { realpath } from 'node:fs/promises'
import { once } from 'node:events'
import { InvalidArgumentError } from '../core/errors.js'
import { reachableHost } from './address.js'
import { startAdmin } from './admin.js'
import { ContentCache } from './cache.js'
import { acceptHandles, takeHandle, type ClientHandle } from './client-socket.js'
import type { HandoffRoute } from './credential.js'
import { EmulatedDisk, type DiskModel } from './disk.js'
import { DEFAULT_FRONT_OPTIONS, FrontEnd } from './front.js'
import { createTargetHasher, type TargetHasher } from './hash.js'
import { NodeMetrics } from './metrics.js'
import { PeerRelay } from './relay.js'
import { RequestPath, type SocketPasser } from './request-path.js'
import { Router, type ControlLink, type Decision } from './route.js'
import { FileServer } from './serve.js'

export type { ControlLink, Decision } from './route.js'
export type { SocketPasser } from './request-path.js'

export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024

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
  /** Admin listener's address (default 127.0.0.1: operators only). */
  adminHost?: string
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
  /** Hands client connections to sibling processes (fd passing); absent = relay only. */
  passer?: SocketPasser
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
  /**
   * Take over a client connection handed off by a sibling (its handle, or a net.Socket the
   * parent delivered), with the bytes already read from it.
   */
  adoptSocket(client: ClientHandle | net.Socket, bytes: Buffer, route: HandoffRoute): void
  /**
   * Also accept clients on `handle`, a listening socket other processes accept on too (the
   * cluster's shared front: the kernel gives each connection to one of them).
   */
  acceptShared(handle: object): Promise<void>
  metricsText(): string
  close(): Promise<void>
}

/** Client connections a node holds at most; more are closed as they are accepted. */
const MAX_CLIENTS = 10_000

export async function startNode(options: NodeOptions): Promise<ClusterNode> {
  if (!Number.isInteger(options.id) || options.id < 0) throw new InvalidArgumentError(`node id must be an integer >= 0, got ${options.id}`)
  const self = options.id
  const realRoot = await realpath(options.docroot).catch((err) => {
    throw new InvalidArgumentError(`document root ${options.docroot} cannot be opened: ${(err as Error).message}`)
  })
  const cache = new ContentCache(realRoot, options.cacheBytes ?? DEFAULT_CACHE_BYTES, options.disk ? new EmulatedDisk(options.disk) : null)
  const metrics = new NodeMetrics()
  const relay = new PeerRelay()
  // The router reads the load from the request path, which is made just below.
  let path: RequestPath | null = null
  const load = () => path?.inFlight ?? 0
  const router = new Router({ self, metrics, load, decide: options.decide })
  path = new RequestPath({
    self,
    token: options.token ?? '',
    hasher: options.hasher ?? (await createTargetHasher()),
    router,
    server: new FileServer(self, cache, metrics),
    relay,
    metrics,
    passer: options.passer,
  })
  const front = new FrontEnd(path, {
    ...DEFAULT_FRONT_OPTIONS,
    headerTimeoutMs: options.headerTimeoutMs ?? DEFAULT_FRONT_OPTIONS.headerTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_FRONT_OPTIONS.idleTimeoutMs,
  })

  function setPeers(map: Record<number, string>): void {
    const peers = new Map<number, string>()
    for (const [id, address] of Object.entries(map)) if (Number(id) !== self) peers.set(Number(id), address)
    relay.setPeers(peers)
    router.setPeers(peers.keys())
  }
  if (options.peers) setPeers(options.peers)

  // Clients are accepted as handles so that their sockets read into the shared buffer (client-socket.ts).
  const full = () => front.connections.size >= MAX_CLIENTS
  const server = net.createServer()
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1')
  await once(server, 'listening')
  const dropped = () => metrics.acceptFailures++
  acceptHandles(server, (handle) => front.accept(handle), full, dropped)
  const shared: net.Server[] = []
  const port = (server.address() as net.AddressInfo).port
  const advertiseHost = reachableHost(options.host)
  const address = options.advertise ?? `${advertiseHost}:${port}`

  const metricsText = () => metrics.render(self, cache.stats(), load(), router.link?.stats?.() ?? null, cache.diskStats())
  let admin: http.Server | null = null
  let adminPort: number | null = null
  if (options.adminPort !== null) {
    const health = () => {
      const link = router.link
      const dispatcher = link ? (link.state ?? (link.connected ? 'connected' : 'unreachable')) : 'none'
      return { ok: true, node: self, dispatcher, load: load() }
    }
    const started = await startAdmin({ metricsText, health }, options.adminHost ?? '127.0.0.1', options.adminPort ?? 0)
    admin = started.server
    adminPort = started.port
  }

  if (options.link) {
    router.link = options.link({ id: self, address, load, setPeers, log: (m) => process.stderr.write(`node ${self}: ${m}\n`) })
    await router.link.ready(options.linkReadyTimeoutMs ?? 5000)
  }

  return {
    id: self,
    port,
    url: `http://${advertiseHost}:${port}`,
    adminPort,
    metrics,
    cache,
    load,
    setPeers,
    adoptSocket(client, bytes, route) {
      const handle = client instanceof net.Socket ? takeHandle(client) : client
      if (handle) front.accept(handle, bytes, route)
    },
    async acceptShared(handle) {
      const sharedServer = net.createServer()
      await new Promise<void>((resolve, reject) => {
        sharedServer.once('error', reject)
        sharedServer.listen(handle, () => {
          sharedServer.off('error', reject)
          resolve()
        })
      })
      acceptHandles(sharedServer, (client) => front.accept(client), full, dropped)
      shared.push(sharedServer)
    },
    metricsText,
    async close() {
      server.close()
      for (const s of shared) s.close()
      front.destroyAll()
      admin?.close()
      admin?.closeAllConnections()
      await router.link?.close()
      relay.close()
      router.close()
    },
  }
}
