// The test bed's network: one Linux network namespace per host (nodes, dispatcher, clients, the
// layer-4 front) and one more that holds the bridge, as the seed's switch. Every veth pair is
// created from inside the bridge's namespace with its other end moved straight into the host's,
// so nothing is ever added to the machine's own namespace: deleting the namespaces removes every
// link, address and qdisc. Addresses live only on those links, with no default route, so
// processes inside can reach each other and nothing else.
//
// Names carry a prefix with the creating process's id (`l7tb-<pid>-`), so concurrent test beds
// do not collide and leftovers of a crashed run can be found and removed (`cleanupLeftovers`).

import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { L7Error, MissingDependencyError } from '../core/errors.js'
import { processAlive } from '../core/child-process.js'

const run = promisify(execFile)
export const NAME_PREFIX = 'l7tb-'
const SUBNET = '10.77.0'
const COMMAND_TIMEOUT_MS = 10_000

export type HostRole = 'dispatcher' | 'front' | 'node' | 'client'

export interface HostSpec {
  role: HostRole
  /** Index among hosts of its role (node id, client number). */
  index: number
  /** Link rate in Mbit/s each way; null: not shaped. */
  mbps: number | null
  /** One-way delay added on each side of the link, ms (needs sch_netem); 0: none. */
  delayMs?: number
  /** The shaper's queue, in ms of traffic at its rate, before tail drop (default 50). */
  queueMs?: number
}

export interface Host extends HostSpec {
  /** Network namespace name. */
  netns: string
  /** The host's address on the test bed link (eth0 in its namespace). */
  address: string
  /** The bridge-side end of its link (in the bridge's namespace). */
  port: string
}

export interface Network {
  prefix: string
  bridgeNetns: string
  hosts: Host[]
}

let probes = 0

/** Why this machine cannot run a test bed (not root, no `ip`/`tc`, no namespaces), or null. */
export function testbedUnavailable(): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the test bed needs root (network namespaces, tc)'
  for (const tool of ['ip', 'tc']) {
    const probe = spawnSync(tool, ['-V'], { stdio: 'ignore' })
    if (probe.error) return `the test bed needs \`${tool}\` (iproute2): apt-get install -y iproute2`
  }
  // Creating a namespace is the real test (containers without CAP_SYS_ADMIN refuse it).
  // Unique per call: specs running side by side in one process probe at the same time.
  const probeName = `${NAME_PREFIX}${process.pid}-probe${probes++}`
  const add = spawnSync('ip', ['netns', 'add', probeName], { encoding: 'utf8' })
  if (add.status !== 0) return `this machine cannot create network namespaces: ${(add.stderr || '').trim() || `ip netns add exited ${add.status}`}`
  spawnSync('ip', ['netns', 'del', probeName], { stdio: 'ignore' })
  return null
}

/** Runs `tool args` (ip, tc), failing with its stderr. */
export async function sh(tool: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(tool, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' })
    return stdout
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') throw new MissingDependencyError(`\`${tool}\` is not installed (apt-get install -y iproute2)`)
    throw new L7Error('L7_TESTBED_NETWORK', `${tool} ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`)
  }
}

/** The address plan: dispatcher .2, front .3, nodes .10+, clients .100+ (a /24 only inside the test bed). */
export function addressOf(role: HostRole, index: number): string {
  const last = role === 'dispatcher' ? 2 : role === 'front' ? 3 : role === 'node' ? 10 + index : 100 + index
  return `${SUBNET}.${last}`
}

function shortName(role: HostRole, index: number): string {
  return role === 'dispatcher' ? 'd' : role === 'front' ? 'lb' : role === 'node' ? `n${index}` : `c${index}`
}

/** A new prefix for this process: `l7tb-<pid>-<k>-` (k counts test beds started by this process). */
let started = 0
export function newPrefix(): string {
  return `${NAME_PREFIX}${process.pid}-${started++}-`
}

/**
 * One side of a link: tbf (rate in Mbit/s, a burst of two MTUs or 2 ms of traffic, a queue of
 * `queueMs` of traffic, a switch port's buffer, before tail drop); with a delay, netem does both.
 */
function shapeArgs(netns: string, dev: string, mbps: number, delayMs: number, queueMs: number): string[] {
  const head = ['-n', netns, 'qdisc', 'replace', 'dev', dev, 'root']
  const bytesPerMs = (mbps * 1e6) / 8 / 1000
  if (delayMs > 0) {
    const packets = Math.max(100, Math.ceil((bytesPerMs * (queueMs + delayMs)) / 1500))
    return [...head, 'netem', 'delay', `${delayMs}ms`, 'rate', `${mbps}mbit`, 'limit', String(packets)]
  }
  const burst = Math.max(3028, Math.ceil(bytesPerMs * 2))
  return [...head, 'tbf', 'rate', `${mbps}mbit`, 'burst', String(burst), 'latency', `${queueMs}ms`]
}

async function shape(netns: string, dev: string, mbps: number, delayMs: number, queueMs: number): Promise<void> {
  try {
    await sh('tc', shapeArgs(netns, dev, mbps, delayMs, queueMs))
  } catch (err) {
    if (delayMs > 0 && /unknown/i.test((err as Error).message)) {
      throw new MissingDependencyError('a link delay needs the kernel\'s netem qdisc (sch_netem), which this kernel lacks: use a delay of 0')
    }
    throw err
  }
}

