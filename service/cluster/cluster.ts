// `l7 cluster`: a dispatcher and N nodes on this machine, each its own process, started and
// supervised by this (parent) process. With handoff fd it gives the nodes their direct
// channels to each other (fd-mesh.ts) and relays socket handoffs only between nodes without
// one (a channel not up yet, or a Node without the bindings it needs), logs every child's
// death (which, how, exit code) and, with restart 'on-failure', starts it again on the same
// ports with exponential backoff; it stops every child when closed. Children exit by themselves
// when the parent dies (they watch their IPC channel), so there are no orphans. `ready` means
// every node is registered with this cluster's own dispatcher (read from its admin /state).

import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { get as httpGet } from 'node:http'
import type net from 'node:net'
import { fileURLToPath } from 'node:url'
import { childExecArgv, stopChild, waitForMessage } from '../core/child-process.js'
import { InvalidArgumentError, L7Error } from '../core/errors.js'
import { POLICY_NAMES, type PolicyName, type PolicyParams } from '../policy/types.js'
import type { DiskModel } from '../node/disk.js'
import { DEFAULT_CACHE_BYTES } from '../node/node.js'
import { cachedFileSet } from './fileset-cache.js'
export { writeSurgeFileSet } from './fileset-cache.js'
import { freePort } from './ports.js'
import { CHILD_CONFIG_ENV, type ChildConfig, type ChildMessage, type DispatcherChildConfig, type ParentMessage } from './messages.js'
import { stopReading } from '../node/client-socket.js'
import { bindSharedFront, type SharedFront } from './front.js'
import { clusterDispatcherUrl } from './dispatcher.js'
import { parseListen, reachableHost } from '../node/address.js'
import { FdMesh, releaseEnds, type MeshEnd } from './fd-mesh.js'

const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url))
const READY_TIMEOUT_MS = 20_000
/** Restart backoff: 250 ms doubling to 10 s; a child that stayed up this long starts again from 250 ms. */
const RESTART_INITIAL_MS = 250
const RESTART_MAX_MS = 10_000
const RESTART_RESET_AFTER_MS = 30_000

const defaultLog = (event: string, fields: Record<string, unknown>) =>
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: event === 'child-exit' ? 'warn' : 'info', event, ...fields }) + '\n')

export interface ClusterOptions {
  nodes?: number
  policy?: PolicyName
  /** Policy parameters for the dispatcher (nodes receive them in its WELCOME). */
  params?: Partial<PolicyParams>
  /** Serve this directory; without it, `files` SURGE files are generated in the cache dir (reused across runs). */
  docroot?: string
  /** Where generated file sets are kept (default $L7_CACHE_DIR, $XDG_CACHE_HOME/l7 or ~/.cache/l7). */
  cacheDir?: string
  files?: number
  /** Seed of the generated file set (default: the seed paper's preset, hong-noh-2005). */
  seed?: number
  host?: string
  /** Dispatcher port; nodes listen on port+1 .. port+N. 0 = every port ephemeral. */
  port?: number
  /**
   * host:port every node also accepts clients on (one shared listening socket: the kernel
   * gives each connection to one node); absent = none. Port 0 = ephemeral (see `front`).
   */
  front?: string
  cacheBytes?: number
  disk?: DiskModel | null
  handoff?: 'relay' | 'fd'
  token?: string
  /** false = no dispatcher: nodes route by chbl over the static membership. */
  dispatcher?: boolean
  /**
   * Where the dispatcher runs: its own process ('own', the default) or node 0's ('node0', as
   * Aron et al. let a back-end host it): one process fewer, and node 0 and the dispatcher
   * then fail and restart together (killDispatcher and restartDispatcher refuse; kill node 0).
   */
  dispatcherIn?: 'own' | 'node0'
  /**
   * With handoff fd: false = no direct channels between the nodes, every socket goes through this
   * process (the route otherwise used only where a channel is not up; specs, comparisons).
   */
  fdChannels?: boolean
  /** Benchmarks only: every node sends every request to this node (measures handoff cost). */
  forwardAllTo?: number
  /** Node options added for the node processes only, e.g. --cpu-prof (they inherit this process's too). */
  nodeExecArgv?: string[]
  /** Restart a child that dies (exit code not 0, or a signal) with backoff; default 'no'. */
  restart?: 'on-failure' | 'no'
  /** Admin ports: the dispatcher's admin listener on this port, node i's on port+1+i; 0 (default) = ephemeral. */
  adminPort?: number
  /** Bounds of the nodes' assign deadline (ms; see ControlClientOptions). */
  assignDeadlineMinMs?: number
  assignDeadlineMaxMs?: number
  /** Where supervision events go (default: a JSON line on stderr). */
  log?: (event: string, fields: Record<string, unknown>) => void
}

