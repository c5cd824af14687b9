// Entry point of a process started by `l7 cluster`: a node (which may host the dispatcher
// too) or the dispatcher, configured by the L7_CLUSTER_CHILD environment variable. It reports
// `ready` over IPC, passes client sockets (handoff fd) straight to its siblings over its
// direct channels (through the parent only where a channel is not up), and exits when the
// parent goes away (IPC 'disconnect'), so that no child outlives its cluster.

import { closeSync } from 'node:fs'
import net from 'node:net'
import { startNode, type ClusterNode } from '../node/node.js'
import { CHILD_CONFIG_ENV, type ChildConfig, type ChildMessage, type NodeChildConfig, type ParentMessage } from './messages.js'
import { startClusterDispatcher } from './dispatcher.js'
import { createNodeLink } from '../node/control-link.js'
import { SiblingChannels } from './fd-channel.js'

/** How long a node waits for its siblings' channels before it reports ready anyway (they may come up later). */
const CHANNELS_UP_TIMEOUT_MS = 5000
/** Bound of a connection to a restarted sibling's listener. */
const CHANNEL_CONNECT_TIMEOUT_MS = 2000

/** True if the message was queued: process.send's own false only means "backlogged", it still sends. */
function send(message: ChildMessage, handle?: net.Socket): boolean {
  if (!process.send || !process.connected) return false
  try {
    process.send(message, handle as never, { keepOpen: false }, () => {})
    return true
  } catch {
    return false
  }
}

let stop: (() => Promise<void>) | null = null
let stopping = false
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true
    const timer = setTimeout(() => process.exit(code), 2000)
    timer.unref()
    await stop?.().catch(() => {})
  }
  process.exit(code)
}

process.on('disconnect', () => void shutdown(0))
process.on('SIGTERM', () => void shutdown(0))
process.on('SIGINT', () => void shutdown(0))

async function runNode(config: NodeChildConfig): Promise<void> {
  let node: ClusterNode | null = null
  const log = (message: string) => process.stderr.write(`node ${config.id}: ${message}\n`)
  // Direct channels to the siblings (handoff fd); opened once the node can adopt sockets.
  let channels: SiblingChannels | null = null
  // The dispatcher this process hosts (dispatcherIn 'node0') is up before the node asks it anything.
  const hosted = config.hostDispatcher ? await startClusterDispatcher(config.hostDispatcher) : null
  node = await startNode({
    id: config.id,
    docroot: config.docroot,
    host: config.host,
    port: config.port,
    adminPort: config.adminPort,
    cacheBytes: config.cacheBytes,
    disk: config.disk,
    token: config.token,
    decide: config.forwardAllTo === undefined ? undefined : () => ({ node: config.forwardAllTo!, route: 'dispatched' }),
    link: config.dispatcher
      ? createNodeLink({ url: config.dispatcher, token: config.token, assignDeadlineMinMs: config.assignDeadlineMinMs, assignDeadlineMaxMs: config.assignDeadlineMaxMs })
      : undefined,
    passer:
      config.handoff === 'fd'
        ? {
            canPass: (to) => (channels?.canPass(to) ?? false) || process.connected,
            // The front end has stopped reading: the bytes not yet answered travel with the
            // handle, whatever the kernel still holds is read by the sibling. Straight to the
            // sibling when its channel is up, else through the parent.
            pass: (to, socket, bytes, route) => {
              if (channels?.pass(to, socket, bytes, route)) return
              const handle = socket.release()
              if (!handle) return // the client went away meanwhile
              node!.metrics.fdViaParent++
              // child_process sends a net.Socket and closes this process's copy once the
              // parent has it (a bare handle it would leave open); manualStart: not read here.
              const carrier = new net.Socket({ handle, manualStart: true } as net.SocketConstructorOpts)
              if (!send({ type: 'handoff', from: config.id, to, route, bytes }, carrier)) carrier.destroy()
            },
          }
        : undefined,
  })
  const fdPeers = config.handoff === 'fd' ? (config.fdPeers ?? []) : []
  if (config.handoff === 'fd') {
    const made = SiblingChannels.create({
      self: config.id,
      adopt: (socket, bytes, route) => node!.adoptSocket(socket, bytes, route),
      log,
      stats: node.metrics.fdChannels,
    })
    if (typeof made === 'string') {
      log(made)
      for (const { fd } of fdPeers) closeSync(fd)
    } else {
      channels = made
      for (const { peer, fd } of fdPeers) channels.open(peer, fd)
    }
  }
  stop = async () => {
    channels?.close()
    await node!.close()
    await hosted?.close()
  }
  process.on('message', (message: ParentMessage, handle?: net.Socket) => {
    if (message.type === 'adopt' && handle) node!.adoptSocket(handle, Buffer.from(message.bytes), message.route)
    else if (message.type === 'front' && handle) {
      node!.acceptShared(handle).then(
        () => send({ type: 'front-listening' }),
        (err: Error) => send({ type: 'front-listening', error: err.message }),
      )
    }
    else if (message.type === 'peers') node!.setPeers(message.peers)
    else if (message.type === 'fd-connect') channels?.connect(message.peer, message.path, CHANNEL_CONNECT_TIMEOUT_MS).catch((err: Error) => log(err.message))
    else if (message.type === 'stop') void shutdown(0)
  })
  // Ready once every sibling's channel is up (or the wait is over: the parent's route covers the rest).
  if (channels && fdPeers.length > 0) {
    const missing = await channels.whenUp(
      fdPeers.map((p) => p.peer),
      CHANNELS_UP_TIMEOUT_MS,
    )
    if (missing.length > 0) log(`no direct channel to node${missing.length > 1 ? 's' : ''} ${missing.join(', ')} yet: fd handoffs to them go through the cluster parent`)
  }
  send({ type: 'ready', role: 'node', id: config.id, port: node.port, adminPort: node.adminPort, url: node.url })
}

async function main(): Promise<void> {
  const raw = process.env[CHILD_CONFIG_ENV]
  if (!raw || !process.send) {
    console.error('service/cluster/child.js is started by `l7 cluster`, not by hand')
    process.exit(2)
  }
  const config = JSON.parse(raw) as ChildConfig
  try {
    if (config.role === 'node') await runNode(config)
    else {
      const dispatcher = await startClusterDispatcher(config)
      stop = () => dispatcher.close()
      process.on('message', (message: ParentMessage) => {
        if (message.type === 'stop') void shutdown(0)
      })
      send({ type: 'ready', role: 'dispatcher', port: dispatcher.port, url: dispatcher.url, adminPort: dispatcher.adminPort })
    }
  } catch (err) {
    send({ type: 'failed', message: (err as Error).message })
    await shutdown(1)
  }
}

void main()