/**
 * Builds the namespaces, the bridge and one shaped veth link per host. On failure, what was
 * created is removed before the error is thrown.
 */
export async function buildNetwork(prefix: string, specs: HostSpec[]): Promise<Network> {
  const network: Network = { prefix, bridgeNetns: `${prefix}br`, hosts: [] }
  try {
    await sh('ip', ['netns', 'add', network.bridgeNetns])
    const b = network.bridgeNetns
    await sh('ip', ['-n', b, 'link', 'add', 'br0', 'type', 'bridge'])
    await sh('ip', ['-n', b, 'link', 'set', 'br0', 'up'])
    for (const spec of specs) {
      const name = shortName(spec.role, spec.index)
      const host: Host = { ...spec, netns: `${prefix}${name}`, address: addressOf(spec.role, spec.index), port: `p-${name}` }
      network.hosts.push(host)
      await sh('ip', ['netns', 'add', host.netns])
      await sh('ip', ['-n', b, 'link', 'add', host.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.netns])
      await sh('ip', ['-n', b, 'link', 'set', host.port, 'master', 'br0'])
      await sh('ip', ['-n', b, 'link', 'set', host.port, 'up'])
      await sh('ip', ['-n', host.netns, 'link', 'set', 'lo', 'up'])
      await sh('ip', ['-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0'])
      await sh('ip', ['-n', host.netns, 'link', 'set', 'eth0', 'up'])
      if (spec.mbps !== null) {
        // Both directions: the host's sending side, and the bridge port's (what the host receives).
        await shape(host.netns, 'eth0', spec.mbps, spec.delayMs ?? 0, spec.queueMs ?? 50)
        await shape(b, host.port, spec.mbps, spec.delayMs ?? 0, spec.queueMs ?? 50)
      }
    }
    return network
  } catch (err) {
    removeNamespacesSync(prefix)
    throw err
  }
}

/** The test bed namespaces that exist now, optionally only those with `prefix`. */
export function listNamespaces(prefix = NAME_PREFIX): string[] {
  let out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  // On a loaded machine a spawn can fail for a moment; an empty answer here would skip a teardown.
  for (let attempt = 0; attempt < 5 && out.status !== 0; attempt++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
    out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  }
  if (out.status !== 0) throw new L7Error('L7_TESTBED_NETWORK', `ip netns list failed: ${out.error?.message ?? out.stderr}`)
  return out.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name && name.startsWith(prefix))
}

/** Processes running inside a namespace. */
export function namespacePids(netns: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' })
  if (out.status !== 0) return []
  return out.stdout
    .split('\n')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0)
}

/**
 * Kills every process left in the namespaces with `prefix` and deletes them (the links, their
 * addresses and qdiscs go with them). Synchronous, so it can run from an 'exit' handler.
 * Returns the namespaces removed.
 */
export function removeNamespacesSync(prefix: string): string[] {
  const names = listNamespaces(prefix)
  for (let attempt = 0; attempt < 20; attempt++) {
    const left = listNamespaces(prefix)
    if (left.length === 0) break
    for (const name of left) {
      for (const pid of namespacePids(name)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
    for (const name of left) spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
    // A deletion can fail while a killed process still holds its namespace: wait a little, retry.
    if (listNamespaces(prefix).length > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
  }
  return names
}

/** The pid in a test bed prefix (`l7tb-<pid>-...`), or null. */
export function ownerPid(netns: string): number | null {
  const m = /^l7tb-(\d+)-/.exec(netns)
  return m ? Number(m[1]) : null
}

/**
 * `l7 testbed --cleanup`: removes the namespaces (and processes in them) of test beds whose
 * creating process is gone; with `all`, every test bed's, live ones included.
 */
export function cleanupLeftovers(all = false): string[] {
  const removed: string[] = []
  const owners = new Set(listNamespaces().map(ownerPid))
  for (const owner of owners) {
    if (owner === null) continue
    if (!all && owner !== process.pid && processAlive(owner)) continue
    removed.push(...removeNamespacesSync(`${NAME_PREFIX}${owner}-`))
  }
  return removed
}

/** Bytes sent and received on a host's link so far (its eth0 counters). */
export async function linkBytes(host: Host): Promise<{ tx: number; rx: number }> {
  const text = await sh('ip', ['-n', host.netns, '-j', '-s', 'link', 'show', 'dev', 'eth0'])
  const [link] = JSON.parse(text) as { stats64: { tx: { bytes: number }; rx: { bytes: number } } }[]
  return { tx: link.stats64.tx.bytes, rx: link.stats64.rx.bytes }
}

/** Packets the link's shapers dropped so far (queue full), both directions. */
export async function linkDrops(network: Network, host: Host): Promise<number> {
  let drops = 0
  for (const [netns, dev] of [[host.netns, 'eth0'], [network.bridgeNetns, host.port]]) {
    const text = await sh('tc', ['-n', netns, '-j', '-s', 'qdisc', 'show', 'dev', dev])
    for (const q of JSON.parse(text) as { drops?: number }[]) drops += q.drops ?? 0
  }
  return drops
}

/** Cuts a host's link (fault injection) or restores it. */
export async function setLink(network: Network, host: Host, up: boolean): Promise<void> {
  await sh('ip', ['-n', network.bridgeNetns, 'link', 'set', host.port, up ? 'up' : 'down'])
}
