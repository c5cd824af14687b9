// What the cluster model takes and gives. Every cost is a parameter; DEFAULT_COSTS holds
// the documented defaults and README.md in this folder gives each one's source.

import type { PolicyName } from '../policy/types.js'

export interface SimCosts {
  /** Node CPU, microseconds: accept a client connection (Pai et al. 1998: 145). */
  connSetupUs: number
  /** Node CPU: close it (Pai et al. 1998: 145). */
  connTeardownUs: number
  /** Node CPU: read the request line and hash the target (unverified: 10). */
  parseUs: number
  /** Node CPU per 512 bytes sent (Pai et al. 1998: 40). */
  transmitUsPer512B: number
  /** Response header bytes added to every body (ours: 250). */
  headerBytes: number
  /** Receiving node CPU to hand a connection off (Aron et al. 2000 distributor, unverified split: 150). */
  handoffSendUs: number
  /** Serving node CPU to accept a handed-off connection (unverified: 100). */
  handoffRecvUs: number
  /** One-way latency between two cluster hosts, microseconds (unverified: 50 on switched 100 Mb/s). */
  networkLatencyUs: number
  /** Node CPU to send one control message to the dispatcher (unverified: 20). */
  nodeMessageUs: number
  /** Node CPU to receive one reply from the dispatcher (unverified: 20). */
  nodeReplyUs: number
  /** Dispatcher CPU per message, fixed part (unverified: 20). */
  dispatcherMessageUs: number
  /** Dispatcher CPU per request decided or done record (Aron et al. 2000: about 0.8). */
  dispatcherPerRecordUs: number
  /** Disk: a read's first positioning (Pai et al. 1998: 28 ms, two seeks and rotation). */
  diskSeekUs: number
  /** Disk transfer per 4 KB (Pai et al. 1998: 410 us, about 10 MB/s). */
  diskUsPer4KB: number
  /** Disk: an extra positioning per 44 KB beyond the first 44 KB (Pai et al. 1998: 14 ms). */
  diskExtraSeekUs: number
  /** Each node's outgoing network link, Mb/s (the seed: 100). */
  linkMbps: number
}

export const DEFAULT_COSTS: Readonly<SimCosts> = Object.freeze({
  connSetupUs: 145,
  connTeardownUs: 145,
  parseUs: 10,
  transmitUsPer512B: 40,
  headerBytes: 250,
  handoffSendUs: 150,
  handoffRecvUs: 100,
  networkLatencyUs: 50,
  nodeMessageUs: 20,
  nodeReplyUs: 20,
  dispatcherMessageUs: 20,
  dispatcherPerRecordUs: 0.8,
  diskSeekUs: 28_000,
  diskUsPer4KB: 410,
  diskExtraSeekUs: 14_000,
  linkMbps: 100,
})

/**
 * The workload the model runs, independent of where it came from (a SURGE file set and
 * request sequence, or a trace). Files are integer ids 0..files-1.
 */
export interface SimFiles {
  /** Size in bytes per file. */
  sizes: Float64Array
  /** 32-bit hash of each file's key (the same hash the nodes compute). */
  hashes: Uint32Array
}

/** Closed loop: SURGE user equivalents walk the object sequence with OFF times between objects. */
export interface ClosedLoopWorkload {
  kind: 'closed'
  files: SimFiles
  /** Object o is files objectFiles[objectStart[o] .. objectStart[o+1]) (base file first). */
  objectStart: Int32Array
  objectFiles: Int32Array
  /** The request sequence: object ids in order (SURGE's name.txt), one cursor shared by all users, wrapping. */
  sequence: Int32Array
  /** Users start at uniform times in [0, startSpreadUs) so they do not move in lockstep. */
  startSpreadUs: number
  /** An inactive OFF time in microseconds, drawn with the given uniform(0,1) source. */
  offTimeUs: (uniform: () => number) => number
}

/** Open loop: requests arrive at their own times regardless of how the cluster keeps up. */
export interface OpenLoopWorkload {
  kind: 'open'
  files: SimFiles
  /** Arrival times, microseconds, non-decreasing. */
  arrivalUs: Float64Array
  /** File requested by each arrival. */
  file: Int32Array
}

export type SimWorkload = ClosedLoopWorkload | OpenLoopWorkload

