// Adapts the dispatcher's control client (service/control-client/) to the node: routing
// questions, done/local reports, the node's load, the membership (peers' addresses) and the
// DS node half, created with the parameters the dispatcher's WELCOME carries.

import { ControlClient, type LinkState } from '../control-client/client.js'
import { createLocalTable, type LocalTable, type PolicyName, type PolicyParams } from '../policy/index.js'
import type { Member } from '../protocol/codec.js'
import type { ControlLink, LinkHost } from './node.js'

export interface NodeLinkOptions {
  /** ws://host:port (the control path /control is added when the URL has none). */
  url: string
  token: string
  /** Adaptive batching (default on). */
  batching?: boolean
  /** Bounds of the assign deadline, ms (default 100..500; see ControlClientOptions). */
  assignDeadlineMinMs?: number
  assignDeadlineMaxMs?: number
}

/** How the link has fared: for the node's /healthz and /metrics. */
export interface LinkStats {
  /** Seconds spent in each state since the link was made. */
  secondsConnected: number
  secondsSuspect: number
  secondsUnreachable: number
  /** Times the link turned suspect, and why: a batch missed its deadline / the heartbeat stopped. */
  suspects: number
  deadlineMisses: number
  heartbeatMisses: number
  reconnects: number
  /** The assign deadline now in force (ms). */
  assignDeadlineMs: number
}

/** The ControlLink node.ts expects, with the link's state and statistics. */
export interface NodeControlLink extends ControlLink {
  /** connected | suspect (the dispatcher went silent; deciding by fallback, reconnecting) | unreachable. */
  readonly state: LinkState
  stats(): LinkStats
}

function controlUrl(url: string): string {
  const u = new URL(url)
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/control'
  return u.toString()
}

function localTableFor(params: PolicyParams): LocalTable {
  try {
    return createLocalTable(params, 'wasm')
  } catch {
    return createLocalTable(params, 'ts')
  }
}

export function createNodeLink(options: NodeLinkOptions): (host: LinkHost) => NodeControlLink {
  return (host) => {
    const client = new ControlClient({
      url: controlUrl(options.url),
      nodeId: host.id,
      address: host.address,
      token: options.token,
      batching: options.batching ?? true,
      assignDeadlineMinMs: options.assignDeadlineMinMs,
      assignDeadlineMaxMs: options.assignDeadlineMaxMs,
    })
    let policy: PolicyName | null = null
    let localTable: LocalTable | null = null
    let tableKey = ''
    let reuseMs = 0
    // Moves on with every WELCOME, membership change and link state change: the router drops
    // the dispatcher answers it remembered (reuseMs) when it does.
    let epoch = 0

    const applyMembers = (members: Member[]) => {
      const peers: Record<number, string> = {}
      for (const m of members) if (m.up && m.id !== host.id) peers[m.id] = m.address
      host.setPeers(peers)
    }
    client.on('welcome', (welcome) => {
      epoch++
      policy = welcome.policy
      reuseMs = welcome.params.reuseMs
      const key = JSON.stringify(welcome.params)
      if (policy === 'ds' && key !== tableKey) {
        localTable?.close()
        localTable = localTableFor(welcome.params)
        tableKey = key
      }
      client.setLoad(host.load())
      applyMembers(welcome.members)
    })
    client.on('membership', (m) => {
      epoch++
      applyMembers(m.members)
    })
    client.on('error', (err) => host.log(`control client stopped: ${err.message}`))
    // State changes are rare (a few per incident): each is worth a line in the node's log.
    client.on('state', (state, why) => {
      epoch++
      host.log(`dispatcher link ${state}: ${why}`)
    })
    // The client sends the node's load with HELLO (so a reconnect resynchronises it) and
    // with heartbeats; keep it current while no assign carries it (fallback, DS local serves).
    const loadTimer = setInterval(() => client.setLoad(host.load()), 200)
    loadTimer.unref()
    const first = client.connect().then(
      () => {},
      () => {},
    )

    return {
      get connected() {
        return client.connected
      },
      get state() {
        return client.state
      },
      stats() {
        const ms = client.timeInState()
        const c = client.counters
        return {
          secondsConnected: ms.connected / 1000,
          secondsSuspect: ms.suspect / 1000,
          secondsUnreachable: ms.unreachable / 1000,
          suspects: c.suspects,
          deadlineMisses: c.deadlineMisses,
          heartbeatMisses: c.heartbeatMisses,
          reconnects: c.reconnects,
          assignDeadlineMs: client.assignDeadlineMs,
        }
      },
      get policy() {
        return policy
      },
      get localTable() {
        return policy === 'ds' ? localTable : null
      },
      get reuseMs() {
        return reuseMs
      },
      get epoch() {
        return epoch
      },
      ready: (timeoutMs) => Promise.race([first, new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]),
      assign: (hash, ownLoad) => client.assign(hash, ownLoad),
      done: (hash) => client.done(hash),
      reportLocal: (hash) => client.reportLocal(hash),
      async close() {
        clearInterval(loadTimer)
        await client.close()
        localTable?.close()
      },
    }
  }
}
