// The discrete-event model of a content-aware web cluster (Aron et al. 2000's architecture,
// as the seed built it): clients -> round-robin front -> receiving node -> (DS fast path, or
// the dispatcher) -> serving node, possibly after a handoff -> response over the node's link.
//
// Every resource (a node's CPU, disk and link, the dispatcher's CPU) is a FIFO server kept as
// one "free at" time: a job arriving at t starts at max(t, free) and the server is free again
// after its service time. That is exact FIFO as long as each server's jobs are offered in
// arrival order, which the event structure below guarantees (each offer happens at the current
// event time, or at a time derived from a FIFO server fed in event order). So queues cost no
// events; a request costs about four: arrival, parsed (or served), disk done on a miss, complete.
// Per-request state lives in typed arrays indexed by a slot (the user equivalent itself in a
// closed loop), so the hot loop allocates nothing.

import type { LocalTable, Scheduler } from '../policy/types.js'
import { InvalidArgumentError } from '../core/errors.js'
import { RecentAssignments } from '../policy/recent-assignments.js'
import { EventQueue } from './event-queue.js'
import { LatencyHistogram } from './histogram.js'
import { LruCache } from './lru.js'
import { Random } from './random.js'
import { SEED_CLIENTS, type SimConfig, type SimCosts, type SimResult, type SimWorkload } from './types.js'

/** The policy under test: the dispatcher's scheduler and, for DS, the nodes' local tables. */
export interface SimPolicy {
  scheduler: Scheduler
  createLocalTable?: () => LocalTable
}

const ARRIVE = 0 // slot: a closed-loop user sends its next request
const PARSED = 1 // slot: the receiving node parsed it and must ask the dispatcher
const DECIDE = 2 // node: the dispatcher processes that node's message
const REPLY = 3 // node: the dispatcher's reply reaches the node
const SERVE = 4 // slot: the serving node starts on the request (locally, or after a handoff)
const DISK_DONE = 5 // slot: the miss was read from disk
const COMPLETE = 6 // slot: the response has left the serving node
const TRACE_ARRIVAL = 7 // trace index: an open-loop request arrives
const RETRY = 8 // slot: overload model: the client retransmits a dropped SYN
const KIND_BITS = 4 // the queue orders by time only, so the encoding does not affect results
const KIND_MASK = (1 << KIND_BITS) - 1

const FRONT_RR = 0
const FRONT_PROCESS = 1
const FRONT_MACHINE = 2

const VIA_LOCAL = 0 // served where it arrived without asking (DS)
const VIA_SELF = 1 // the dispatcher chose the receiving node
const VIA_HANDOFF = 2 // the dispatcher chose another node
// reuseMs > 0 only: the receiving node reused a recent answer of the dispatcher without asking.
// The dispatcher neither decided nor counted these, so they send no DONE (service/node/route.ts).
const VIA_REUSED_SELF = 3
const VIA_REUSED_HANDOFF = 4

export function runClusterModel(config: SimConfig, workload: SimWorkload, policy: SimPolicy): SimResult {
  return new ClusterModel(config, workload, policy).run()
}

class ClusterModel {
  private readonly cfg: SimConfig
  private readonly w: SimWorkload
  private readonly sched: Scheduler
  private readonly nodes: number
  private readonly ds: boolean
  private readonly reportsLoad: boolean
  private readonly local: LocalTable[] = []
  // reuseMs (ours, off by default): each node's memory of the dispatcher's recent answers, the
  // node's own table (service/policy/recent-assignments.ts) with its window in microseconds.
  private readonly reuseUs: number
  private readonly recent: RecentAssignments[] = []
  private readonly caches: LruCache[] = []
  private readonly rng: Random
  private readonly uniform: () => number
  private readonly queue: EventQueue // work in progress: a few events per active request
  private readonly thinking: EventQueue // users' next arrivals after OFF times (one per idle user)
  private readonly sizes: Float64Array
  private readonly hashes: Uint32Array
  private readonly warmupEndUs: number
  private readonly endUs: number
  private readonly drain: boolean
  // Costs read on every request, hoisted out of the config object (and, per file, computed
  // once) so the hot path does plain field and array loads. Each keeps the exact expression
  // it replaces, so results do not change.
  private readonly arriveCpuUs: number // connSetupUs + parseUs
  private readonly teardownUs: number
  private readonly handoffSendUs: number
  private readonly handoffRecvUs: number
  private readonly latencyUs: number
  private readonly nodeMessageUs: number
  private readonly nodeReplyUs: number
  private readonly dispatcherMessageUs: number
  private readonly dispatcherPerRecordUs: number
  private readonly sendCpuUs: Float64Array // per file: transmit CPU, without teardown
  private readonly linkUs: Float64Array // per file: time on the link
  private readonly diskUs: Float64Array // per file: a read from disk
  // Front, overload and client models (README: "Overload and clients"); all off by default.
  private readonly front: number
  private readonly processes: number
  private readonly machines: number
  private readonly overloaded: boolean
  private readonly maxClients: number
  private readonly backlog: number
  private readonly synRtoUs: number
  private readonly synRetries: number
  private readonly nicModelled: boolean
  private readonly nicUs: Float64Array // per file: time on a client machine's NIC
  private readonly nicFree: Float64Array
  private readonly nicBusy: Float64Array
  private readonly acceptHead: Int32Array // connections waiting for a server process (list via slotNext)
  private readonly acceptTail: Int32Array
  private readonly acceptLen: Int32Array
  private synDrops = 0
  private connectFailures = 0

