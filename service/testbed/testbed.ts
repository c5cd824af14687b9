// `l7 testbed`: the cluster as separate hosts. A namespace per node, one for the dispatcher,
// one per client machine and one for the layer-4 front (HAProxy, mode tcp), joined to a bridge
// by shaped links (service/testbed/network.ts); `l7 dispatch`, `l7 node` (relay handoff: fd
// passing does not cross hosts) and HAProxy run inside them, each by its own address.
//
// Teardown: close() stops the processes and deletes the namespaces; an 'exit' handler does the
// same synchronously if the process ends without close() (an uncaught error), and commands add
// SIGINT/SIGTERM (installSignalTeardown). After a SIGKILL, `l7 testbed --cleanup` removes what is left.

import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { processAlive } from '../core/child-process.js'
import { InvalidArgumentError, L7Error, MissingDependencyError } from '../core/errors.js'
import type { DiskModel } from '../node/disk.js'
import { POLICY_NAMES, type PolicyName, type PolicyParams } from '../policy/types.js'
import { generateFileSizes, resolveSurgeParams, SURGE_PRESETS } from '../surge/generate.js'
import { materialize } from '../surge/materialize.js'
import { FRONT_PORT, haproxyArgv, haproxyConfig } from './haproxy.js'
import { buildNetwork, newPrefix, removeNamespacesSync, setLink, testbedUnavailable, type Host, type HostSpec, type Network } from './network.js'
import { startInNamespace, startL7, waitReady, type HostProcess } from './process.js'

const execFileAsync = promisify(execFile)
const PROBE_SCRIPT = fileURLToPath(new URL('./probe.js', import.meta.url))
const READY_TIMEOUT_MS = 30_000
/** The test bed's work directory (document root, HAProxy config) in the temp dir: `l7-testbed-<pid>-XXXXXX`. */
export const WORK_DIR_PREFIX = 'l7-testbed-'

/**
 * `l7 testbed --cleanup`, the files' half: removes the work directories of test beds whose
 * process is gone (a SIGKILL skips every exit path); with `all`, live ones' too. Returns their paths.
 */
export function removeStaleWorkDirs(all = false): string[] {
  const removed: string[] = []
  const dir = tmpdir()
  for (const name of readdirSync(dir)) {
    const m = new RegExp(`^${WORK_DIR_PREFIX}(\\d+)-[^-]+$`).exec(name)
    if (!m) continue
    const owner = Number(m[1])
    if (!all && (owner === process.pid || processAlive(owner))) continue
    rmSync(join(dir, name), { recursive: true, force: true })
    removed.push(join(dir, name))
  }
  return removed
}

export const DISPATCHER_PORT = 7070
export const NODE_PORT = 8080
export const NODE_ADMIN_PORT = 9090

export interface TestbedOptions {
  nodes?: number
  clients?: number
  policy?: PolicyName
  /** Policy parameters, passed to the dispatcher as `--param k=v,...`. */
  params?: Partial<PolicyParams>
  /** Each host's link, Mbit/s each way, before --scale (the seed's 100 Mb/s Ethernet). */
  linkMbps?: number
  /** One-way delay on each side of every shaped link, ms (needs the kernel's netem; default 0). */
  delayMs?: number
  /** Slows links and emulated disks together: rates / scale, seek times * scale. */
  scale?: number
  /** Content cache per node, MiB (integer, as `l7 node --cache-mb`). */
  cacheMb?: number
  /** Emulated disk per node before --scale; null: none. */
  disk?: DiskModel | null
  /** Serve this directory; without it, `files` files of the seed's SURGE set are generated. */
  docroot?: string
  files?: number
  /** Start the HAProxy front (default true). */
  front?: boolean
}

export interface TestbedNode {
  id: number
  host: Host
  url: string
  admin: string
  process: HostProcess
}

export interface Probe {
  url: string
  status?: number
  headers?: Record<string, string>
  body?: Buffer
  error?: string
}

export interface TestbedInfo {
  prefix: string
  policy: PolicyName
  dispatcher: string
  front: string | null
  nodes: { id: number; url: string; admin: string; netns: string }[]
  clients: { netns: string; address: string }[]
  linkMbps: number
  delayMs: number
  disk: DiskModel | null
  cacheMb: number
  docroot: string
}

export interface RunningTestbed {
  readonly network: Network
  readonly token: string
  readonly docroot: string
  readonly dispatcher: { host: Host; url: string; metrics: string; process: HostProcess | null }
  readonly nodes: TestbedNode[]
  readonly front: { host: Host; url: string; process: HostProcess } | null
  readonly clients: Host[]
  info(): TestbedInfo
  /** GETs `urls` from inside `host`'s namespace (the only place the test bed can be reached from). */
  fetchFrom(host: Host, urls: string[]): Promise<Probe[]>
  /** Starts `l7 <args>` on a client machine (the caller stops it or waits for it). */
  startOnClient(client: number, name: string, args: string[]): HostProcess
  killNode(id: number, signal?: NodeJS.Signals): Promise<void>
  killDispatcher(signal?: NodeJS.Signals): Promise<void>
  /** Cuts (false) or restores (true) a host's link at the bridge. */
  setLinkUp(host: Host, up: boolean): Promise<void>
  close(): Promise<void>
}

