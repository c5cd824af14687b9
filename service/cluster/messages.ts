// IPC messages between `l7 cluster` (the parent) and its children (dispatcher, nodes).
// Sent with serialization 'advanced', so Buffers travel as they are; a client socket
// travels as the message's handle (file-descriptor passing through the parent, used only
// between nodes without a direct channel: fd-channel.ts).

import type { PolicyName, PolicyParams } from '../policy/types.js'
import type { DiskModel } from '../node/disk.js'
import type { HandoffRoute } from '../node/credential.js'

export interface NodeChildConfig {
  role: 'node'
  id: number
  docroot: string
  host: string
  port: number
  /** Admin server (/metrics, /healthz) port; 0 = ephemeral. */
  adminPort: number
  cacheBytes: number
  disk: DiskModel | null
  token: string
  /** ws://host:port of the dispatcher, or null (no dispatcher: chbl over `peers`). */
  dispatcher: string | null
  handoff: 'relay' | 'fd'
  /** Benchmarks only: send every request to this node (fixed decision, route dispatched). */
  forwardAllTo?: number
  /** Bounds of the assign deadline of the node's control client (ms). */
  assignDeadlineMinMs?: number
  assignDeadlineMaxMs?: number
  /** With handoff fd: the inherited descriptors of this node's direct channels to its siblings (fd-mesh.ts). */
  fdPeers?: Array<{ peer: number; fd: number }>
  /** The dispatcher runs in this node's process (cluster option dispatcherIn 'node0'): started first, on its fixed port. */
  hostDispatcher?: DispatcherChildConfig
}

export interface DispatcherChildConfig {
  role: 'dispatcher'
  host: string
  port: number
  policy: PolicyName
  params: Partial<PolicyParams>
  token: string
  /** Admin listener (/metrics, /state without the token) on loopback; 0 = ephemeral. */
  adminPort: number
}

export type ChildConfig = NodeChildConfig | DispatcherChildConfig

export type ChildMessage =
  | { type: 'ready'; role: 'node'; id: number; port: number; adminPort: number | null; url: string }
  | { type: 'ready'; role: 'dispatcher'; port: number; url: string; adminPort: number | null }
  | { type: 'failed'; message: string }
  /** A node hands a client socket (the message's handle) to node `to`. */
  | { type: 'handoff'; from: number; to: number; route: HandoffRoute; bytes: Uint8Array }
  /** A node accepts connections on the cluster's shared front (or could not: `error`). */
  | { type: 'front-listening'; error?: string }

export type ParentMessage =
  | { type: 'adopt'; route: HandoffRoute; bytes: Uint8Array }
  | { type: 'peers'; peers: Record<number, string> }
  /** Accept client connections on the cluster's front: the message's handle is its bound socket. */
  | { type: 'front' }
  /** A sibling was restarted: connect a direct channel to it through the listener at `path` (fd-mesh.ts). */
  | { type: 'fd-connect'; peer: number; path: string }
  | { type: 'stop' }

export const CHILD_CONFIG_ENV = 'L7_CLUSTER_CHILD'
