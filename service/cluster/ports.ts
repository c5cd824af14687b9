// A free TCP port on this host, for servers that must get a fixed port: the dispatcher (so
// it can be restarted on the same port; uWS sets SO_REUSEADDR only for a fixed port, and
// without it the killed dispatcher's TIME_WAIT connections block the port for a minute)
// and benchmark peers such as nginx.

import net from 'node:net'
import { once } from 'node:events'

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer()
  server.listen(0, host)
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}
