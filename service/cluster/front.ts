// The cluster's shared front: one client address for the whole cluster, accepted on by every
// node. The seed's clients reach "any node" through a layer-4 switch that forwards packets;
// on one machine the equivalent is one listening socket shared by the node processes: the
// kernel hands each new connection to one of them, and no process copies the bytes on the
// way (a user-space TCP proxy such as HAProxy in `mode tcp` reads and writes every byte).
//
// The parent binds the socket but never listens on it itself (so it never accepts: it has no
// use for the connections), and sends the bound handle to each node over IPC; each node
// listens and accepts on its copy. A restarted node gets the same handle again.

import net from 'node:net'
import { getSystemErrorName } from 'node:util'
import { InvalidArgumentError, MissingDependencyError } from '../core/errors.js'

/** libuv's TCP handle as Node's net module uses it (what IPC sends as a native handle). */
interface TcpHandle {
  getsockname(out: { address?: string; port?: number }): number
  close(): void
}

type CreateServerHandle = (address: string, port: number, addressType: 4 | 6) => TcpHandle | number

export interface SharedFront {
  host: string
  port: number
  /** The bound (not listening) socket, to send to the nodes as a message's handle. */
  readonly handle: object
  close(): void
}

/**
 * Binds host:port for the nodes to share. Node's own net._createServerHandle makes the bound
 * handle without listening (it is what Node's cluster module uses for shared handles; there
 * is no public call for it on Node 20). Checked on Node 20.20.
 */
export function bindSharedFront(host: string, port: number): SharedFront {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle
  if (typeof create !== 'function') {
    throw new MissingDependencyError(`--front needs net._createServerHandle, which Node ${process.version} does not have`)
  }
  const handle = create(host, port, net.isIPv6(host) ? 6 : 4)
  if (typeof handle === 'number') {
    throw new InvalidArgumentError(`--front ${host}:${port}: cannot bind (${getSystemErrorName(handle)})`)
  }
  // libuv defers a bind's EADDRINUSE to the next call on the handle: getsockname reports it.
  const name: { address?: string; port?: number } = {}
  const err = handle.getsockname(name)
  if (err !== 0 || name.port === undefined) {
    handle.close()
    throw new InvalidArgumentError(`--front ${host}:${port}: cannot bind (${err !== 0 ? getSystemErrorName(err) : 'no port'})`)
  }
  let closed = false
  return {
    host,
    port: name.port,
    handle,
    close() {
      if (closed) return
      closed = true
      handle.close()
    },
  }
}