  // Per node.
  private readonly cpuFree: Float64Array
  private readonly diskFree: Float64Array
  private readonly linkFree: Float64Array
  private readonly active: Int32Array
  private readonly busyChannel: Uint8Array // a message to the dispatcher is unanswered
  private readonly pendHead: Int32Array // requests waiting for the next message (list via slotNext)
  private readonly pendTail: Int32Array
  private readonly flightHead: Int32Array // requests in the unanswered message
  private readonly flightLoad: Int32Array // load the node reported with that message
  // DONE frames (no answer) wait in the dispatcher's inbox until processed; loads matter
  // only when decide() runs, so they are applied then, in order, without events of their own.
  private inboxNode = new Int32Array(1024)
  private inboxHash = new Uint32Array(1024)
  private inboxAt = new Float64Array(1024) // when the dispatcher has processed the record
  private inboxHead = 0
  private inboxTail = 0
  private obsHashes: Uint32Array[] = [] // DS: local serves since the last message (hash, count)
  private obsCounts: Int32Array[] = []
  private obsLen: Int32Array
  private flightObsHashes: Uint32Array[] = []
  private flightObsCounts: Int32Array[] = []
  private flightObsLen: Int32Array
  private readonly servedInWindow: Float64Array
  private readonly cpuBusy: Float64Array
  private readonly diskBusy: Float64Array
  private readonly linkBusy: Float64Array
  // The time of the event being handled. Handlers read it here rather than take it as an
  // argument: V8 boxes a floating-point argument (a heap allocation) on every call it does
  // not inline, and most handlers are too large to inline; that was most of the garbage.
  private now = 0.5 // not 0, so the field holds a double from the start (no map change later)
  private dispatcherFree = 0
  private dispatcherBusy = 0
  private roundRobin = 0

  // Per slot (closed loop: slot = user equivalent).
  private slotCapacity: number
  private slotFile: Int32Array
  private slotRecv: Int32Array
  private slotServer: Int32Array
  private slotVia: Uint8Array
  private slotHit: Uint8Array
  private slotNext: Int32Array
  private slotStart: Float64Array
  private slotAttempt: Uint8Array
  private freeSlots: Int32Array // open loop only
  private freeCount = 0
  // Closed loop user state.
  private ueObject: Int32Array
  private cursor = 0 // the shared position in the request sequence
  private ueFileIdx: Int32Array

  // Counters.
  private started = 0
  private completed = 0
  private measured = 0
  private hits = 0
  private localServed = 0
  private handoffs = 0
  private messages = 0
  private decideCalls = 0
  private decided = 0
  private decidedInWindow = 0 // dispatcher decisions made in the measured interval
  private arrivedInWindow = 0 // requests that arrived in it (the decisions' denominator: completions lag arrivals)
  private reused = 0 // measured requests sent by a reused answer
  private readonly latency = new LatencyHistogram()

