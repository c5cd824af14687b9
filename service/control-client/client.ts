// The node side of the control channel, on a lean WebSocket client (websocket.ts). assign() batches as Aron et al.
// 2000: requests made in one event-loop turn go out together, and the next batch leaves only
// when the previous one is answered, so batches grow with load. Without batching (benchmark
// baseline) every request is its own frame and nothing waits.
//
// A dispatcher that is stopped, slow or partitioned never closes its socket, so silence is
// detected here: every batch has a deadline (a few times the observed round trip, bounded) and
// the dispatcher's heartbeats are expected; a miss makes the link *suspect*: every pending and
// new assign is rejected at once (the node decides by its fallback), the TCP socket is destroyed
// (a polite close would wait for a peer that does not answer), and reconnection follows with
// jittered backoff.
import { EventEmitter } from 'node:events'
import { RawWebSocket } from './websocket.js'
import { InvalidArgumentError, ProtocolError } from '../core/errors.js'
import {
  decodeFrame,
  encodeAssignInto,
  encodeDoneInto,
  encodeError,
  encodeMessage,
  errorCodeName,
  ErrorCode,
  FrameBuffer,
  MAX_BATCH,
  MessageType,
  type Member,
  type MembershipMessage,
  type ReplyMessage,
  type WelcomeMessage,
} from '../protocol/codec.js'
import { DispatcherRefusedError, DispatcherUnavailableError } from './errors.js'

export interface ControlClientOptions {
  /** The dispatcher's control endpoint, e.g. ws://127.0.0.1:7070/control. */
  url: string
  nodeId: number
  /** This node's HTTP address as peers should reach it. */
  address: string
  weight?: number
  token: string
  /** Adaptive batching (default). Off: one request per frame, no waiting (benchmark baseline). */
  batching?: boolean
  /** Largest ASSIGN batch (default 8192, at most the protocol's 65536). */
  maxBatch?: number
  /** Reconnect with exponential backoff when the dispatcher goes away (default true). */
  reconnect?: boolean
  backoffInitialMs?: number
  backoffMaxMs?: number
  /** Send HEARTBEAT frames (default true; false only to test the dispatcher's timeout). */
  sendHeartbeats?: boolean
  /**
   * Bounds of a batch's deadline (ms). The deadline is 2 x (srtt + 4 rttvar) of the observed
   * round trips (TCP's retransmission time-out, doubled), clamped to [min, max]. Defaults 100, 500.
   */
  assignDeadlineMinMs?: number
  assignDeadlineMaxMs?: number
  /** Time a connection attempt has to get its WELCOME before it is abandoned (default 5000 ms). */
  connectTimeoutMs?: number
}

/** connected: WELCOME received, answering; suspect: gave up on a silent dispatcher (deadline or heartbeat missed), reconnecting; unreachable: not connected (never was, refused, or closed). */
export type LinkState = 'connected' | 'suspect' | 'unreachable'

export interface ControlClientEvents {
  /** Registered: the dispatcher's policy, parameters and membership table. */
  welcome: [WelcomeMessage]
  /** The membership table changed. */
  membership: [MembershipMessage]
  /** A node went down / came up (from MEMBERSHIP). */
  down: [number]
  up: [number, Member]
  /** The control connection was lost (pending assigns were rejected); a reconnect may follow. */
  disconnected: [{ code: number; reason: string }]
  /** The link changed state (connected, suspect, unreachable). */
  state: [LinkState, string]
  /** A refusal that reconnecting cannot fix (wrong token, bad node id): the client stops. */
  error: [Error]
}

const FATAL_REFUSALS: number[] = [ErrorCode.BadToken, ErrorCode.BadNodeId]

type Resolve = (node: number) => void
type Reject = (err: Error) => void

/** A FIFO of requests sent and not yet answered (no per-request object besides the promise). */
class Outstanding {
  ids: number[] = []
  resolves: Resolve[] = []
  rejects: Reject[] = []
  head = 0

  get size(): number {
    return this.ids.length - this.head
  }

  push(id: number, resolve: Resolve, reject: Reject): void {
    this.ids.push(id)
    this.resolves.push(resolve)
    this.rejects.push(reject)
  }