/** Scaled link rate and disk: everything `scale` times slower. */
export function scaledResources(linkMbps: number, disk: DiskModel | null, scale: number): { mbps: number; disk: DiskModel | null } {
  return { mbps: linkMbps / scale, disk: disk ? { seekMs: disk.seekMs * scale, mbps: disk.mbps / scale } : null }
}

/** Test beds of this process still up, torn down synchronously if the process exits without close(). */
const live = new Set<string>()
let exitHookInstalled = false
function tearDownAllSync(): void {
  for (const prefix of live) removeNamespacesSync(prefix)
  live.clear()
}

/**
 * SIGINT/SIGTERM: run `close` (tear the test bed down) then exit 130/143. For commands; a
 * second signal exits at once (the 'exit' hook still removes the namespaces).
 */
export function installSignalTeardown(close: () => Promise<unknown>): () => void {
  let signalled = false
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143
    if (signalled) process.exit(code)
    signalled = true
    process.stderr.write(`\n${signal}: tearing the test bed down\n`)
    void close().finally(() => process.exit(code))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

async function writeFileSet(docroot: string, files: number): Promise<void> {
  const preset = SURGE_PRESETS['hong-noh-2005']
  const params = resolveSurgeParams({ ...preset, files })
  await materialize(generateFileSizes(params).map((size) => ({ size })), params.seed, { docroot })
}

function diskFlag(disk: DiskModel | null): string {
  return disk ? `seek=${disk.seekMs}ms,mbps=${disk.mbps}` : 'none'
}

export async function startTestbed(options: TestbedOptions = {}): Promise<RunningTestbed> {
  const nodeCount = options.nodes ?? 4
  const clientCount = options.clients ?? 4
  const policy = options.policy ?? 'ds'
  const scale = options.scale ?? 1
  const linkMbps = options.linkMbps ?? 100
  const cacheMb = options.cacheMb ?? 32
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 64) throw new InvalidArgumentError(`--nodes must be 1..64, got ${nodeCount}`)
  if (!Number.isInteger(clientCount) || clientCount < 1 || clientCount > 64) throw new InvalidArgumentError(`--clients must be 1..64, got ${clientCount}`)
  if (!POLICY_NAMES.includes(policy)) throw new InvalidArgumentError(`--policy: unknown policy ${policy} (one of ${POLICY_NAMES.join(', ')})`)
  if (!(scale >= 1)) throw new InvalidArgumentError(`--scale must be >= 1, got ${scale}`)
  if (!(linkMbps > 0)) throw new InvalidArgumentError(`--link-mbps must be > 0, got ${linkMbps}`)
  if (!Number.isInteger(cacheMb) || cacheMb < 0) throw new InvalidArgumentError(`--cache-mb must be a whole number >= 0, got ${cacheMb}`)
  const unavailable = testbedUnavailable()
  if (unavailable) throw new MissingDependencyError(unavailable)
  const { mbps, disk } = scaledResources(linkMbps, options.disk ?? null, scale)
  // A switch port's buffer: 50 ms of traffic at the unscaled rate, so the same bytes, and the same
  // time scaled, at the scaled rate (a fixed 50 ms would drop packets `scale` times sooner).
  const queueMs = 50 * scale
  const delayMs = options.delayMs ?? 0
  if (!(delayMs >= 0)) throw new InvalidArgumentError(`--delay must be >= 0, got ${delayMs}`)

  const token = randomBytes(16).toString('hex')
  // Named after this process, like the namespaces, so `--cleanup` can find it after a SIGKILL.
  const work = await mkdtemp(join(tmpdir(), `${WORK_DIR_PREFIX}${process.pid}-`))
  let docroot = join(work, 'www')
  if (options.docroot) {
    const info = await stat(options.docroot).catch(() => null)
    if (!info?.isDirectory()) {
      await rm(work, { recursive: true, force: true })
      throw new InvalidArgumentError(`--docroot ${options.docroot} is not a directory`)
    }
    docroot = options.docroot
  }

  const prefix = newPrefix()
  live.add(prefix)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', tearDownAllSync)
  }
  const processes: HostProcess[] = []
  let closed = false
  async function close(): Promise<void> {
    if (closed) return
    closed = true
    await Promise.all(processes.map((p) => p.stop()))
    removeNamespacesSync(prefix)
    live.delete(prefix)
    await rm(work, { recursive: true, force: true })
  }

  try {
    if (!options.docroot) await writeFileSet(docroot, options.files ?? 2000)
    // The front stands for the seed's switch, whose backplane was not the limit: its link is not shaped.
    const specs: HostSpec[] = [
      { role: 'dispatcher', index: 0, mbps, delayMs, queueMs },
      ...Array.from({ length: nodeCount }, (_, i): HostSpec => ({ role: 'node', index: i, mbps, delayMs, queueMs })),
      ...Array.from({ length: clientCount }, (_, i): HostSpec => ({ role: 'client', index: i, mbps, delayMs, queueMs })),
      ...(options.front === false ? [] : [{ role: 'front', index: 0, mbps: null } as HostSpec]),
    ]
    const network = await buildNetwork(prefix, specs)
    const hostsOf = (role: Host['role']) => network.hosts.filter((h) => h.role === role)
    const env = { L7_TOKEN: token }

    const dHost = hostsOf('dispatcher')[0]
    const param = Object.entries(options.params ?? {}).map(([key, value]) => `${key}=${value}`)
    const dArgs = ['dispatch', '--policy', policy, '--listen', `${dHost.address}:${DISPATCHER_PORT}`, ...(param.length ? ['--param', param.join(',')] : [])]
    const dProc = startL7(dHost.netns, 'the dispatcher', dArgs, env)
    processes.push(dProc)
    await waitReady(dProc, READY_TIMEOUT_MS)
    const dispatcherUrl = `ws://${dHost.address}:${DISPATCHER_PORT}`

    const nodes = await Promise.all(
      hostsOf('node').map(async (host): Promise<TestbedNode> => {
        const args = ['node', '--id', String(host.index), '--dispatcher', dispatcherUrl, '--listen', `${host.address}:${NODE_PORT}`]
        args.push('--admin', String(NODE_ADMIN_PORT), '--docroot', docroot, '--cache-mb', String(cacheMb), '--disk', diskFlag(disk))
        const proc = startL7(host.netns, `node ${host.index}`, args, env)
        processes.push(proc)
        await waitReady(proc, READY_TIMEOUT_MS)
        return { id: host.index, host, url: `http://${host.address}:${NODE_PORT}`, admin: `http://${host.address}:${NODE_ADMIN_PORT}`, process: proc }
      }),
    )

    let front: RunningTestbed['front'] = null
    const fHost = hostsOf('front')[0]
    if (fHost) {
      const config = haproxyConfig(fHost.address, nodes.map((n) => ({ id: n.id, address: n.host.address, port: NODE_PORT })))
      const proc = startInNamespace(fHost.netns, 'HAProxy', await haproxyArgv(work, config))
      processes.push(proc)
      front = { host: fHost, url: `http://${fHost.address}:${FRONT_PORT}`, process: proc }
    }

    const clients = hostsOf('client')
    const fetchFrom = async (host: Host, urls: string[]): Promise<Probe[]> => {
      const { stdout } = await execFileAsync('ip', ['netns', 'exec', host.netns, process.execPath, PROBE_SCRIPT, ...urls], { maxBuffer: 256 << 20, timeout: 30_000 })
      return stdout
        .trim()
        .split('\n')
        .map((line) => {
          const p = JSON.parse(line) as Omit<Probe, 'body'> & { body?: string }
          return { ...p, body: p.body === undefined ? undefined : Buffer.from(p.body, 'base64') }
        })
    }

    if (front) {
      // HAProxy prints nothing when it listens: the front is up when a client gets an answer through it.
      let answered = false
      for (let attempt = 0; attempt < 40 && !answered; attempt++) {
        const [p] = await fetchFrom(clients[0], [`${front.url}/`])
        answered = p.status !== undefined
        if (!answered) {
          if (front.process.process.exitCode !== null) throw new L7Error('L7_TESTBED_START', `HAProxy exited: ${front.process.stderrTail()}`)
          await new Promise((r) => setTimeout(r, 250))
        }
      }
      if (!answered) throw new L7Error('L7_TESTBED_START', 'the HAProxy front did not answer within 10 s')
    }

    const info = (): TestbedInfo => ({
      prefix,
      policy,
      dispatcher: dispatcherUrl,
      front: front?.url ?? null,
      nodes: nodes.map((n) => ({ id: n.id, url: n.url, admin: n.admin, netns: n.host.netns })),
      clients: clients.map((c) => ({ netns: c.netns, address: c.address })),
      linkMbps: mbps,
      delayMs,
      disk,
      cacheMb,
      docroot,
    })

    return {
      network,
      token,
      docroot,
      dispatcher: { host: dHost, url: dispatcherUrl, metrics: `http://${dHost.address}:${DISPATCHER_PORT}/metrics`, process: dProc },
      nodes,
      front,
      clients,
      info,
      fetchFrom,
      startOnClient(client, name, args) {
        const proc = startL7(clients[client].netns, name, args)
        processes.push(proc)
        return proc
      },
      async killNode(id, signal = 'SIGKILL') {
        await nodes.find((n) => n.id === id)?.process.stop(signal)
      },
      async killDispatcher(signal = 'SIGKILL') {
        await dProc.stop(signal)
      },
      setLinkUp: (host, up) => setLink(network, host, up),
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