  constructor(config: SimConfig, workload: SimWorkload, policy: SimPolicy) {
    if (!Number.isInteger(config.nodes) || config.nodes < 1 || config.nodes > policy.scheduler.params.maxNodes)
      throw new InvalidArgumentError(`nodes must be 1..${policy.scheduler.params.maxNodes}, got ${config.nodes}`)
    if (workload.kind === 'closed' && (!Number.isInteger(config.users) || config.users < 1))
      throw new InvalidArgumentError(`users must be a positive integer, got ${config.users}`)
    if (!(config.durationSeconds > 0)) throw new InvalidArgumentError('duration must be positive')
    if (!(config.warmupSeconds >= 0)) throw new InvalidArgumentError('warm-up must not be negative')
    if (workload.files.sizes.length === 0) throw new InvalidArgumentError('the workload has no files')
    this.cfg = config
    this.w = workload
    this.sched = policy.scheduler
    this.nodes = config.nodes
    this.ds = policy.scheduler.policy === 'ds'
    const reports = config.loadReports ?? 'ds'
    this.reportsLoad = reports === 'all' || (reports === 'ds' && this.ds)
    this.reuseUs = policy.scheduler.params.reuseMs * 1000
    this.rng = new Random(config.seed)
    this.uniform = () => this.rng.next()
    this.sizes = workload.files.sizes
    this.hashes = workload.files.hashes
    this.warmupEndUs = config.warmupSeconds * 1e6
    this.endUs = this.warmupEndUs + config.durationSeconds * 1e6
    this.drain = config.drain === true
    const costs = config.costs
    this.arriveCpuUs = costs.connSetupUs + costs.parseUs
    this.teardownUs = costs.connTeardownUs
    this.handoffSendUs = costs.handoffSendUs
    this.handoffRecvUs = costs.handoffRecvUs
    this.latencyUs = costs.networkLatencyUs
    this.nodeMessageUs = costs.nodeMessageUs
    this.nodeReplyUs = costs.nodeReplyUs
    this.dispatcherMessageUs = costs.dispatcherMessageUs
    this.dispatcherPerRecordUs = costs.dispatcherPerRecordUs
    const files = this.sizes.length
    const bytesPerUs = costs.linkMbps / 8
    this.sendCpuUs = new Float64Array(files)
    this.linkUs = new Float64Array(files)
    this.diskUs = new Float64Array(files)
    for (let f = 0; f < files; f++) {
      const bytes = this.sizes[f] + costs.headerBytes
      this.sendCpuUs[f] = costs.transmitUsPer512B * Math.ceil(bytes / 512)
      this.linkUs[f] = bytes / bytesPerUs
      this.diskUs[f] = diskTime(costs, this.sizes[f])
    }

    this.front = workload.kind === 'open' || (config.front ?? 'round-robin') === 'round-robin' ? FRONT_RR : config.front === 'dns-process' ? FRONT_PROCESS : FRONT_MACHINE
    const clients = config.clients ?? { ...SEED_CLIENTS, nicMbps: 0 }
    if (!(Number.isInteger(clients.machines) && clients.machines >= 1 && Number.isInteger(clients.processes) && clients.processes >= 1 && clients.nicMbps >= 0))
      throw new InvalidArgumentError(`clients: need machines >= 1, processes >= 1 (integers) and nicMbps >= 0, got ${JSON.stringify(clients)}`)
    this.processes = clients.processes
    this.machines = clients.machines
    this.nicModelled = clients.nicMbps > 0
    this.nicUs = new Float64Array(this.nicModelled ? files : 0)
    for (let f = 0; f < this.nicUs.length; f++) this.nicUs[f] = (this.sizes[f] + costs.headerBytes) / (clients.nicMbps / 8)
    this.nicFree = new Float64Array(this.machines)
    this.nicBusy = new Float64Array(this.machines)
    const overload = config.overload
    this.overloaded = overload !== undefined
    if (overload !== undefined) {
      const ok = Number.isInteger(overload.maxClients) && overload.maxClients >= 1 && Number.isInteger(overload.listenBacklog) && overload.listenBacklog >= 0 &&
        overload.synRetransmitS > 0 && Number.isInteger(overload.synRetries) && overload.synRetries >= 0 && overload.synRetries <= 16
      if (!ok) throw new InvalidArgumentError(`overload: need maxClients >= 1, listenBacklog >= 0, synRetransmitS > 0, synRetries 0..16, got ${JSON.stringify(overload)}`)
    }
    this.maxClients = overload?.maxClients ?? 0
    this.backlog = overload?.listenBacklog ?? 0
    this.synRtoUs = (overload?.synRetransmitS ?? 0) * 1e6
    this.synRetries = overload?.synRetries ?? 0

    const n = this.nodes
    this.acceptHead = new Int32Array(n).fill(-1)
    this.acceptTail = new Int32Array(n).fill(-1)
    this.acceptLen = new Int32Array(n)
    this.cpuFree = new Float64Array(n)
    this.diskFree = new Float64Array(n)
    this.linkFree = new Float64Array(n)
    this.active = new Int32Array(n)
    this.busyChannel = new Uint8Array(n)
    this.pendHead = new Int32Array(n).fill(-1)
    this.pendTail = new Int32Array(n).fill(-1)
    this.flightHead = new Int32Array(n).fill(-1)
    this.flightLoad = new Int32Array(n)
    this.obsLen = new Int32Array(n)
    this.flightObsLen = new Int32Array(n)
    this.servedInWindow = new Float64Array(n)
    this.cpuBusy = new Float64Array(n)
    this.diskBusy = new Float64Array(n)
    this.linkBusy = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      this.sched.addNode(i, 1)
      this.caches.push(new LruCache(config.cacheBytes, this.sizes))
      this.obsHashes.push(new Uint32Array(OBS_CAPACITY))
      this.obsCounts.push(new Int32Array(OBS_CAPACITY))
      this.flightObsHashes.push(new Uint32Array(OBS_CAPACITY))
      this.flightObsCounts.push(new Int32Array(OBS_CAPACITY))
      if (this.ds) {
        if (!policy.createLocalTable) throw new InvalidArgumentError('ds needs the nodes\' local tables')
        this.local.push(policy.createLocalTable())
      }
      if (this.reuseUs > 0) this.recent.push(new RecentAssignments(this.reuseUs))
    }