  /** Drops the first n entries, compacting now and then so the arrays do not grow forever. */
  drop(n: number): void {
    this.head += n
    if (this.head === this.ids.length) {
      this.ids.length = this.resolves.length = this.rejects.length = 0
      this.head = 0
    } else if (this.head > 4096 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head)
      this.resolves = this.resolves.slice(this.head)
      this.rejects = this.rejects.slice(this.head)
      this.head = 0
    }
  }

  rejectAll(err: Error): void {
    for (let i = this.head; i < this.ids.length; i++) this.rejects[i](err)
    this.drop(this.size)
  }
}

function grow<T extends Uint32Array | Int32Array>(array: T, needed: number): T {
  if (needed <= array.length) return array
  const next = new (array.constructor as new (n: number) => T)(Math.max(needed, array.length * 2))
  next.set(array)
  return next
}

export class ControlClient extends EventEmitter<ControlClientEvents> {
  readonly nodeId: number
  private readonly options: Required<Omit<ControlClientOptions, 'weight'>> & { weight: number }
  // The transport exposes its TCP socket, so a silent dispatcher's connection can be
  // destroyed instead of waiting for a close handshake.
  private ws: RawWebSocket | null = null
  private connectTimer: NodeJS.Timeout | null = null
  private linkState: LinkState = 'unreachable'
  private stateSince = performance.now()
  private readonly stateMs: Record<LinkState, number> = { connected: 0, suspect: 0, unreachable: 0 }
  // Round-trip estimate (ms) and the send times of the batches in flight (oldest first).
  private srtt = -1
  private rttvar = 0
  private batchSentAt: number[] = []
  private batchHead = 0
  private deadlineTimer: NodeJS.Timeout | null = null
  private deadlineDueAt = 0
  /** Deadlines count from here at the earliest (after this process was found not running). */
  private graceFrom = 0
  private retrySoon = false
  private welcomed = false
  private closedByUser = false
  private stopped = false
  private attempt = 0
  private reconnectTimer: NodeJS.Timeout | null = null
  private heartbeatTimer: NodeJS.Timeout | null = null
  private lastHeard = 0
  private lastHeartbeatTick = 0
  private heartbeatIntervalMs = 1000
  private connectWaiter: { resolve: (w: WelcomeMessage) => void; reject: (e: Error) => void } | null = null
  private refusal: DispatcherRefusedError | null = null

  /** The node's own load, as last given to assign()/setLoad(); -1 = never given. */
  private ownLoad = -1
  private nextRequestId = 0
  // Requests waiting for the next ASSIGN (batching) and requests sent, not yet answered.
  private pendingHash = new Uint32Array(1024)
  private pendingId = new Uint32Array(1024)
  private pendingResolves: Resolve[] = []
  private pendingRejects: Reject[] = []
  private pendingCount = 0
  private readonly sent = new Outstanding()
  private batchesInFlight = 0
  private flushScheduled = false
  // DONE records waiting for the next flush.
  private doneNode = new Int32Array(1024)
  private doneHash = new Uint32Array(1024)
  private doneCount = 0
  // DS: requests served locally since the last ASSIGN, per hash.
  private readonly localServed = new Map<number, number>()
  private readonly frame = new FrameBuffer(64 * 1024)
  private readonly doneFrame = new FrameBuffer(16 * 1024)
  private readonly oneHash = new Uint32Array(1)
  private readonly oneId = new Uint32Array(1)

  /** The last membership table the dispatcher sent. */
  members: Member[] = []
  welcome: WelcomeMessage | null = null
  /** Batches sent and requests decided, for the benchmark and the node's metrics. */
  readonly counters = { batches: 0, requests: 0, reconnects: 0, suspects: 0, deadlineMisses: 0, heartbeatMisses: 0, connectTimeouts: 0, lateTimers: 0 }

