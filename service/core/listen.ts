// Why a listener could not bind, in words a user can act on. uWebSockets.js only says "no"
// (its callback gets false); probing the same address with a plain Node socket tells an
// address already held (by any process, an l7 one included) from one this host does not have.
import net from 'node:net'
import { L7Error } from './errors.js'

/** A bind that failed: the message names the address and what to do. */
export async function listenFailure(host: string, port: number, flag = '--listen'): Promise<L7Error> {
  const code = await probe(host, port)
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`
  if (code === 'EADDRINUSE') return new L7Error('L7_ADDRESS_IN_USE', `${address} is already in use by another process, stop it or choose another address with ${flag}`)
  if (code === 'EADDRNOTAVAIL') return new L7Error('L7_ADDRESS_NOT_AVAILABLE', `${host} is not an address of this host, choose another with ${flag}`)
  if (code === 'EACCES') return new L7Error('L7_ADDRESS_FORBIDDEN', `${address} needs privileges to listen on, choose a port above 1023 with ${flag}`)
  return new L7Error('L7_LISTEN_FAILED', `could not listen on ${address}${code ? ` (${code})` : ''}, choose another address with ${flag}`)
}

/** The error code a plain (non-reusing) bind of host:port gets, or null if it binds. */
function probe(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'unknown'))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)))
  })
}
