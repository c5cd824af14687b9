// Client sockets that read into one static buffer.
//
// A net.Socket read the usual way costs, per read, a fresh 64 KB allocation, a second one to
// shrink it to the bytes read, and a trip through the Readable stream to a 'data' event. net's
// `onread` option reads into a buffer the caller owns and calls back with the byte count
// instead: a Node ping-pong server answering 200-byte requests went from 9.6 to 6.5 us of CPU
// per request with it. Every client connection of a process shares READ_BUFFER, which is
// safe because reads are delivered one at a time and each callback copies out what it keeps
// (front.ts) before it returns.
//
// net.Server has no `onread` for the sockets it accepts, so the node takes over its listening
// handle's accept callback (the same `onconnection` net sets, checked on Node 20.20) and makes
// each client socket itself.

import net from 'node:net'

/** A client's libuv stream handle (TCPWrap), as far as this module uses it. */
export interface ClientHandle {
  close(callback?: () => void): void
  onread: unknown
  reading?: boolean
  readStop?(): number
  setNoDelay?(enable: boolean): number
  /** Bytes libuv still has to write. */
  writeQueueSize?: number
}

/** The handle under `socket` (null once it is destroyed or its handle taken). */
export function handleOf(socket: net.Socket): ClientHandle | null {
  return (socket as unknown as { _handle: ClientHandle | null })._handle ?? null
}

/**
 * Stops reading a socket at the handle (pause() alone lets Node go on filling its buffer), so
 * bytes not yet read stay in the kernel and travel with the socket when it is passed on.
 * False when the socket has no handle to stop.
 */
export function stopReading(socket: net.Socket): boolean {
  const handle = handleOf(socket)
  if (!handle?.readStop) return false
  handle.readStop()
  socket.pause()
  return true
}

/** Shared by every client socket of the process; valid only inside a read callback. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)

/**
 * Destroys `socket` once the writes it has completed are settled. A write the kernel takes at
 * once leaves Writable's completion queued for the next tick; a socket destroyed before it
 * runs makes Node build an ERR_STREAM_DESTROYED error (a stack trace: 3% of a node's time with
 * `Connection: close`) that nobody sees. Ticks run in order, so the next one is after it.
 */
export function destroyAfterWrites(socket: net.Socket): void {
  process.nextTick(destroySocket, socket)
}

function destroySocket(socket: net.Socket): void {
  socket.destroy()
}

/**
 * A socket on `handle` whose reads are delivered to `onRead` as a view of the shared read
 * buffer, valid only until it returns. `noDelay`: TCP_NODELAY is already set on the
 * descriptor (acceptHandles, or the sibling's listener for a passed one: a socket option
 * travels with the descriptor), so saying so spares a setsockopt per client.
 */
export function readingSocket(handle: ClientHandle, onRead: (bytes: Buffer) => void): net.Socket {
  // A handle another socket stopped reading (stopReading, above) keeps this flag, and
  // net.Socket would never start reading it again.
  handle.reading = false
  return new net.Socket({
    handle,
    readable: true,
    writable: true,
    noDelay: true,
    onread: { buffer: READ_BUFFER, callback: (count: number, buffer: Uint8Array) => onRead((buffer as Buffer).subarray(0, count)) },
  } as net.SocketConstructorOpts)
}

/**
 * Takes the handle out of a socket that must not be read or written here any more (detached
 * by the front end, or received from the parent as a net.Socket); null if it has none.
 */
export function takeHandle(socket: net.Socket): ClientHandle | null {
  const handle = handleOf(socket)
  if (!handle || socket.destroyed) return null
  // A socket net made (one received from the parent) is reading already: stop, or the next
  // socket's readStart fails (EALREADY) and destroys it.
  handle.readStop?.()
  handle.onread = () => {}
  ;(socket as unknown as { _handle: ClientHandle | null })._handle = null
  // Without a handle, destroy only settles the socket's own state (timers, the server's count).
  socket.destroy()
  return handle
}

interface ListeningHandle {
  onconnection: ((status: number, client?: ClientHandle) => void) | null
}

/**
 * From now on, each client a listening `server` accepts goes to `accept` as a handle with
 * TCP_NODELAY set, instead of to net's 'connection' event. A failed accept (out of
 * descriptors and the like: net would emit 'error') and a client refused while `full()`
 * (closed at once) go to `dropped`.
 */
export function acceptHandles(server: net.Server, accept: (handle: ClientHandle) => void, full: () => boolean, dropped: () => void): void {
  const listening = (server as unknown as { _handle: ListeningHandle | null })._handle
  if (!listening || typeof listening.onconnection !== 'function') throw new Error('acceptHandles: the server is not listening on a handle of its own')
  listening.onconnection = (status, client) => {
    if (status !== 0 || !client) {
      dropped()
      return
    }
    if (full()) {
      client.close()
      dropped()
      return
    }
    client.setNoDelay?.(true)
    accept(client)
  }
}