  constructor(options: ControlClientOptions) {
    super()
    if (!Number.isInteger(options.nodeId) || options.nodeId < 0) throw new InvalidArgumentError(`node id must be an integer >= 0, got ${options.nodeId}`)
    const maxBatch = options.maxBatch ?? 8192
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH) throw new InvalidArgumentError(`maxBatch must be 1..${MAX_BATCH}, got ${maxBatch}`)
    this.nodeId = options.nodeId
    this.options = {
      url: options.url,
      nodeId: options.nodeId,
      address: options.address,
      weight: options.weight ?? 1,
      token: options.token,
      batching: options.batching ?? true,
      maxBatch,
      reconnect: options.reconnect ?? true,
      backoffInitialMs: options.backoffInitialMs ?? 100,
      backoffMaxMs: options.backoffMaxMs ?? 2000,
      sendHeartbeats: options.sendHeartbeats ?? true,
      assignDeadlineMinMs: options.assignDeadlineMinMs ?? 100,
      assignDeadlineMaxMs: options.assignDeadlineMaxMs ?? 500,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    }
    const { assignDeadlineMinMs: lo, assignDeadlineMaxMs: hi } = this.options
    if (!(lo > 0 && hi >= lo)) throw new InvalidArgumentError(`assign deadline bounds must be 0 < min <= max, got ${lo}..${hi} ms`)
    if (!(this.options.connectTimeoutMs > 0)) throw new InvalidArgumentError(`connectTimeoutMs must be above 0, got ${this.options.connectTimeoutMs}`)
    // 'error' without a listener would throw from inside a socket callback.
    this.on('error', () => {})
  }

  /** True between WELCOME and the loss of the connection (or the link turning suspect). */
  get connected(): boolean {
    return this.welcomed
  }

  get state(): LinkState {
    return this.linkState
  }

  /** Milliseconds spent in each state since the client was made (the current one included). */
  timeInState(): Record<LinkState, number> {
    const out = { ...this.stateMs }
    out[this.linkState] += performance.now() - this.stateSince
    return out
  }

  /** The current batch deadline (ms): 2 x (srtt + 4 rttvar), clamped to the configured bounds. */
  get assignDeadlineMs(): number {
    const { assignDeadlineMinMs: lo, assignDeadlineMaxMs: hi } = this.options
    if (this.srtt < 0) return hi
    return Math.min(hi, Math.max(lo, 2 * (this.srtt + 4 * this.rttvar)))
  }

  /**
   * Connects and registers. Resolves with the WELCOME; rejects with DispatcherRefusedError or
   * DispatcherUnavailableError. After a failure that is not fatal the client keeps reconnecting
   * in the background (when reconnect is on) until close().
   */
  connect(): Promise<WelcomeMessage> {
    if (this.welcome && this.welcomed) return Promise.resolve(this.welcome)
    return new Promise((resolve, reject) => {
      this.connectWaiter = { resolve, reject }
      if (!this.ws && !this.reconnectTimer) this.open()
    })
  }

  /** The node that should serve `hash`. Rejects with DispatcherUnavailableError when not connected. */
  assign(hash: number, ownLoad?: number): Promise<number> {
    if (ownLoad !== undefined) this.ownLoad = ownLoad
    if (!this.welcomed) return Promise.reject(new DispatcherUnavailableError(`node ${this.nodeId}: not connected to the dispatcher`))
    const id = this.nextRequestId
    this.nextRequestId = (id + 1) >>> 0
    return new Promise<number>((resolve, reject) => {
      if (!this.options.batching) {
        this.sent.push(id, resolve, reject)
        this.oneHash[0] = hash
        this.oneId[0] = id
        this.sendAssign(this.oneId, this.oneHash, 1)
        return
      }
      const n = this.pendingCount
      if (n === this.pendingHash.length) {
        this.pendingHash = grow(this.pendingHash, n + 1)
        this.pendingId = grow(this.pendingId, n + 1)
      }
      this.pendingHash[n] = hash
      this.pendingId[n] = id
      this.pendingResolves.push(resolve)
      this.pendingRejects.push(reject)
      this.pendingCount = n + 1
      this.scheduleFlush()
    })
  }

  /** A connection for `hash` finished on `node` (default: this node): the dispatcher's load -1. */
  done(hash: number, node: number = this.nodeId): void {
    if (!this.welcomed) return // the load is resynchronised by HELLO on reconnect
    const n = this.doneCount
    if (n === this.doneHash.length) {
      this.doneHash = grow(this.doneHash, n + 1)
      this.doneNode = grow(this.doneNode, n + 1)
    }
    this.doneHash[n] = hash
    this.doneNode[n] = node
    this.doneCount = n + 1
    // Batching: DONEs leave with the next flush, before its ASSIGN and in the same write;
    // while a batch is unanswered they wait for its REPLY (at most one round trip), which
    // triggers that flush. Nothing else waits: the REPLY comes whatever the load.
    if (!this.options.batching) this.flushDones()
    else this.scheduleFlush()
  }

  /** DS: this node served a request for `hash` locally; counted and sent with the next ASSIGN. */
  reportLocal(hash: number): void {
    if (!this.welcomed) return
    this.localServed.set(hash, (this.localServed.get(hash) ?? 0) + 1)
  }

  /** The node's own load, sent with the next ASSIGN, HEARTBEAT and HELLO. */
  setLoad(load: number): void {
    this.ownLoad = load
  }

  /** Closes for good: pending assigns are rejected, no reconnect. */
  async close(): Promise<void> {
    this.closedByUser = true
    this.stopped = true
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    const ws = this.ws
    if (ws && this.welcomed) {
      // Polite close, but bounded: a dispatcher that does not answer the close gets its socket destroyed.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.teardown(ws)
          resolve()
        }, 500)
        ws.addEventListener('close', () => (clearTimeout(timer), resolve()), { once: true })
        ws.close(1000, 'node closing')
      })
    }
    if (this.ws) this.teardown(this.ws)
    this.failAll(new DispatcherUnavailableError(`node ${this.nodeId}: control client closed`))
    this.setState('unreachable', 'closed')
  }

  // ------------------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled || this.batchesInFlight > 0) return
    this.flushScheduled = true
    setImmediate(this.flushTask)
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  /** Sends what is pending as one ASSIGN (up to maxBatch), unless a batch is still unanswered. */
  private flush(): void {
    if (!this.welcomed || this.batchesInFlight > 0) return
    // DONEs first: the dispatcher should see finished connections before deciding new ones.
    if (this.doneCount > 0) this.flushDones()
    if (this.pendingCount === 0) return
    const n = Math.min(this.pendingCount, this.options.maxBatch)
    for (let i = 0; i < n; i++) this.sent.push(this.pendingId[i], this.pendingResolves[i], this.pendingRejects[i])
    this.sendAssign(this.pendingId, this.pendingHash, n)
    if (n === this.pendingCount) {
      this.pendingResolves.length = this.pendingRejects.length = 0
      this.pendingCount = 0
    } else {
      this.pendingHash.copyWithin(0, n, this.pendingCount)
      this.pendingId.copyWithin(0, n, this.pendingCount)
      this.pendingResolves.splice(0, n)
      this.pendingRejects.splice(0, n)
      this.pendingCount -= n
    }
  }

  private sendAssign(ids: Uint32Array, hashes: Uint32Array, n: number): void {
    let localHash = EMPTY
    let localServed = EMPTY
    const m = Math.min(this.localServed.size, MAX_BATCH)
    if (m > 0) {
      localHash = new Uint32Array(m)
      localServed = new Uint32Array(m)
      let i = 0
      for (const [hash, served] of this.localServed) {
        if (i === m) break
        localHash[i] = hash
        localServed[i] = served
        this.localServed.delete(hash)
        i++
      }
    }
    const bytes = encodeAssignInto(this.frame, this.nodeId, this.ownLoad, ids, hashes, n, localHash, localServed, m)
    this.batchesInFlight++
    this.batchSentAt.push(performance.now())
    this.counters.batches++
    this.counters.requests += n
    this.ws!.send(bytes)
    // Re-arm only when no timer would fire by this batch's deadline (the deadline shrank).
    const deadline = this.assignDeadlineMs
    if (this.deadlineTimer && this.deadlineDueAt > performance.now() + deadline) {
      clearTimeout(this.deadlineTimer)
      this.deadlineTimer = null
    }
    if (!this.deadlineTimer) this.armDeadline(deadline)
  }

  // One lazy timer for the oldest batch in flight: it is not cleared on each reply, only
  // re-armed when it fires early, so a batch costs no timer of its own.
  private armDeadline(ms: number): void {
    this.deadlineDueAt = performance.now() + ms
    this.deadlineTimer = setTimeout(this.deadlineTask, Math.max(1, Math.ceil(ms)))
    this.deadlineTimer.unref()
  }

  private readonly deadlineTask = (): void => {
    this.deadlineTimer = null
    if (this.batchesInFlight === 0 || !this.ws) return
    const now = performance.now()
    const oldest = this.batchSentAt[this.batchHead]
    const deadline = this.assignDeadlineMs
    const age = now - Math.max(oldest, this.graceFrom)
    // The timer itself came late: this process did not run (GC, a long task, a starved CPU),
    // and a dispatcher in the same process, or one that answered while we were descheduled,
    // is not to blame. Give the batch a fresh deadline from now.
    const late = now - this.deadlineDueAt
    if (late > Math.max(20, deadline / 4)) {
      this.counters.lateTimers++
      this.graceFrom = now - deadline / 2
      this.armDeadline(deadline / 2)
      return
    }
    if (age < deadline) {
      this.armDeadline(deadline - age)
      return
    }
    // Timers run before the poll phase: an answer that arrived while this process was busy
    // (GC, a long task) is still unread. Look again after the poll phase has read it.
    const ws = this.ws
    setImmediate(() => {
      if (this.ws !== ws || this.batchesInFlight === 0 || this.batchSentAt[this.batchHead] !== oldest) {
        if (this.ws === ws && this.batchesInFlight > 0 && !this.deadlineTimer) this.armDeadline(1)
        return
      }
      this.counters.deadlineMisses++
      this.suspect(`no REPLY within the ${deadline.toFixed(0)} ms assign deadline`)
    })
  }

  private observeRtt(ms: number): void {
    // RFC 6298's estimator (alpha 1/8, beta 1/4).
    if (this.srtt < 0) {
      this.srtt = ms
      this.rttvar = ms / 2
    } else {
      this.rttvar += (Math.abs(this.srtt - ms) - this.rttvar) / 4
      this.srtt += (ms - this.srtt) / 8
    }
  }

  private flushDones(): void {
    if (!this.welcomed || this.doneCount === 0) return
    for (let offset = 0; offset < this.doneCount; offset += MAX_BATCH) {
      const n = Math.min(MAX_BATCH, this.doneCount - offset)
      this.ws!.send(encodeDoneInto(this.doneFrame, this.doneNode.subarray(offset), this.doneHash.subarray(offset), n))
    }
    this.doneCount = 0
  }

  private onReply(reply: ReplyMessage): void {
    if (this.batchesInFlight === 0 || reply.count > this.sent.size) {
      this.protocolFailure(`REPLY of ${reply.count} records with ${this.sent.size} requests outstanding`)
      return
    }
    const { ids, resolves } = this.sent
    const head = this.sent.head
    for (let i = 0; i < reply.count; i++) {
      if (ids[head + i] !== reply.requestId[i]) {
        this.protocolFailure(`REPLY record ${i} answers request ${reply.requestId[i]}, expected ${ids[head + i]}`)
        return
      }
    }
    this.batchesInFlight--
    this.observeRtt(performance.now() - this.batchSentAt[this.batchHead])
    if (++this.batchHead === this.batchSentAt.length) this.batchSentAt.length = this.batchHead = 0
    // Resolve first, then drop: resolution callbacks run later (microtasks), so the arrays stay valid.
    for (let i = 0; i < reply.count; i++) resolves[head + i](reply.chosen[i])
    this.sent.drop(reply.count)
    // Adaptive batching: everything that queued up while we waited leaves now, as one batch.
    if (this.options.batching) this.flush()
  }

  private open(): void {
    this.refusal = null
    const ws = new RawWebSocket(this.options.url)
    this.ws = ws
    // A stopped dispatcher's kernel still accepts the TCP connection: the handshake or the
    // WELCOME never comes. Give up on the attempt and try again later.
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null
      if (this.ws !== ws || this.welcomed) return
      this.counters.connectTimeouts++
      this.abandon(ws, `no WELCOME within ${this.options.connectTimeoutMs} ms`)
    }, this.options.connectTimeoutMs)
    this.connectTimer.unref()
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return
      this.lastHeard = Date.now()
      ws.send(
        encodeMessage({
          type: 1,
          nodeId: this.nodeId,
          weight: this.options.weight,
          load: this.ownLoad,
          address: this.options.address,
          token: this.options.token,
        }),
      )
    })
    ws.addEventListener('message', (event) => {
      if (this.ws !== ws) return
      this.lastHeard = Date.now()
      if (!(event.data instanceof ArrayBuffer)) {
        this.protocolFailure('text frame from the dispatcher')
        return
      }
      this.onFrame(event.data)
    })
    ws.addEventListener('error', () => {
      // A 'close' event always follows; the reason is reported there.
    })
    ws.addEventListener('close', (event) => this.onClose(ws, event.code, event.reason))
  }

  private onFrame(data: ArrayBuffer): void {
    const message = decodeFrame(data)
    if (message instanceof ProtocolError) {
      this.protocolFailure(message.message)
      return
    }
    switch (message.type) {
      case MessageType.Reply:
        this.onReply(message)
        return
      case MessageType.Heartbeat:
        return
      case MessageType.Welcome:
        this.onWelcome(message)
        return
      case MessageType.Membership:
        this.onMembership(message)
        return
      case MessageType.Error: {
        const reason = errorCodeName(message.code)
        if (!this.welcomed) this.refusal = new DispatcherRefusedError(reason, message.text)
        if (FATAL_REFUSALS.includes(message.code)) this.stopped = true
        // Our previous connection is still registered (the dispatcher has not yet seen it
        // go, e.g. it just woke up): try again soon rather than after a long backoff.
        if (message.code === ErrorCode.DuplicateNode) this.retrySoon = true
        return // the dispatcher closes; onClose reports
      }
      default:
        this.protocolFailure(`unexpected message type ${message.type} from the dispatcher`)
    }
  }

  private onWelcome(welcome: WelcomeMessage): void {
    if (this.welcomed) {
      this.protocolFailure('second WELCOME')
      return
    }
    this.welcomed = true
    this.welcome = welcome
    this.members = welcome.members
    this.attempt = 0
    if (this.connectTimer) clearTimeout(this.connectTimer)
    this.connectTimer = null
    this.setState('connected', 'welcome')
    this.heartbeatIntervalMs = Math.max(10, welcome.heartbeatIntervalMs)
    this.lastHeartbeatTick = Date.now()
    this.heartbeatTimer = setInterval(this.heartbeatTask, this.heartbeatIntervalMs)
    this.heartbeatTimer.unref()
    this.emit('welcome', welcome)
    const waiter = this.connectWaiter
    this.connectWaiter = null
    waiter?.resolve(welcome)
  }

  private onMembership(message: MembershipMessage): void {
    this.members = message.members
    this.emit('membership', message)
    if (message.event === 'down') this.emit('down', message.node)
    if (message.event === 'up') {
      const member = message.members.find((m) => m.id === message.node)
      if (member) this.emit('up', message.node, member)
    }
  }

  private readonly heartbeatTask = (): void => {
    const ws = this.ws
    if (!ws || !this.welcomed) return
    // This process did not run for a while (see deadlineTask): judge the silence next time.
    const tick = Date.now()
    const stalled = tick - this.lastHeartbeatTick > 1.5 * this.heartbeatIntervalMs
    this.lastHeartbeatTick = tick
    if (stalled) this.lastHeard = Math.max(this.lastHeard, tick - this.heartbeatIntervalMs)
    if (Date.now() - this.lastHeard > 2 * this.heartbeatIntervalMs) {
      // The dispatcher sends a heartbeat every interval: one missed (with slack) is silence,
      // unless what it sent is still unread because this process was busy (see deadlineTask).
      setImmediate(() => {
        const silentMs = Date.now() - this.lastHeard
        if (this.ws !== ws || !this.welcomed || silentMs <= 2 * this.heartbeatIntervalMs) return
        this.counters.heartbeatMisses++
        this.suspect(`nothing from the dispatcher for ${silentMs} ms (heartbeat every ${this.heartbeatIntervalMs} ms)`)
      })
      return
    }
    if (this.options.sendHeartbeats) ws.send(encodeMessage({ type: 7, load: this.ownLoad, timeMs: Date.now() }))
    // Local counts must reach the dispatcher even when every request is served locally.
    if (this.localServed.size > 0 && this.batchesInFlight === 0 && this.pendingCount === 0) this.sendAssign(EMPTY, EMPTY, 0)
  }

  /** The dispatcher sent something we cannot accept: tell it and reconnect. */
  private protocolFailure(text: string): void {
    const ws = this.ws
    if (!ws) return
    try {
      ws.send(encodeError(ErrorCode.BadFrame, text))
    } catch {
      // already closing
    }
    ws.close(4000 + ErrorCode.BadFrame, text.slice(0, 100))
  }

  private failAll(err: Error): void {
    this.sent.rejectAll(err)
    for (let i = 0; i < this.pendingCount; i++) this.pendingRejects[i](err)
    this.pendingResolves.length = this.pendingRejects.length = 0
    this.pendingCount = 0
    this.batchesInFlight = 0
    this.batchSentAt.length = this.batchHead = 0
    this.doneCount = 0
    this.localServed.clear()
  }

  private setState(next: LinkState, why: string): void {
    if (next === this.linkState) return
    const now = performance.now()
    this.stateMs[this.linkState] += now - this.stateSince
    this.stateSince = now
    this.linkState = next
    this.emit('state', next, why)
  }

  /** Forgets `ws` (its events are ignored from now on) and destroys its TCP socket. */
  private teardown(ws: RawWebSocket): void {
    if (this.ws === ws) this.ws = null
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer)
    if (this.connectTimer) clearTimeout(this.connectTimer)
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    this.heartbeatTimer = this.connectTimer = this.deadlineTimer = null
    this.batchSentAt.length = this.batchHead = 0
    ws.socket.destroy()
  }

  /** The dispatcher went silent: fallback at once, terminate the socket, reconnect. */
  private suspect(why: string): void {
    const ws = this.ws
    if (!ws) return
    this.counters.suspects++
    const wasWelcomed = this.welcomed
    this.welcomed = false
    this.teardown(ws)
    this.failAll(new DispatcherUnavailableError(`node ${this.nodeId}: dispatcher suspect: ${why}`))
    this.setState('suspect', why)
    if (wasWelcomed) this.emit('disconnected', { code: 4000 + ErrorCode.HeartbeatTimeout, reason: why })
    this.scheduleReconnect()
  }

  /** A connection attempt that got no WELCOME in time. */
  private abandon(ws: RawWebSocket, why: string): void {
    this.teardown(ws)
    const waiter = this.connectWaiter
    this.connectWaiter = null
    waiter?.reject(new DispatcherUnavailableError(`node ${this.nodeId}: cannot register with ${this.options.url}: ${why}`))
    this.scheduleReconnect()
  }

  private onClose(ws: RawWebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return
    const wasWelcomed = this.welcomed
    this.welcomed = false
    this.teardown(ws)
    const why = this.refusal ? this.refusal.message : `connection closed (${code}${reason ? ` ${reason}` : ''})`
    this.failAll(new DispatcherUnavailableError(`node ${this.nodeId}: dispatcher unavailable: ${why}`))
    // A refused or failed attempt while suspect says nothing new about the dispatcher: it stays suspect until it answers.
    if (wasWelcomed || this.linkState !== 'suspect' || this.refusal) this.setState('unreachable', why)
    if (wasWelcomed) this.emit('disconnected', { code, reason })
    const waiter = this.connectWaiter
    this.connectWaiter = null
    if (waiter) waiter.reject(this.refusal ?? new DispatcherUnavailableError(`node ${this.nodeId}: cannot register with ${this.options.url}: ${why}`))
    if (this.refusal && this.stopped && !this.closedByUser) this.emit('error', this.refusal)
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.closedByUser || !this.options.reconnect || this.reconnectTimer) return
    // Exponential backoff with jitter (50-100% of the step), so nodes that lost the same
    // dispatcher do not come back in step.
    const step = this.retrySoon ? this.options.backoffInitialMs : Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** this.attempt)
    this.retrySoon = false
    const delay = step * (0.5 + Math.random() / 2)
    this.attempt = Math.min(this.attempt + 1, 30)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      this.counters.reconnects++
      if (!this.stopped && !this.closedByUser) this.open()
    }, delay)
  }
}

const EMPTY = new Uint32Array(0)
