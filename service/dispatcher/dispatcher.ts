// The dispatcher: one Scheduler behind a uWebSockets.js app. Nodes register over the binary
// control protocol (service/protocol/SPEC.md) at /control; /healthz is plain HTTP on the same
// port, /metrics and /state too but only with the cluster token (they show node addresses and
// loads), and without it on an optional admin listener that binds loopback. A bad frame, a wrong
// token or a slow reader closes that one connection with a reason; nothing a node sends can take
// the process down, and nothing an unauthenticated client does can flood the log or hold more
// than a bounded number of connections.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { TemplatedApp, us_listen_socket, WebSocket as UwsSocket } from 'uWebSockets.js'
import { InvalidArgumentError, ProtocolError } from '../core/errors.js'
import { listenFailure } from '../core/listen.js'
import { loadUws } from '../core/uws.js'
import { createScheduler, type Impl } from '../policy/index.js'
import { POLICY_NAMES, type HotTarget, type PolicyName, type PolicyParams, type Scheduler } from '../policy/types.js'
import {
  decodeFrame,
  encodeError,
  encodeMessage,
  encodeReplyInto,
  errorCodeName,
  ErrorCode,
  FrameBuffer,
  MAX_BATCH,
  MessageType,
  truncateUtf8,
  type AssignMessage,
  type DoneMessage,
  type ErrorCodeValue,
  type HelloMessage,
  type Member,
  type MembershipEventName,
} from '../protocol/codec.js'
import { RateLimitedLog } from './log-limit.js'
import { count, DispatcherMetrics, renderMetrics } from './metrics.js'

/** uWS ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT: bind without SO_REUSEPORT. */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1

export type LogFn = (level: 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>) => void

export interface DispatcherOptions {
  policy: PolicyName
  params?: Partial<PolicyParams>
  /** Scheduler implementation: the Wasm core (default) or the TypeScript reference. */
  impl?: Impl
  /** 0 = an ephemeral port (read it from the result). */
  port?: number
  host?: string
  /** The cluster token every node must present in HELLO. */
  token: string
  /** Run on uWS's pure-JS `ws` fallback if the native build does not load. */
  allowFallback?: boolean
  heartbeatIntervalMs?: number
  /** Time a new connection has to send HELLO. */
  helloTimeoutMs?: number
  /** A node whose unsent replies exceed this many bytes is disconnected (BACKPRESSURE). */
  maxBufferedBytes?: number
  /** Connections not yet registered (no HELLO yet) held at once; further upgrades get 503 (default 64). */
  maxUnregistered?: number
  /** Refused and unregistered connections: one full log line, then a summary per interval (default 10 s). */
  refusedLogIntervalMs?: number
  /** Admin listener (/healthz, /metrics, /state without a token): its port (0 = ephemeral); absent = none. */
  adminPort?: number
  /** Its address (default 127.0.0.1: loopback only). */
  adminHost?: string
  log?: LogFn
}

export interface NodeState {
  id: number
  address: string
  weight: number
  up: boolean
  connected: boolean
  load: number
  /** Load the node itself last reported (HELLO, ASSIGN or HEARTBEAT); -1 = never. */
  reportedLoad: number
}

export interface DispatcherState {
  policy: PolicyName
  impl: 'ts' | 'wasm'
  native: boolean
  params: PolicyParams
  nodes: NodeState[]
  table: { targets: number; capacity: number; occupancy: number; evictions: number }
  hotTargets: HotTarget[]
  decisions: number
  batches: number
  meanBatchSize: number
}

export interface Dispatcher {
  readonly host: string
  readonly port: number
  /** The admin listener's port, or null when there is none. */
  readonly adminPort: number | null
  /** False when running on the `ws` fallback (allowFallback). */
  readonly native: boolean
  readonly scheduler: Scheduler
  state(): DispatcherState
  metricsText(): string
  /** Tells every node SHUTTING_DOWN, closes the port and releases the scheduler. */
  close(): Promise<void>
}

interface Connection {
  serial: number
  remote: string
  nodeId: number
  registered: boolean
  closed: boolean
  openedTick: number
  lastSeenTick: number
}

interface NodeEntry {
  id: number
  address: string
  weight: number
  up: boolean
  socket: UwsSocket<Connection> | null
  reportedLoad: number
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(MessageType).map(([name, code]) => [code, name.toUpperCase()]),
)
/** Heartbeat intervals of silence after which a node is taken for gone. */
const MISSED_HEARTBEATS = 3

