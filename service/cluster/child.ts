// Entry point of a process started by `l7 cluster`: a node or the dispatcher, configured by
// the L7_CLUSTER_CHILD environment variable. It reports `ready` over IPC, relays socket
// handoffs through the parent, and exits when the parent goes away (IPC 'disconnect'),
// so that no child outlives its cluster.

import type net from 'node:net'
import { startNode, type ClusterNode } from '../node/node.js'
import { CHILD_CONFIG_ENV, type ChildConfig, type ChildMessage, type NodeChildConfig, type ParentMessage } from './messages.js'
import { startClusterDispatcher } from './dispatcher.js'
import { createNodeLink } from '../node/control-link.js'

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
            canPass: () => process.connected,
            // The front end has stopped reading: the bytes not yet answered travel with the
            // handle, whatever the kernel still holds is read by the sibling.
            pass: (to, socket, bytes, route) => {
              if (!send({ type: 'handoff', from: config.id, to, route, bytes }, socket)) socket.destroy()
            },
          }
        : undefined,
  })
  stop = () => node!.close()
  process.on('message', (message: ParentMessage, handle?: net.Socket) => {
    if (message.type === 'adopt' && handle) node!.adoptSocket(handle, Buffer.from(message.bytes), message.route)
    else if (message.type === 'front' && handle) {
      node!.acceptShared(handle).then(
        () => send({ type: 'front-listening' }),
        (err: Error) => send({ type: 'front-listening', error: err.message }),
      )
    }
    else if (message.type === 'peers') node!.setPeers(message.peers)
    else if (message.type === 'stop') void shutdown(0)
  })
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