export interface ClusterChild {
  role: 'node' | 'dispatcher'
  id: number
  /** The current process (replaced when the child is restarted). */
  process: ChildProcess
  restarts: number
  url: string
  port: number
  adminPort: number | null
}

export interface ReadyInfo {
  /** The shared client address every node accepts on (--front), or null. */
  front: string | null
  dispatcher: string | null
  /** The dispatcher's admin listener (loopback): /metrics and /state without the token. */
  dispatcherAdmin: string | null
  nodes: string[]
  admin: string[]
  docroot: string
  /** The cluster token: a replacement dispatcher or node must present it. */
  token: string
}

export interface RunningCluster extends ReadyInfo {
  children: ClusterChild[]
  /** The ready line's JSON. */
  readyInfo(): ReadyInfo
  /** Kill one node's process (tests: a node failing; with restart on-failure it comes back). */
  killNode(id: number, signal?: NodeJS.Signals): Promise<void>
  /** Kill the dispatcher's process (tests: the dispatcher failing; with restart on-failure it comes back). */
  killDispatcher(signal?: NodeJS.Signals): Promise<void>
  /** Start the dispatcher again on the same port (stopping the running one first). */
  restartDispatcher(): Promise<void>
  /** Resolves when a restarted child of `role` (and id, for nodes) has reported ready again. */
  waitRestarted(role: 'node' | 'dispatcher', id?: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

function waitReady(child: ChildProcess, what: string): Promise<ChildMessage & { type: 'ready' }> {
  return waitForMessage<ChildMessage, 'ready'>(child, 'ready', READY_TIMEOUT_MS, (failure) => {
    if (failure.kind === 'timeout') return new L7Error('L7_CLUSTER_START', `${what} did not start within ${READY_TIMEOUT_MS / 1000} s`)
    if (failure.kind === 'failed') return new L7Error('L7_CLUSTER_START', `${what} failed to start: ${failure.message}`)
    return new L7Error('L7_CLUSTER_START', `${what} exited during start-up (${failure.signal ?? `code ${failure.code}`})`)
  })
}

/**
 * GET over a connection closed after the answer: a kept-alive connection to a dispatcher that
 * is later killed would hold its port and keep a restarted dispatcher from listening there.
 */
export function getOnce(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, timeout: 1000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`))))
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 1 s')))
    req.on('error', reject)
  })
}

/** The first descriptor of a node's direct channels (after stdin, stdout, stderr and the IPC channel). */
const FIRST_CHANNEL_FD = 4

/** Starts a child; a node inherits `channels` (its ends of its direct channels) as descriptors 4, 5, ... */
function spawnChild(config: ChildConfig, extraExecArgv: string[] = [], channels: MeshEnd[] = []): ChildProcess {
  const withChannels: ChildConfig =
    config.role === 'node' && channels.length > 0 ? { ...config, fdPeers: channels.map((end, i) => ({ peer: end.peer, fd: FIRST_CHANNEL_FD + i })) } : config
  return fork(CHILD_SCRIPT, [], {
    execArgv: childExecArgv(extraExecArgv),
    env: { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify(withChannels) },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...channels.map((end) => end.handle.fd)],
  })
}

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  const count = options.nodes ?? 4
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new InvalidArgumentError(`--nodes must be 1..64, got ${count}`)
  const policy = options.policy ?? 'ds'
  if (!POLICY_NAMES.includes(policy)) throw new InvalidArgumentError(`unknown policy ${policy} (one of ${POLICY_NAMES.join(', ')})`)
  const basePort = options.port ?? 8080
  if (!Number.isInteger(basePort) || basePort < 0 || (basePort > 0 && basePort + count > 65535)) {
    throw new InvalidArgumentError(`--listen: the port must leave room for ${count} nodes below 65536, got ${basePort}`)
  }
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? randomBytes(16).toString('hex')
  const withDispatcher = options.dispatcher !== false
  const dispatcherIn = options.dispatcherIn ?? 'own'
  if (dispatcherIn !== 'own' && dispatcherIn !== 'node0') throw new InvalidArgumentError(`--dispatcher-in must be own or node0, got ${dispatcherIn}`)
  if (dispatcherIn === 'node0' && !withDispatcher) throw new InvalidArgumentError('--dispatcher-in node0 needs a dispatcher (the cluster was started without one)')
  const restartPolicy = options.restart ?? 'no'
  if (restartPolicy !== 'no' && restartPolicy !== 'on-failure') throw new InvalidArgumentError(`--restart must be on-failure or no, got ${restartPolicy}`)
  const adminBase = options.adminPort ?? 0
  if (!Number.isInteger(adminBase) || adminBase < 0 || (adminBase > 0 && adminBase + count > 65535)) {
    throw new InvalidArgumentError(`--admin-port must leave room for ${count} nodes below 65536, got ${adminBase}`)
  }
  const log = options.log ?? defaultLog
  const adminHost = host === '0.0.0.0' ? '127.0.0.1' : host
  const frontAddress = options.front === undefined ? null : parseListen(options.front, '--front')
  // handoff fd: the nodes' direct channels (without the bindings they need, the parent relays every handoff).
  let mesh: FdMesh | null = null
  if (options.handoff === 'fd' && options.fdChannels !== false) {
    const made = FdMesh.create({ log: (message) => log('fd-channels', { message }) })
    if (typeof made === 'string') log('fd-channels', { message: made })
    else mesh = made
  }

  let docroot: string
  if (options.docroot) {
    const info = await stat(options.docroot).catch(() => null)
    if (!info?.isDirectory()) throw new InvalidArgumentError(`--docroot ${options.docroot} is not a directory`)
    docroot = options.docroot
  } else {
    docroot = (await cachedFileSet(options.files ?? 2000, options.seed, options.cacheDir)).docroot
  }

  /** A child, the configuration it is (re)started with, and its restart state. */
  interface Supervised {
    entry: ClusterChild
    config: ChildConfig
    what: string
    attempt: number
    startedAt: number
    /** Stopped on purpose (restartDispatcher): its exit is not a failure. */
    stopping: boolean
    timer: NodeJS.Timeout | null
  }
  const children: ClusterChild[] = []
  const supervised: Supervised[] = []
  let dispatcherSup: Supervised | null = null
  const nodesById = new Map<number, ClusterChild>()
  let closed = false
  let supervising = false
  const readyWaiters = new Set<() => void>()
  // Bound before any node starts, so that a taken address fails the start at once.
  const front: SharedFront | null = frontAddress ? bindSharedFront(frontAddress.host, frontAddress.port) : null

  async function cleanup(): Promise<void> {
    closed = true
    for (const sup of supervised) if (sup.timer) clearTimeout(sup.timer)
    await Promise.all(children.map((c) => stopChild(c.process)))
    front?.close()
  }

  /** A (re)started node accepts on the shared front too; it counts as ready once it does. */
  async function joinFront(proc: ChildProcess, what: string): Promise<void> {
    if (!front) return
    const listening = waitForMessage<ChildMessage, 'front-listening'>(proc, 'front-listening', READY_TIMEOUT_MS, (failure) =>
      new L7Error('L7_CLUSTER_START', `${what} did not accept on the front ${front.host}:${front.port} (${failure.kind === 'timeout' ? 'no answer' : failure.kind})`),
    )
    proc.send({ type: 'front' } satisfies ParentMessage, front.handle as net.Server)
    const answer = await listening
    if (answer.error) throw new L7Error('L7_CLUSTER_START', `${what} cannot accept on the front ${front.host}:${front.port}: ${answer.error}`)
  }

  // If this process dies for any reason, take the children along (they also watch 'disconnect').
  const onExit = () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL')
    mesh?.removeDirs()
  }
  process.on('exit', onExit)

  /**
   * Starts (or restarts) a child and waits for its `ready`; later restarts keep its ports. A node
   * inherits `channels`; this process's copies are closed once the child has them.
   */
  async function launch(sup: Supervised, channels: MeshEnd[] = []): Promise<void> {
    let proc: ChildProcess
    try {
      proc = spawnChild(sup.config, sup.entry.role === 'node' ? options.nodeExecArgv : [], channels)
    } finally {
      releaseEnds(channels)
    }
    sup.entry.process = proc
    sup.startedAt = Date.now()
    proc.on('exit', (code, signal) => onChildExit(sup, proc, code, signal))
    if (sup.entry.role === 'node') relayHandoffs(sup.entry, proc)
    const ready = await waitReady(proc, sup.what)
    if (ready.role !== sup.entry.role) throw new L7Error('L7_CLUSTER_START', `${sup.what} reported as ${ready.role}`)
    Object.assign(sup.entry, { url: ready.url, port: ready.port, adminPort: ready.adminPort })
    sup.config = { ...sup.config, port: ready.port, adminPort: ready.adminPort ?? 0 }
    if (sup.entry.role === 'node') await joinFront(proc, sup.what)
    // A node restarted without a dispatcher learns its peers as its first run did.
    if (sup.entry.role === 'node' && !withDispatcher && supervising) sendStaticPeers(sup.entry)
    for (const wake of readyWaiters) wake()
  }

  /** Without a dispatcher: every node's address, for `node` to route by chbl over (ports never change). */
  function sendStaticPeers(node: ClusterChild): void {
    const peers: Record<number, string> = {}
    for (const n of nodesById.values()) peers[n.id] = n.url.replace('http://', '')
    if (node.process.connected) node.process.send({ type: 'peers', peers } satisfies ParentMessage)
  }

  function onChildExit(sup: Supervised, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (closed || !supervising || proc !== sup.entry.process || sup.stopping) return
    const failed = code !== 0 || signal !== null
    const restart = restartPolicy === 'on-failure' && failed
    if (Date.now() - sup.startedAt > RESTART_RESET_AFTER_MS) sup.attempt = 0
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_INITIAL_MS * 2 ** sup.attempt)
    log('child-exit', { child: sup.what, pid: proc.pid, code, signal, upMs: Date.now() - sup.startedAt, restartInMs: restart ? delayMs : null })
    if (!restart) return
    sup.attempt++
    sup.timer = setTimeout(async () => {
      sup.timer = null
      if (closed) return
      const channels =
        sup.entry.role === 'node'
          ? await rejoinChannels(sup.entry.id).catch((err: Error) => {
              log('fd-channels', { message: `node ${sup.entry.id} restarts without direct channels: ${err.message}` })
              return []
            })
          : []
      if (closed) return releaseEnds(channels)
      launch(sup, channels).then(
        () => {
          sup.entry.restarts++
          log('child-restarted', { child: sup.what, pid: sup.entry.process.pid, restarts: sup.entry.restarts })
        },
        // Its exit (if it exited) schedules the next attempt; a child that hangs in start-up is killed.
        (err: Error) => {
          log('child-restart-failed', { child: sup.what, error: err.message })
          if (sup.entry.process.exitCode === null) sup.entry.process.kill('SIGKILL')
        },
      )
    }, delayMs)
  }

  /** A restarted node's channels: each running sibling connects to a listener made for it (fd-mesh.ts). */
  async function rejoinChannels(id: number): Promise<MeshEnd[]> {
    if (!mesh) return []
    const siblings = [...nodesById.values()].filter((n) => n.id !== id && n.process.connected)
    return mesh.rejoin(
      siblings.map((n) => n.id),
      (sibling, path) => nodesById.get(sibling)?.process.send({ type: 'fd-connect', peer: id, path } satisfies ParentMessage),
    )
  }

  // Relay fd handoffs between siblings without a direct channel. If the chosen node is gone, the socket goes back to
  // the sender marked fallback: it serves the request itself, and the client gets an answer.
  function relayHandoffs(node: ClusterChild, proc: ChildProcess): void {
    proc.on('message', (m: ChildMessage, handle?: net.Socket) => {
      if (m.type !== 'handoff' || !handle) return
      // Node starts reading a socket it receives; bytes read here would be lost when the
      // handle moves on, so stop at once: the client's next bytes wait in the kernel.
      stopReading(handle)
      const to = nodesById.get(m.to)
      const adopt: ParentMessage = { type: 'adopt', route: m.route, bytes: m.bytes }
      const deliver = (target: ClusterChild, message: ParentMessage): boolean => {
        if (!target.process.connected) return false
        try {
          target.process.send(message, handle, { keepOpen: false })
          return true
        } catch {
          return false
        }
      }
      if (to && deliver(to, adopt)) return
      const back = nodesById.get(m.from)
      if (back && deliver(back, { type: 'adopt', route: 'fallback', bytes: m.bytes })) return
      handle.destroy()
    })
  }

  /** `ready` means ready: every node registered with this cluster's dispatcher (its admin /state). */
  async function waitRegistered(dispatcher: ClusterChild, nodes: ClusterChild[]): Promise<void> {
    const url = `http://127.0.0.1:${dispatcher.adminPort}/state`
    const deadline = Date.now() + READY_TIMEOUT_MS
    let missing = nodes
    let lastError = ''
    while (Date.now() < deadline) {
      try {
        const state = JSON.parse(await getOnce(url)) as { nodes: { id: number; address: string; up: boolean }[] }
        missing = nodes.filter((n) => !state.nodes.some((m) => m.id === n.id && m.up && m.address.endsWith(`:${n.port}`)))
        if (missing.length === 0) return
      } catch (err) {
        lastError = ` (${url}: ${(err as Error).message})`
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new L7Error(
      'L7_CLUSTER_START',
      `node${missing.length > 1 ? 's' : ''} ${missing.map((n) => n.id).join(', ')} did not register with this cluster's dispatcher (${dispatcher.url}) within ${READY_TIMEOUT_MS / 1000} s${lastError}: ` +
        'is another dispatcher holding that port? (their log above says why)',
    )
  }

  try {
    if (withDispatcher) {
      const entry: ClusterChild = { role: 'dispatcher', id: -1, process: null as unknown as ChildProcess, restarts: 0, url: '', port: 0, adminPort: null }
      const config: DispatcherChildConfig = { role: 'dispatcher', host, port: basePort === 0 ? await freePort(host) : basePort, policy, params: options.params ?? {}, token, adminPort: adminBase === 0 ? await freePort('127.0.0.1') : adminBase }
      dispatcherSup = { entry, config, what: 'the dispatcher', attempt: 0, startedAt: 0, stopping: false, timer: null }
      if (dispatcherIn === 'own') {
        supervised.push(dispatcherSup)
        children.push(entry)
        await launch(dispatcherSup)
      } else {
        // Node 0's process starts it on these fixed ports (and again on the same ones when it restarts).
        Object.assign(entry, { url: clusterDispatcherUrl(config, config.port), port: config.port, adminPort: config.adminPort })
      }
    }
    const dispatcherUrl = dispatcherSup?.entry.url ?? null
    const nodeIds = Array.from({ length: count }, (_, id) => id)
    // Every pair of nodes gets its channel before any node starts; without it, the parent relays.
    const initialChannels = mesh
      ? await mesh.pairs(nodeIds).catch((err: Error) => {
          log('fd-channels', { message: `no direct channels: ${err.message}` })
          return new Map<number, MeshEnd[]>()
        })
      : new Map<number, MeshEnd[]>()
    await Promise.all(
      Array.from({ length: count }, async (_, id) => {
        const entry: ClusterChild = { role: 'node', id, process: null as unknown as ChildProcess, restarts: 0, url: '', port: 0, adminPort: null }
        const config: ChildConfig = {
          role: 'node',
          id,
          docroot,
          host,
          port: basePort === 0 ? 0 : basePort + 1 + id,
          adminPort: adminBase === 0 ? 0 : adminBase + 1 + id,
          cacheBytes: options.cacheBytes ?? DEFAULT_CACHE_BYTES,
          disk: options.disk ?? null,
          token,
          dispatcher: dispatcherUrl,
          handoff: options.handoff ?? 'relay',
          forwardAllTo: options.forwardAllTo,
          assignDeadlineMinMs: options.assignDeadlineMinMs,
          assignDeadlineMaxMs: options.assignDeadlineMaxMs,
          hostDispatcher: dispatcherIn === 'node0' && id === 0 ? (dispatcherSup!.config as DispatcherChildConfig) : undefined,
        }
        const sup: Supervised = { entry, config, what: id === 0 && dispatcherIn === 'node0' ? 'node 0 (with the dispatcher)' : `node ${id}`, attempt: 0, startedAt: 0, stopping: false, timer: null }
        supervised.push(sup)
        children.push(entry)
        nodesById.set(id, entry)
        await launch(sup, initialChannels.get(id))
      }),
    )
    if (dispatcherSup) await waitRegistered(dispatcherSup.entry, [...nodesById.values()])
  } catch (err) {
    process.off('exit', onExit)
    await cleanup()
    throw err
  }
  supervising = true

  // Static membership for nodes without a dispatcher (with one, membership comes from it).
  if (!withDispatcher) for (const n of nodesById.values()) sendStaticPeers(n)

  const nodes = [...nodesById.values()].sort((a, b) => a.id - b.id)
  const dispatcherEntry = dispatcherSup?.entry ?? null
  const frontHost = front ? reachableHost(front.host) : ''
  const info: ReadyInfo = {
    front: front ? `http://${frontHost.includes(':') ? `[${frontHost}]` : frontHost}:${front.port}` : null,
    dispatcher: dispatcherEntry?.url ?? null,
    // The dispatcher's admin listener binds loopback whatever --host is.
    dispatcherAdmin: dispatcherEntry?.adminPort ? `http://127.0.0.1:${dispatcherEntry.adminPort}` : null,
    nodes: nodes.map((n) => n.url),
    admin: nodes.map((n) => (n.adminPort === null ? '' : `http://${adminHost}:${n.adminPort}`)),
    docroot,
    token,
  }

  return {
    ...info,
    children,
    readyInfo: () => info,
    async killNode(id, signal = 'SIGKILL') {
      const n = nodesById.get(id)
      if (n) await stopChild(n.process, signal)
    },
    async killDispatcher(signal = 'SIGKILL') {
      if (dispatcherIn === 'node0') throw new InvalidArgumentError('the dispatcher runs inside node 0 (--dispatcher-in node0): kill node 0')
      if (dispatcherEntry) await stopChild(dispatcherEntry.process, signal)
    },
    async restartDispatcher() {
      if (dispatcherIn === 'node0') throw new InvalidArgumentError('the dispatcher runs inside node 0 (--dispatcher-in node0): it restarts with node 0')
      const sup = dispatcherSup
      if (!sup) return
      if (sup.timer) clearTimeout(sup.timer)
      sup.timer = null
      sup.stopping = true
      await stopChild(sup.entry.process)
      sup.stopping = false
      await launch(sup)
    },
    waitRestarted(role, id, timeoutMs = READY_TIMEOUT_MS) {
      const entry = role === 'dispatcher' ? (dispatcherIn === 'node0' ? nodesById.get(0) : dispatcherEntry) : nodesById.get(id ?? -1)
      if (!entry) return Promise.reject(new InvalidArgumentError(`no ${role} ${id ?? ''} in this cluster`))
      const before = entry.restarts
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (entry.restarts <= before) return
          done()
          resolve()
        }
        const timer = setTimeout(() => {
          done()
          reject(new L7Error('L7_CLUSTER_RESTART', `${role} ${id ?? ''} was not restarted within ${timeoutMs} ms`))
        }, timeoutMs)
        const wake = () => setImmediate(check) // restarts is counted just after `ready`
        const done = () => {
          clearTimeout(timer)
          readyWaiters.delete(wake)
        }
        readyWaiters.add(wake)
      })
    },
    async close() {
      if (closed) return
      process.off('exit', onExit)
      await cleanup()
    },
  }
}