export interface SimConfig {
  nodes: number
  /** Closed loop: user equivalents (ignored for an open-loop workload). */
  users: number
  /** Per-node cache, bytes. */
  cacheBytes: number
  /** Simulated seconds, measured after the warm-up. */
  durationSeconds: number
  /** Simulated seconds before measurement starts (caches fill, queues settle). */
  warmupSeconds: number
  seed: number
  costs: SimCosts
  /**
   * Start with warm caches: every node's cache is filled with the workload's files from least
   * to most requested, so it holds the most popular ones that fit (the state of a node after
   * earlier runs; the seed's 50 MB set fits a 128 MB node whole). Policies that partition the
   * files (LARD and kin) then evict towards their own partition during the warm-up.
   */
  prewarm?: boolean
  /**
   * Which policies' nodes piggyback their own load on each ASSIGN (the dispatcher then
   * overwrites its count for that node): DS does in the seed's design ('ds', the default);
   * 'all' and 'none' isolate that effect from the policies' decisions.
   */
  loadReports?: LoadReports
  /**
   * After the measured interval, stop starting requests and run until every started one
   * has completed (tests use it to check conservation).
   */
  drain?: boolean
  /** How connections reach a receiving node (default 'round-robin'). */
  front?: Front
  /** Per-node connection limit, listen backlog and SYN drops (default: off). */
  overload?: OverloadModel
  /** Client machines and processes (the DNS fronts use the processes; nicMbps > 0 bounds each machine's traffic). Default: the seed's, NIC off. */
  clients?: ClientModel
}

export type LoadReports = 'ds' | 'all' | 'none'

/**
 * How a client connection picks its receiving node. 'round-robin': connection k goes to node
 * k mod N (a layer-4 switch, or RR-DNS re-resolved per connection). 'dns-process': a SURGE
 * process resolves the cluster's name once and keeps the answer, so user u (in process
 * u mod processes) always reaches node (u mod processes) mod N. 'dns-machine': the same per
 * client machine (a caching resolver per machine). Open-loop traces always use round robin.
 */
export type Front = 'round-robin' | 'dns-process' | 'dns-machine'

/**
 * Overload behaviour of a node (off when absent: unbounded FIFO queues, as before). Sources in
 * service/sim/README.md.
 */
export interface OverloadModel {
  /** Web server processes per node: connections served at once (Apache 1.3 MaxClients: 150). */
  maxClients: number
  /** Connections waiting for a process beyond that (Linux 2.4 somaxconn caps listen(): 128). */
  listenBacklog: number
  /** A SYN to a node whose backlog is full is dropped; the client retransmits after this, doubling (Linux 2.4: 3 s). */
  synRetransmitS: number
  /** Retransmissions before connect() fails (Linux 2.4 tcp_syn_retries: 5, about 189 s in all). */
  synRetries: number
}

export const DEFAULT_OVERLOAD: Readonly<OverloadModel> = Object.freeze({
  maxClients: 150,
  listenBacklog: 128,
  synRetransmitS: 3,
  synRetries: 5,
})

/** The client side: SURGE's client machines and processes (the seed: 4 machines, 80 processes, 100 Mb/s NICs). */
export interface ClientModel {
  machines: number
  processes: number
  /** Each client machine's NIC, Mb/s: every response to its users crosses it. 0: not modelled. */
  nicMbps: number
}

/** The seed's client side; its NIC bound applies only when the client model is on. */
export const SEED_CLIENTS: Readonly<ClientModel> = Object.freeze({ machines: 4, processes: 80, nicMbps: 100 })

export interface SimResult {
  policy: PolicyName | string
  impl: 'ts' | 'wasm' | string
  nodes: number
  users: number
  cacheMb: number
  /** Connections (requests) completed per simulated second in the measured interval. */
  throughput: number
  meanResponseMs: number
  /** Median response time (the test bed experiment compares it with the measured one). */
  p50ResponseMs: number
  p99ResponseMs: number
  hitRate: number
  /** Requests served where they arrived without asking the dispatcher (DS fast path). */
  localFraction: number
  /** Requests handed off to another node. */
  handoffFraction: number
  /** Messages between nodes and dispatcher (both directions) per completed request. */
  dispatcherMsgsPerRequest: number
  /** Dispatcher decisions made in the measured interval per request that arrived in it (below 1: DS's local path, reuse). */
  decisionsPerRequest: number
  /** The reuse window the nodes ran with (PolicyParams.reuseMs; 0 = off). */
  reuseMs: number
  /** Requests sent by a reused dispatcher answer, without asking (reuseMs > 0). */
  reusedFraction: number
  /** Mean requests per decide() call (adaptive batching). */
  meanBatch: number
  /** Requests served per node: max / mean over nodes. */
  loadImbalance: number
  /** Mean busy fraction of node CPUs, disks, links; the dispatcher's. */
  cpuUtilization: number
  diskUtilization: number
  linkUtilization: number
  dispatcherUtilization: number
  /** Overload model: SYNs dropped in the measured interval per completed request, and connects that gave up. */
  synDropsPerRequest: number
  connectFailures: number
  /** Client model: mean busy fraction of the client machines' NICs. */
  clientNicUtilization: number
  /** Completed requests in the measured interval, and in the whole run. */
  measuredRequests: number
  totalRequests: number
  startedRequests: number
  simulatedSeconds: number
  wallSeconds: number
  /** Simulated requests per wall second (whole run). */
  requestsPerWallSecond: number
  /** The same per second of this process's CPU time (fairer on a shared, loaded machine). */
  requestsPerCpuSecond: number
}
