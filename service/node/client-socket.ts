// Client sockets as libuv handles: accepted without a net.Socket (acceptHandles), and taken
// out of a net.Socket that holds one (a socket the cluster parent passed) so that the front
// end can serve it on its handle (client-stream.ts).
//
// net.Server has no way to hand over the handles it accepts, so the node takes over its
// listening handle's accept callback (the same `onconnection` net sets, checked on Node 20.20)
// and gives each client handle to the front end.

import net from 'node:net'

/** A client's libuv stream handle (TCPWrap), as far as this module uses it. */
export interface ClientHandle {
  close(callback?: () => void): void
  onread: unknown
  readStop?(): number
  setNoDelay?(enable: boolean): number
}

/** The handle under `socket` (null once it is destroyed or its handle taken). */
function handleOf(socket: net.Socket): ClientHandle | null {
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

/**
 * Takes the handle out of a socket that must not be read or written here any more (one
 * received from the parent as a net.Socket); null if it has none.
 */
export function takeHandle(socket: net.Socket): ClientHandle | null {
  const handle = handleOf(socket)
  if (!handle || socket.destroyed) return null
  // A socket net made (one received from the parent) is reading already: stop, or the
  // client stream's readStart fails (EALREADY) and closes it.
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
