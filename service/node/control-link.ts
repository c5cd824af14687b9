// Adapts the dispatcher's control client (service/control-client/) to the node: routing
// questions, done/local reports, the node's load, the membership (peers' addresses) and the
// DS node half, created with the parameters the dispatcher's WELCOME carries.

import { ControlClient } from '../control-client/client.js'
import { createLocalTable, type LocalTable, type PolicyName, type PolicyParams } from '../policy/index.js'
import type { Member } from '../protocol/codec.js'
import type { ControlLink, LinkHost } from './node.js'

export interface NodeLinkOptions {
  /** ws://host:port (the control path /control is added when the URL has none). */
  url: string
  token: string
  /** Adaptive batching (default on). */
  batching?: boolean
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

export function createNodeLink(options: NodeLinkOptions): (host: LinkHost) => ControlLink {
  return (host) => {
    const client = new ControlClient({
      url: controlUrl(options.url),
      nodeId: host.id,
      address: host.address,
      token: options.token,
      batching: options.batching ?? true,
    })
    let policy: PolicyName | null = null
    let localTable: LocalTable | null = null
    let tableKey = ''

    const applyMembers = (members: Member[]) => {
      const peers: Record<number, string> = {}
      for (const m of members) if (m.up && m.id !== host.id) peers[m.id] = m.address
      host.setPeers(peers)
    }
    client.on('welcome', (welcome) => {
      policy = welcome.policy
      const key = JSON.stringify(welcome.params)
      if (policy === 'ds' && key !== tableKey) {
        localTable?.close()
        localTable = localTableFor(welcome.params)
        tableKey = key
      }
      client.setLoad(host.load())
      applyMembers(welcome.members)
    })
    client.on('membership', (m) => applyMembers(m.members))
    client.on('error', (err) => host.log(`control client stopped: ${err.message}`))
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
      get policy() {
        return policy
      },
      get localTable() {
        return policy === 'ds' ? localTable : null
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