    this.slotCapacity = workload.kind === 'closed' ? config.users : Math.min(Math.max(workload.file.length, 1), 4096)
    this.slotFile = new Int32Array(this.slotCapacity)
    this.slotRecv = new Int32Array(this.slotCapacity)
    this.slotServer = new Int32Array(this.slotCapacity)
    this.slotVia = new Uint8Array(this.slotCapacity)
    this.slotHit = new Uint8Array(this.slotCapacity)
    this.slotNext = new Int32Array(this.slotCapacity)
    this.slotStart = new Float64Array(this.slotCapacity)
    this.slotAttempt = new Uint8Array(this.slotCapacity)
    this.freeSlots = new Int32Array(workload.kind === 'open' ? this.slotCapacity : 0)
    this.ueObject = new Int32Array(workload.kind === 'closed' ? config.users : 0)
    this.ueFileIdx = new Int32Array(this.ueObject.length)
    this.queue = new EventQueue(1024)
    this.thinking = new EventQueue(workload.kind === 'closed' ? config.users + 1 : 16)
  }

  run(): SimResult {
    const wallStart = performance.now()
    const cpuStart = process.cpuUsage()
    const w = this.w
    if (this.cfg.prewarm === true) this.prewarmCaches()
    if (w.kind === 'closed') {
      if (w.sequence.length === 0) throw new InvalidArgumentError('the workload has an empty request sequence')
      // Users start spread over the think time's minimum; each takes the next object of the
      // shared sequence when it starts one (as the replay tool's SURGE users do).
      for (let u = 0; u < this.cfg.users; u++) {
        this.ueObject[u] = -1
        this.thinking.push(this.rng.next() * w.startSpreadUs, (u << KIND_BITS) | ARRIVE)
      }
    } else {
      this.freeCount = this.slotCapacity
      for (let i = 0; i < this.slotCapacity; i++) this.freeSlots[i] = this.slotCapacity - 1 - i
      if (w.arrivalUs.length > 0) this.queue.push(w.arrivalUs[0], (0 << KIND_BITS) | TRACE_ARRIVAL)
    }

    const queue = this.queue
    const thinking = this.thinking
    const limit = this.cfg.drain ? Infinity : this.endUs
    for (;;) {
      // Two heaps: the many idle users do not deepen the heap that every request step uses.
      const t1 = queue.peekTime()
      const t2 = thinking.peekTime()
      const t = t1 <= t2 ? t1 : t2
      if (t > limit || t === Infinity) break
      const event = t1 <= t2 ? queue.pop() : thinking.pop()
      this.now = t
      const id = event >>> KIND_BITS
      switch (event & KIND_MASK) {
        case ARRIVE:
          this.startUserRequest(id)
          break
        case TRACE_ARRIVAL:
          this.traceArrival(id)
          break
        case PARSED:
          this.enqueueForDispatcher(id)
          break
        case DECIDE:
          this.decide(id)
          break
        case REPLY:
          this.reply(id)
          break
        case SERVE:
          this.serve(id)
          break
        case DISK_DONE:
          this.caches[this.slotServer[id]].insert(this.slotFile[id])
          this.transmit(id, 0)
          break
        case COMPLETE:
          this.complete(id)
          break
        case RETRY:
          this.connect(id)
          break
      }
    }
    const wallSeconds = (performance.now() - wallStart) / 1000
    const cpu = process.cpuUsage(cpuStart)
    for (const table of this.local) table.close()
    return this.result(wallSeconds, (cpu.user + cpu.system) / 1e6)
  }

  private prewarmCaches(): void {
    const w = this.w
    const requests = new Float64Array(this.sizes.length)
    if (w.kind === 'closed') {
      for (let i = 0; i < w.sequence.length; i++) {
        const o = w.sequence[i]
        for (let j = w.objectStart[o]; j < w.objectStart[o + 1]; j++) requests[w.objectFiles[j]]++
      }
    } else {
      for (let i = 0; i < w.file.length; i++) requests[w.file[i]]++
    }
    const order = Array.from({ length: this.sizes.length }, (_, i) => i).sort((a, b) => requests[a] - requests[b] || b - a)
    for (const cache of this.caches) for (const file of order) cache.insert(file)
  }

  /** FIFO server: returns when a job of `service` microseconds offered at `t` finishes. */
  private cpu(node: number, t: number, service: number): number {
    const start = t > this.cpuFree[node] ? t : this.cpuFree[node]
    const end = start + service
    this.cpuFree[node] = end
    if (start >= this.warmupEndUs) this.cpuBusy[node] += service
    return end
  }

  // ---- arrival at the receiving node ----

  private startUserRequest(user: number): void {
    const w = this.w
    if (w.kind !== 'closed') return
    let object = this.ueObject[user]
    if (object < 0) {
      object = w.sequence[this.cursor]
      this.cursor = this.cursor + 1 === w.sequence.length ? 0 : this.cursor + 1
      this.ueObject[user] = object
      this.ueFileIdx[user] = 0
    }
    this.slotFile[user] = w.objectFiles[w.objectStart[object] + this.ueFileIdx[user]]
    this.arrive(user)
  }

  private traceArrival(index: number): void {
    const t = this.now
    const w = this.w
    if (w.kind !== 'open') return
    if (index + 1 < w.arrivalUs.length && (!this.drain || w.arrivalUs[index + 1] <= this.endUs))
      this.queue.push(w.arrivalUs[index + 1], ((index + 1) << KIND_BITS) | TRACE_ARRIVAL)
    if (this.drain && t > this.endUs) return
    if (this.freeCount === 0) this.growSlots()
    const slot = this.freeSlots[--this.freeCount]
    this.slotFile[slot] = w.file[index]
    this.arrive(slot)
  }

  private arrive(slot: number): void {
    this.started++
    if (this.now >= this.warmupEndUs && this.now <= this.endUs) this.arrivedInWindow++
    this.slotStart[slot] = this.now
    this.slotAttempt[slot] = 0
    let node: number
    if (this.front === FRONT_RR) {
      node = this.roundRobin
      this.roundRobin = node + 1 === this.nodes ? 0 : node + 1
    } else {
      // closed loop: the slot is the user; its process resolved the name once (RR-DNS)
      const process = slot % this.processes
      node = (this.front === FRONT_PROCESS ? process : process % this.machines) % this.nodes
    }
    this.slotRecv[slot] = node
    this.connect(slot)
  }

  /** A connection's SYN reaches its receiving node (first try or a retransmission). */
  private connect(slot: number): void {
    const t = this.now
    const node = this.slotRecv[slot]
    if (this.overloaded && this.acceptLen[node] >= this.backlog) {
      this.synDropped(slot)
      return
    }
    const parsed = this.cpu(node, t, this.arriveCpuUs)
    const hash = this.hashes[this.slotFile[slot]]
    if (this.ds && this.local[node].check(hash, t, this.active[node] + this.acceptLen[node])) {
      this.slotVia[slot] = VIA_LOCAL
      this.slotServer[slot] = node
      this.recordLocalServe(node, hash)
      this.queue.push(parsed, (slot << KIND_BITS) | SERVE)
    } else if (this.reuseUs > 0 && this.reuseRecent(slot, node, hash, parsed)) {
      // sent by the dispatcher's recent answer, without asking
    } else {
      this.queue.push(parsed, (slot << KIND_BITS) | PARSED)
    }
  }

  /**
   * reuseMs: the receiving node holds an answer for this target younger than the window: serve
   * here, or hand off at once (the same costs as after a REPLY), without a message. False: ask.
   */
  private reuseRecent(slot: number, node: number, hash: number, parsed: number): boolean {
    const target = this.recent[node].lookup(hash, this.now)
    if (target === -1) return false
    this.slotServer[slot] = target
    if (target === node) {
      this.slotVia[slot] = VIA_REUSED_SELF
      this.queue.push(parsed, (slot << KIND_BITS) | SERVE)
    } else {
      this.slotVia[slot] = VIA_REUSED_HANDOFF
      const sent = this.cpu(node, this.now, this.handoffSendUs)
      this.queue.push(sent + this.latencyUs, (slot << KIND_BITS) | SERVE)
    }
    return true
  }

  /** Overload model: the node's backlog is full, the SYN is lost; the client backs off (3 s, 6 s, ...) or gives up. */
  private synDropped(slot: number): void {
    const t = this.now
    const inWindow = t >= this.warmupEndUs && t <= this.endUs
    if (inWindow) this.synDrops++
    const attempt = ++this.slotAttempt[slot]
    if (attempt <= this.synRetries) {
      this.queue.push(t + this.synRtoUs * 2 ** (attempt - 1), (slot << KIND_BITS) | RETRY)
      return
    }
    if (inWindow) this.connectFailures++
    this.completed++ // ended, without a response: keeps started == completed after a drain
    this.userMovesOn(slot)
  }

  private recordLocalServe(node: number, hash: number): void {
    const hashes = this.obsHashes[node]
    const counts = this.obsCounts[node]
    const len = this.obsLen[node]
    // Hot targets are few: a short scan aggregates them; a full list drops the rate hint.
    for (let i = 0; i < len; i++) {
      if (hashes[i] === hash) {
        counts[i]++
        return
      }
    }
    if (len < OBS_CAPACITY) {
      hashes[len] = hash
      counts[len] = 1
      this.obsLen[node] = len + 1
    }
  }

  // ---- the dispatcher, with adaptive batching ----

  private enqueueForDispatcher(slot: number): void {
    const node = this.slotRecv[slot]
    this.slotNext[slot] = -1
    if (this.pendTail[node] === -1) this.pendHead[node] = slot
    else this.slotNext[this.pendTail[node]] = slot
    this.pendTail[node] = slot
    if (this.busyChannel[node] === 0) this.send(node)
  }

  /** The node sends everything pending in one message; the next waits for the reply. */
  private send(node: number): void {
    this.busyChannel[node] = 1
    this.flightHead[node] = this.pendHead[node]
    this.pendHead[node] = -1
    this.pendTail[node] = -1
    this.flightLoad[node] = this.active[node] + this.acceptLen[node]
    let records = 0
    const obsHashes = this.obsHashes[node]
    const obsCounts = this.obsCounts[node]
    this.obsHashes[node] = this.flightObsHashes[node]
    this.obsCounts[node] = this.flightObsCounts[node]
    this.flightObsHashes[node] = obsHashes
    this.flightObsCounts[node] = obsCounts
    this.flightObsLen[node] = this.obsLen[node]
    records += this.obsLen[node]
    this.obsLen[node] = 0
    for (let s = this.flightHead[node]; s !== -1; s = this.slotNext[s]) records++

    this.queue.push(this.messageToDispatcher(node, records), (node << KIND_BITS) | DECIDE)
  }

  /**
   * A frame leaves the node at t (its send cost is charged to the node's CPU but does not
   * delay departure), so frames reach the dispatcher in the order they are sent and its FIFO
   * stays exact. Returns when the dispatcher has processed it.
   */
  private messageToDispatcher(node: number, records: number): number {
    const t = this.now
    this.cpu(node, t, this.nodeMessageUs)
    const arrival = t + this.latencyUs
    const start = arrival > this.dispatcherFree ? arrival : this.dispatcherFree
    const service = this.dispatcherMessageUs + this.dispatcherPerRecordUs * records
    this.dispatcherFree = start + service
    if (start >= this.warmupEndUs) this.dispatcherBusy += service
    if (t >= this.warmupEndUs && t <= this.endUs) this.messages++
    return this.dispatcherFree
  }

  /** The serving node reports a finished connection in a DONE frame (load -1; no answer). */
  private sendDone(node: number, hash: number): void {
    const processed = this.messageToDispatcher(node, 1)
    if (this.inboxTail === this.inboxNode.length) this.growInbox()
    this.inboxNode[this.inboxTail] = node
    this.inboxHash[this.inboxTail] = hash
    this.inboxAt[this.inboxTail] = processed
    this.inboxTail++
  }

  private growInbox(): void {
    const live = this.inboxTail - this.inboxHead
    const cap = live * 2 > this.inboxNode.length ? this.inboxNode.length * 2 : this.inboxNode.length
    const nodes = new Int32Array(cap)
    const hashes = new Uint32Array(cap)
    const at = new Float64Array(cap)
    nodes.set(this.inboxNode.subarray(this.inboxHead, this.inboxTail))
    hashes.set(this.inboxHash.subarray(this.inboxHead, this.inboxTail))
    at.set(this.inboxAt.subarray(this.inboxHead, this.inboxTail))
    this.inboxNode = nodes
    this.inboxHash = hashes
    this.inboxAt = at
    this.inboxHead = 0
    this.inboxTail = live
  }

  /** Applies every DONE record the dispatcher has processed by t, in one done() call per batch. */
  private applyDones(): void {
    const t = this.now
    const sched = this.sched
    const capacity = sched.params.batchCapacity
    const cols = sched.dones
    while (this.inboxHead < this.inboxTail && this.inboxAt[this.inboxHead] <= t) {
      let k = 0
      while (k < capacity && this.inboxHead < this.inboxTail && this.inboxAt[this.inboxHead] <= t) {
        cols.node[k] = this.inboxNode[this.inboxHead]
        cols.hash[k] = this.inboxHash[this.inboxHead]
        this.inboxHead++
        k++
      }
      sched.done(k)
    }
    if (this.inboxHead === this.inboxTail) {
      this.inboxHead = 0
      this.inboxTail = 0
    }
  }

  private decide(node: number): void {
    const t = this.now
    const sched = this.sched
    const capacity = sched.params.batchCapacity
    this.applyDones()
    const obsLen = this.flightObsLen[node]
    if (obsLen > 0) {
      const hashes = this.flightObsHashes[node]
      const counts = this.flightObsCounts[node]
      for (let i = 0; i < obsLen; i++) sched.observeLocal(node, hashes[i], counts[i], t)
      this.flightObsLen[node] = 0
    }
    let slot = this.flightHead[node]
    const reported = this.reportsLoad ? this.flightLoad[node] : -1
    const cols = sched.requests
    while (slot !== -1) {
      let k = 0
      let s = slot
      while (s !== -1 && k < capacity) {
        cols.receiving[k] = node
        cols.hash[k] = this.hashes[this.slotFile[s]]
        cols.timeUs[k] = t
        cols.reportedLoad[k] = reported
        k++
        s = this.slotNext[s]
      }
      sched.decide(k)
      this.decideCalls++
      this.decided += k
      if (t >= this.warmupEndUs && t <= this.endUs) this.decidedInWindow += k
      const chosen = cols.chosen
      for (let i = 0; i < k; i++) {
        const target = chosen[i]
        if (!(target >= 0 && target < this.nodes))
          throw new InvalidArgumentError(`policy ${sched.policy} chose node ${target} of ${this.nodes}`)
        this.slotServer[slot] = target
        slot = this.slotNext[slot]
      }
    }
    if (t >= this.warmupEndUs && t <= this.endUs) this.messages++
    this.queue.push(t + this.latencyUs, (node << KIND_BITS) | REPLY)
  }

  private reply(node: number): void {
    const t = this.now
    this.busyChannel[node] = 0
    this.cpu(node, t, this.nodeReplyUs)
    let slot = this.flightHead[node]
    this.flightHead[node] = -1
    while (slot !== -1) {
      const next = this.slotNext[slot]
      const target = this.slotServer[slot]
      if (this.reuseUs > 0) this.recent[node].remember(this.hashes[this.slotFile[slot]], target, t)
      if (target === node) {
        this.slotVia[slot] = VIA_SELF
        this.serve(slot)
      } else {
        this.slotVia[slot] = VIA_HANDOFF
        const sent = this.cpu(node, t, this.handoffSendUs)
        this.queue.push(sent + this.latencyUs, (slot << KIND_BITS) | SERVE)
      }
      slot = next
    }
    if (this.pendHead[node] !== -1) this.send(node)
  }

  // ---- the serving node ----

  private serve(slot: number): void {
    if (this.overloaded) {
      const node = this.slotServer[slot]
      if (this.active[node] >= this.maxClients) {
        // every server process is busy: wait in the accept queue (a handed-off connection is
        // inserted there too, without a test, as the seed's handoff does; only SYNs are dropped)
        this.slotNext[slot] = -1
        if (this.acceptTail[node] === -1) this.acceptHead[node] = slot
        else this.slotNext[this.acceptTail[node]] = slot
        this.acceptTail[node] = slot
        this.acceptLen[node]++
        return
      }
    }
    this.startServing(slot)
  }

  private startServing(slot: number): void {
    const t = this.now
    const node = this.slotServer[slot]
    const file = this.slotFile[slot]
    this.active[node]++
    const via = this.slotVia[slot]
    if (this.ds && via !== VIA_LOCAL) this.local[node].assign(this.hashes[file], t)
    const receiveCost = via === VIA_HANDOFF || via === VIA_REUSED_HANDOFF ? this.handoffRecvUs : 0
    if (this.caches[node].access(file)) {
      this.slotHit[slot] = 1
      this.transmit(slot, receiveCost)
    } else {
      this.slotHit[slot] = 0
      // The read is issued once the CPU has taken the connection; the disk is FIFO too.
      const issued = this.cpu(node, t, receiveCost)
      const start = issued > this.diskFree[node] ? issued : this.diskFree[node]
      const service = this.diskUs[file]
      this.diskFree[node] = start + service
      if (start >= this.warmupEndUs) this.diskBusy[node] += service
      this.queue.push(start + service, (slot << KIND_BITS) | DISK_DONE)
    }
  }

  /** CPU (send processing, teardown) and the link work in parallel; the response is done when both are. */
  private transmit(slot: number, extraCpu: number): void {
    const t = this.now
    const node = this.slotServer[slot]
    const file = this.slotFile[slot]
    const cpuStart = t > this.cpuFree[node] ? t : this.cpuFree[node]
    const cpuService = extraCpu + this.sendCpuUs[file] + this.teardownUs
    const cpuEnd = cpuStart + cpuService
    this.cpuFree[node] = cpuEnd
    const linkStart = cpuStart > this.linkFree[node] ? cpuStart : this.linkFree[node]
    const linkService = this.linkUs[file]
    const linkEnd = linkStart + linkService
    this.linkFree[node] = linkEnd
    if (cpuStart >= this.warmupEndUs) {
      this.cpuBusy[node] += cpuService
      this.linkBusy[node] += linkService
    }
    let end = cpuEnd > linkEnd ? cpuEnd : linkEnd
    if (this.nicModelled) {
      // the client machine's NIC carries the response too, in parallel with the node's link
      const machine = this.w.kind === 'closed' ? (slot % this.processes) % this.machines : slot % this.machines
      const nicStart = linkStart > this.nicFree[machine] ? linkStart : this.nicFree[machine]
      const nicEnd = nicStart + this.nicUs[file]
      this.nicFree[machine] = nicEnd
      if (nicStart >= this.warmupEndUs) this.nicBusy[machine] += this.nicUs[file]
      if (nicEnd > end) end = nicEnd
    }
    this.queue.push(end, (slot << KIND_BITS) | COMPLETE)
  }

  private complete(slot: number): void {
    const t = this.now
    const node = this.slotServer[slot]
    this.active[node]--
    this.completed++
    if (this.acceptLen[node] > 0) {
      // a server process is free: the oldest waiting connection gets it
      const next = this.acceptHead[node]
      this.acceptHead[node] = this.slotNext[next]
      if (this.acceptHead[node] === -1) this.acceptTail[node] = -1
      this.acceptLen[node]--
      this.startServing(next)
    }
    const via = this.slotVia[slot]
    // Only what the dispatcher decided (and so counted) is reported done.
    if (via === VIA_SELF || via === VIA_HANDOFF) this.sendDone(node, this.hashes[this.slotFile[slot]])
    if (t >= this.warmupEndUs && t <= this.endUs) {
      this.measured++
      this.latency.record(t - this.slotStart[slot])
      this.hits += this.slotHit[slot]
      if (via === VIA_LOCAL) this.localServed++
      else if (via === VIA_HANDOFF || via === VIA_REUSED_HANDOFF) this.handoffs++
      if (via === VIA_REUSED_SELF || via === VIA_REUSED_HANDOFF) this.reused++
      this.servedInWindow[node]++
    }
    this.userMovesOn(slot)
  }

  /** The user takes the object's next file at once, or thinks; an open-loop slot is freed. */
  private userMovesOn(slot: number): void {
    const t = this.now
    const w = this.w
    if (w.kind === 'closed') {
      const object = this.ueObject[slot]
      const files = w.objectStart[object + 1] - w.objectStart[object]
      const nextFile = this.ueFileIdx[slot] + 1
      const stopping = this.drain && t > this.endUs
      if (nextFile < files) {
        // Embedded files follow at once, one connection each (SURGE's HTTP/1.0 client).
        this.ueFileIdx[slot] = nextFile
        if (!stopping) this.startUserRequest(slot)
      } else {
        this.ueObject[slot] = -1
        const next = t + w.offTimeUs(this.uniform)
        if (!stopping) this.thinking.push(next, (slot << KIND_BITS) | ARRIVE)
      }
    } else {
      this.freeSlots[this.freeCount++] = slot
    }
  }

  private growSlots(): void {
    const old = this.slotCapacity
    const cap = old * 2
    const grow = <T extends Int32Array | Uint8Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap)
      b.set(a)
      return b
    }
    this.slotFile = grow(this.slotFile)
    this.slotRecv = grow(this.slotRecv)
    this.slotServer = grow(this.slotServer)
    this.slotVia = grow(this.slotVia)
    this.slotHit = grow(this.slotHit)
    this.slotNext = grow(this.slotNext)
    this.slotStart = grow(this.slotStart)
    this.slotAttempt = grow(this.slotAttempt)
    this.freeSlots = new Int32Array(cap)
    for (let i = 0; i < cap - old; i++) this.freeSlots[i] = cap - 1 - i
    this.freeCount = cap - old
    this.slotCapacity = cap
  }

  private result(wallSeconds: number, cpuSeconds: number): SimResult {
    const windowSeconds = this.cfg.durationSeconds
    const windowUs = windowSeconds * 1e6
    let maxServed = 0
    let sumServed = 0
    let cpu = 0
    let disk = 0
    let link = 0
    for (let i = 0; i < this.nodes; i++) {
      maxServed = Math.max(maxServed, this.servedInWindow[i])
      sumServed += this.servedInWindow[i]
      cpu += this.cpuBusy[i]
      disk += this.diskBusy[i]
      link += this.linkBusy[i]
    }
    const m = this.measured
    return {
      policy: this.sched.policy,
      impl: this.sched.impl,
      nodes: this.nodes,
      users: this.w.kind === 'closed' ? this.cfg.users : 0,
      cacheMb: this.cfg.cacheBytes / (1 << 20),
      throughput: m / windowSeconds,
      meanResponseMs: this.latency.mean() / 1000,
      p50ResponseMs: this.latency.quantile(0.5) / 1000,
      p99ResponseMs: this.latency.quantile(0.99) / 1000,
      hitRate: m === 0 ? 0 : this.hits / m,
      localFraction: m === 0 ? 0 : this.localServed / m,
      handoffFraction: m === 0 ? 0 : this.handoffs / m,
      dispatcherMsgsPerRequest: m === 0 ? 0 : this.messages / m,
      decisionsPerRequest: this.arrivedInWindow === 0 ? 0 : this.decidedInWindow / this.arrivedInWindow,
      reuseMs: this.reuseUs / 1000,
      reusedFraction: m === 0 ? 0 : this.reused / m,
      meanBatch: this.decideCalls === 0 ? 0 : this.decided / this.decideCalls,
      loadImbalance: sumServed === 0 ? 0 : maxServed / (sumServed / this.nodes),
      cpuUtilization: Math.min(1, cpu / (windowUs * this.nodes)),
      diskUtilization: Math.min(1, disk / (windowUs * this.nodes)),
      linkUtilization: Math.min(1, link / (windowUs * this.nodes)),
      dispatcherUtilization: Math.min(1, this.dispatcherBusy / windowUs),
      synDropsPerRequest: m === 0 ? 0 : this.synDrops / m,
      connectFailures: this.connectFailures,
      clientNicUtilization: this.nicModelled ? Math.min(1, this.nicBusy.reduce((a, b) => a + b, 0) / (windowUs * this.machines)) : 0,
      measuredRequests: m,
      totalRequests: this.completed,
      startedRequests: this.started,
      simulatedSeconds: this.cfg.warmupSeconds + windowSeconds,
      wallSeconds,
      requestsPerWallSecond: wallSeconds > 0 ? this.completed / wallSeconds : 0,
      requestsPerCpuSecond: cpuSeconds > 0 ? this.completed / cpuSeconds : 0,
    }
  }
}

const OBS_CAPACITY = 64

/** A read of `bytes` from the node's disk: positioning, extra seeks beyond 44 KB, transfer. */
function diskTime(c: SimCosts, bytes: number): number {
  const extraSeeks = bytes > 45056 ? Math.ceil((bytes - 45056) / 45056) : 0
  return c.diskSeekUs + c.diskExtraSeekUs * extraSeeks + c.diskUsPer4KB * Math.ceil(bytes / 4096)
}