export const defaultLog: LogFn = (level, event, fields = {}) => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + '\n')
}

function sameSecret(a: string, b: string): boolean {
  // Compare digests so that the comparison takes the same time whatever the lengths.
  const da = createHash('sha256').update(a).digest()
  const db = createHash('sha256').update(b).digest()
  return timingSafeEqual(da, db)
}

export async function startDispatcher(options: DispatcherOptions): Promise<Dispatcher> {
  if (!(POLICY_NAMES as readonly string[]).includes(options.policy)) {
    throw new InvalidArgumentError(`unknown policy "${options.policy}" (one of ${POLICY_NAMES.join(', ')})`)
  }
  if (typeof options.token !== 'string' || options.token.length === 0) {
    throw new InvalidArgumentError('a cluster token is required (nodes must present it to register)')
  }
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 7070
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`port must be 0..65535, got ${port}`)
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000
  const helloTimeoutMs = options.helloTimeoutMs ?? 5000
  const maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024
  const maxUnregistered = options.maxUnregistered ?? 64
  if (!(Number.isInteger(maxUnregistered) && maxUnregistered >= 1)) throw new InvalidArgumentError(`maxUnregistered must be an integer >= 1, got ${maxUnregistered}`)
  const adminHost = options.adminHost ?? '127.0.0.1'
  if (options.adminPort !== undefined && !(Number.isInteger(options.adminPort) && options.adminPort >= 0 && options.adminPort <= 65535)) {
    throw new InvalidArgumentError(`admin port must be 0..65535, got ${options.adminPort}`)
  }
  if (!(heartbeatIntervalMs >= 10)) throw new InvalidArgumentError(`heartbeat interval must be >= 10 ms, got ${heartbeatIntervalMs}`)
  if (!(maxBufferedBytes >= 1024)) throw new InvalidArgumentError(`maxBufferedBytes must be >= 1024, got ${maxBufferedBytes}`)
  const log = options.log ?? defaultLog
  const refusedLog = new RateLimitedLog(log, 'refused', options.refusedLogIntervalMs ?? 10_000)

  const loaded = loadUws({ allowFallback: options.allowFallback })
  if (!loaded.native) log('warn', 'uws-fallback', { reason: loaded.reason })
  const { uws } = loaded
  const scheduler = createScheduler(options.policy, options.params ?? {}, options.impl ?? 'wasm')
  const params = scheduler.params
  const maxNodes = params.maxNodes

  const metrics = new DispatcherMetrics()
  const nodes = new Map<number, NodeEntry>()
  const connections = new Set<UwsSocket<Connection>>()
  const replyFrame = new FrameBuffer(12 + 8 * 4096)
  const replyChosen = new Int32Array(MAX_BATCH)
  let serial = 0
  let unregistered = 0
  let tick = 0
  let closing = false

  // ------------------------------------------------------------------------------------------
  // Connection helpers

  function closeWith(ws: UwsSocket<Connection>, code: ErrorCodeValue, text: string, fields: Record<string, unknown> = {}): void {
    const conn = ws.getUserData()
    if (conn.closed) return
    const reason = errorCodeName(code)
    // Unregistered connections are anyone's: their closes go through the rate-limited log.
    if (conn.registered || code === ErrorCode.ShuttingDown) {
      log(code === ErrorCode.ShuttingDown ? 'info' : 'warn', 'disconnect', { reason, text, node: conn.registered ? conn.nodeId : undefined, remote: conn.remote, ...fields })
    } else {
      refusedLog.note('warn', reason, { text, remote: conn.remote, ...fields })
      if (code !== ErrorCode.BadToken && code !== ErrorCode.BadNodeId && code !== ErrorCode.DuplicateNode && code !== ErrorCode.BadFrame) {
        count(metrics.refused, reason) // refusals of a HELLO are counted in refuse()
      }
    }
    if (conn.registered) count(metrics.disconnects, reason)
    if (code === ErrorCode.Backpressure) {
      // The peer does not read: queuing an ERROR behind megabytes would never reach it. Drop now.
      ws.close()
      return
    }
    ws.send(encodeError(code, text), true)
    ws.end(4000 + code, truncateUtf8(`${reason}: ${text}`, 123))
  }

  function refuse(ws: UwsSocket<Connection>, code: ErrorCodeValue, text: string, hello: HelloMessage): void {
    count(metrics.refused, errorCodeName(code))
    closeWith(ws, code, text, { nodeId: hello.nodeId, address: hello.address })
  }

  function frameError(ws: UwsSocket<Connection>, codeName: string, text: string): void {
    count(metrics.frameErrors, codeName)
    if (!ws.getUserData().registered) count(metrics.refused, 'BadFrame')
    closeWith(ws, ErrorCode.BadFrame, text)
  }

  function send(ws: UwsSocket<Connection>, bytes: Uint8Array): boolean {
    const status = ws.send(bytes, true)
    // send() returns 2 when uWS dropped the message at its own limit (set well above ours).
    if (status === 2 || ws.getBufferedAmount() > maxBufferedBytes) {
      closeWith(ws, ErrorCode.Backpressure, `more than ${maxBufferedBytes} bytes of replies buffered: the node does not read`, {
        buffered: ws.getBufferedAmount(),
      })
      return false
    }
    return true
  }

  function membersTable(): Member[] {
    return [...nodes.values()]
      .sort((a, b) => a.id - b.id)
      .map((n) => ({ id: n.id, address: n.address, weight: n.weight, up: n.up }))
  }

  function broadcastMembership(node: number, event: MembershipEventName, except?: UwsSocket<Connection>): void {
    if (closing) return
    const frame = encodeMessage({ type: 6, node, event, members: membersTable() })
    for (const entry of nodes.values()) {
      if (entry.socket && entry.socket !== except && !entry.socket.getUserData().closed) send(entry.socket, frame)
    }
  }

  function markDown(entry: NodeEntry, reason: string): void {
    if (!entry.up) return
    entry.up = false
    entry.socket = null
    entry.reportedLoad = -1
    scheduler.removeNode(entry.id)
    log('info', 'node-down', { node: entry.id, reason })
    broadcastMembership(entry.id, 'down')
  }

  // ------------------------------------------------------------------------------------------
  // Messages

  function onHello(ws: UwsSocket<Connection>, conn: Connection, hello: HelloMessage): void {
    if (!sameSecret(hello.token, options.token)) {
      refuse(ws, ErrorCode.BadToken, `node ${hello.nodeId}: wrong cluster token`, hello)
      return
    }
    if (hello.nodeId >= maxNodes) {
      refuse(ws, ErrorCode.BadNodeId, `node id ${hello.nodeId} is outside 0..${maxNodes - 1}`, hello)
      return
    }
    if (hello.weight > 65535) {
      refuse(ws, ErrorCode.BadFrame, `weight ${hello.weight} is above 65535`, hello)
      return
    }
    const existing = nodes.get(hello.nodeId)
    if (existing?.socket) {
      refuse(ws, ErrorCode.DuplicateNode, `node ${hello.nodeId} is already connected (from ${existing.socket.getUserData().remote})`, hello)
      return
    }
    if (hello.load < -1) {
      refuse(ws, ErrorCode.BadFrame, `load ${hello.load} is below -1`, hello)
      return
    }
    const entry: NodeEntry = existing ?? { id: hello.nodeId, address: hello.address, weight: hello.weight, up: false, socket: null, reportedLoad: -1 }
    entry.address = hello.address
    entry.weight = hello.weight
    entry.up = true
    entry.socket = ws
    entry.reportedLoad = hello.load
    nodes.set(entry.id, entry)
    conn.registered = true
    unregistered--
    conn.nodeId = entry.id
    scheduler.addNode(entry.id, entry.weight)
    // A node that comes back resynchronises the load it carries (DESIGN: failure model).
    if (hello.load >= 0) scheduler.setLoad(entry.id, hello.load)
    log('info', 'node-up', { node: entry.id, address: entry.address, weight: entry.weight, load: hello.load, remote: conn.remote })
    const welcome = encodeMessage({
      type: 2,
      nodeId: entry.id,
      heartbeatIntervalMs,
      policy: scheduler.policy,
      impl: scheduler.impl,
      params: { ...params },
      members: membersTable(),
    })
    if (send(ws, welcome)) broadcastMembership(entry.id, 'up', ws)
  }

  function onAssign(ws: UwsSocket<Connection>, conn: Connection, m: AssignMessage): void {
    if (m.node !== conn.nodeId) {
      frameError(ws, 'L7_PROTOCOL_BAD_NODE', `ASSIGN names node ${m.node}, but this connection is node ${conn.nodeId}`)
      return
    }
    if (m.load < -1) {
      frameError(ws, 'L7_PROTOCOL_BAD_FIELD', `ASSIGN load ${m.load} is below -1`)
      return
    }
    for (let j = 0; j < m.localCount; j++) {
      if (m.localServed[j] > 0x7fffffff) {
        frameError(ws, 'L7_PROTOCOL_BAD_FIELD', `ASSIGN local pair ${j}: count ${m.localServed[j]} is above 2^31-1`)
        return
      }
    }
    const now = performance.now() * 1000
    const node = m.node
    if (m.load >= 0) nodes.get(node)!.reportedLoad = m.load
    for (let j = 0; j < m.localCount; j++) {
      scheduler.observeLocal(node, m.localHash[j], m.localServed[j], now)
      metrics.localServed += m.localServed[j]
    }
    const total = m.count
    const capacity = params.batchCapacity
    for (let offset = 0; offset < total; offset += capacity) {
      const n = Math.min(capacity, total - offset)
      // The scheduler's columns are re-read per chunk: Wasm views may be replaced when memory grows.
      const req = scheduler.requests
      req.hash.set(offset === 0 && n === total ? m.hash : m.hash.subarray(offset, offset + n))
      req.receiving.fill(node, 0, n)
      req.timeUs.fill(now, 0, n)
      req.reportedLoad.fill(-1, 0, n)
      // The load was reported once, when the batch was sent: apply it before the batch's first decision.
      if (offset === 0) req.reportedLoad[0] = m.load
      scheduler.decide(n)
      replyChosen.set(n === req.chosen.length ? req.chosen : req.chosen.subarray(0, n), offset)
    }
    metrics.decisions += total
    metrics.observeBatch(total)
    send(ws, encodeReplyInto(replyFrame, m.requestId, replyChosen, total))
  }

  function onDone(ws: UwsSocket<Connection>, m: DoneMessage): void {
    for (let i = 0; i < m.count; i++) {
      if (m.node[i] < 0 || m.node[i] >= maxNodes) {
        frameError(ws, 'L7_PROTOCOL_BAD_NODE', `DONE record ${i} names node ${m.node[i]}, outside 0..${maxNodes - 1}`)
        return
      }
    }
    const capacity = params.batchCapacity
    for (let offset = 0; offset < m.count; offset += capacity) {
      const n = Math.min(capacity, m.count - offset)
      const dones = scheduler.dones
      dones.node.set(m.node.subarray(offset, offset + n))
      dones.hash.set(m.hash.subarray(offset, offset + n))
      scheduler.done(n)
    }
    metrics.doneRecords += m.count
  }

  function onMessage(ws: UwsSocket<Connection>, data: ArrayBuffer, isBinary: boolean): void {
    const conn = ws.getUserData()
    if (conn.closed) return
    conn.lastSeenTick = tick
    if (!isBinary) {
      frameError(ws, 'L7_PROTOCOL_TEXT_FRAME', 'text frame: the control protocol is binary')
      return
    }
    const message = decodeFrame(data)
    if (message instanceof ProtocolError) {
      frameError(ws, message.code, message.message)
      return
    }
    count(metrics.framesIn, TYPE_NAMES[message.type])
    if (!conn.registered) {
      if (message.type === MessageType.Hello) onHello(ws, conn, message)
      else closeWith(ws, ErrorCode.NotRegistered, `${TYPE_NAMES[message.type]} before HELLO`)
      return
    }
    switch (message.type) {
      case MessageType.Assign:
        onAssign(ws, conn, message)
        return
      case MessageType.Done:
        onDone(ws, message)
        return
      case MessageType.Heartbeat:
        if (message.load >= 0) nodes.get(conn.nodeId)!.reportedLoad = message.load
        return
      case MessageType.Error:
        log('warn', 'node-error', { node: conn.nodeId, code: errorCodeName(message.code), text: message.text })
        ws.end(1000, 'ERROR received')
        return
      case MessageType.Hello:
        closeWith(ws, ErrorCode.NotRegistered, 'second HELLO on a registered connection')
        return
      default:
        frameError(ws, 'L7_PROTOCOL_UNEXPECTED', `${TYPE_NAMES[message.type]} is not sent by nodes`)
    }
  }

  // ------------------------------------------------------------------------------------------
  // HTTP views

  function nodeStates(): NodeState[] {
    return [...nodes.values()]
      .sort((a, b) => a.id - b.id)
      .map((n) => ({
        id: n.id,
        address: n.address,
        weight: n.weight,
        up: n.up,
        connected: n.socket !== null,
        load: n.up ? scheduler.load(n.id) : 0,
        reportedLoad: n.reportedLoad,
      }))
  }

  function state(): DispatcherState {
    const stats = scheduler.stats()
    return {
      policy: scheduler.policy,
      impl: scheduler.impl,
      native: loaded.native,
      params: { ...params },
      nodes: nodeStates(),
      table: {
        targets: stats.targets,
        capacity: stats.targetCapacity,
        occupancy: stats.targetCapacity > 0 ? stats.targets / stats.targetCapacity : 0,
        evictions: stats.evictions,
      },
      hotTargets: scheduler.hotTargets(20),
      decisions: metrics.decisions,
      batches: metrics.batches,
      meanBatchSize: metrics.batches > 0 ? metrics.batchSizeSum / metrics.batches : 0,
    }
  }

  function metricsText(): string {
    const stats = scheduler.stats()
    return renderMetrics(metrics, {
      policy: scheduler.policy,
      impl: scheduler.impl,
      nodesUp: stats.nodesUp,
      connections: connections.size,
      nodes: nodeStates(),
      targets: stats.targets,
      targetCapacity: stats.targetCapacity,
      evictions: stats.evictions,
    })
  }

  const app: TemplatedApp = uws.App()
  app.ws<Connection>('/control', {
    maxPayloadLength: 1 << 20,
    // We run our own heartbeats (HEARTBEAT frames) so that a dead node is noticed at the protocol's pace.
    idleTimeout: 0,
    // Above our own bound, so that we see the overflow and close with a reason before uWS drops anything.
    maxBackpressure: maxBufferedBytes * 2 + (1 << 20),
    closeOnBackpressureLimit: 0,
    upgrade: (res, req, context) => {
      if (closing) {
        res.writeStatus('503 Service Unavailable').end('shutting down')
        return
      }
      if (unregistered >= maxUnregistered) {
        // Each unregistered connection may be held until the HELLO time-out: cap them.
        count(metrics.refused, 'TooManyUnregistered')
        refusedLog.note('warn', 'TooManyUnregistered', { text: `${unregistered} connections have not sent HELLO yet (limit ${maxUnregistered})` })
        res.writeStatus('503 Service Unavailable').end('too many unregistered connections\n')
        return
      }
      unregistered++
      const conn: Connection = { serial: ++serial, remote: '', nodeId: -1, registered: false, closed: false, openedTick: tick, lastSeenTick: tick }
      res.upgrade(conn, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context)
    },
    open: (ws) => {
      const conn = ws.getUserData()
      conn.remote = Buffer.from(ws.getRemoteAddressAsText()).toString()
      connections.add(ws)
    },
    message: (ws, data, isBinary) => {
      try {
        onMessage(ws, data, isBinary)
      } catch (err) {
        // A bug or a scheduler refusal: this connection goes, the dispatcher stays.
        log('error', 'internal-error', { error: (err as Error).stack })
        if (!ws.getUserData().closed) closeWith(ws, ErrorCode.Internal, (err as Error).message)
      }
    },
    close: (ws, code, message) => {
      const conn = ws.getUserData()
      conn.closed = true
      connections.delete(ws)
      if (!conn.registered) {
        unregistered--
        return
      }
      const entry = nodes.get(conn.nodeId)
      if (entry && entry.socket === ws) {
        const reason = code >= 4000 ? errorCodeName(code - 4000) : `closed (${code} ${Buffer.from(message).toString()})`.trim()
        if (code < 4000) count(metrics.disconnects, 'CLOSED')
        markDown(entry, reason)
      }
    },
  })
  const text = (res: import('uWebSockets.js').HttpResponse, status: string, type: string, body: string) => {
    res.writeStatus(status).writeHeader('content-type', type).end(body)
  }
  const expectedAuthorization = `Bearer ${options.token}`
  /** Views that show node addresses and loads: with the cluster token only, on the public port. */
  const guarded = (view: (res: import('uWebSockets.js').HttpResponse) => void) => (res: import('uWebSockets.js').HttpResponse, req: import('uWebSockets.js').HttpRequest) => {
    if (!sameSecret(req.getHeader('authorization'), expectedAuthorization)) {
      res.writeStatus('401 Unauthorized').writeHeader('www-authenticate', 'Bearer').writeHeader('content-type', 'text/plain').end('the cluster token is required: Authorization: Bearer <token> (or use the admin listener)\n')
      return
    }
    view(res)
  }
  const healthz = (res: import('uWebSockets.js').HttpResponse) => text(res, '200 OK', 'text/plain', 'ok\n')
  const metricsView = (res: import('uWebSockets.js').HttpResponse) => text(res, '200 OK', 'text/plain; version=0.0.4', metricsText())
  const stateView = (res: import('uWebSockets.js').HttpResponse) => text(res, '200 OK', 'application/json', JSON.stringify(state(), null, 2) + '\n')
  app.get('/healthz', healthz)
  app.get('/metrics', guarded(metricsView))
  app.get('/state', guarded(stateView))
  app.any('/*', (res) => text(res, '404 Not Found', 'text/plain', 'not found: try /healthz, /metrics, /state or a WebSocket on /control\n'))

  // Exclusive port: by default uWS binds with SO_REUSEPORT, so a second dispatcher (or a
  // cluster's) on a held port would "listen" and share its connections without a word.
  const listenExclusive = (on: TemplatedApp, h: string, p: number) =>
    new Promise<us_listen_socket | false>((resolve) => {
      // listen(host, port, options, cb) exists natively; the typings only declare (port, options, cb).
      type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => unknown
      if (loaded.native) (on.listen as unknown as ListenWithOptions).call(on, h, p, LIBUS_LISTEN_EXCLUSIVE_PORT, resolve)
      else on.listen(h, p, resolve)
    })
  const listenSocket = await listenExclusive(app, host, port)
  if (!listenSocket) throw await listenFailure(host, port)
  const boundPort = uws.us_socket_local_port(listenSocket)

  let adminSocket: us_listen_socket | null = null
  if (options.adminPort !== undefined) {
    const admin = uws.App()
    admin.get('/healthz', healthz)
    admin.get('/metrics', metricsView)
    admin.get('/state', stateView)
    admin.any('/*', (res) => text(res, '404 Not Found', 'text/plain', 'not found: try /healthz, /metrics or /state\n'))
    adminSocket = (await listenExclusive(admin, adminHost, options.adminPort)) || null
    if (!adminSocket) {
      uws.us_listen_socket_close(listenSocket)
      scheduler.close()
      throw await listenFailure(adminHost, options.adminPort, '--admin')
    }
  }
  const adminPort = adminSocket ? uws.us_socket_local_port(adminSocket) : null

  const timer = setInterval(() => {
    tick++
    const heartbeat = encodeMessage({ type: 7, load: -1, timeMs: Date.now() })
    for (const ws of [...connections]) {
      const conn = ws.getUserData()
      if (conn.closed) continue
      if (!conn.registered) {
        if ((tick - conn.openedTick) * heartbeatIntervalMs >= helloTimeoutMs) closeWith(ws, ErrorCode.HelloTimeout, `no HELLO within ${helloTimeoutMs} ms`)
      } else if (tick - conn.lastSeenTick > MISSED_HEARTBEATS) {
        closeWith(ws, ErrorCode.HeartbeatTimeout, `nothing received for ${MISSED_HEARTBEATS} heartbeat intervals (${MISSED_HEARTBEATS * heartbeatIntervalMs} ms)`)
      } else {
        send(ws, heartbeat)
      }
    }
  }, heartbeatIntervalMs)
  timer.unref()

  log('info', 'listening', { host, port: boundPort, adminPort, policy: scheduler.policy, impl: scheduler.impl, native: loaded.native })

  return {
    host,
    port: boundPort,
    adminPort,
    native: loaded.native,
    scheduler,
    state,
    metricsText,
    close: async () => {
      if (closing) return
      closing = true
      clearInterval(timer)
      for (const ws of [...connections]) closeWith(ws, ErrorCode.ShuttingDown, 'the dispatcher is stopping')
      uws.us_listen_socket_close(listenSocket)
      if (adminSocket) uws.us_listen_socket_close(adminSocket)
      refusedLog.flush()
      // Let uWS deliver the close frames before the scheduler goes.
      await new Promise((resolve) => setTimeout(resolve, 20))
      scheduler.close()
    },
  }
}
