// Waiting for a peer server (nginx, HAProxy) to accept connections: they print nothing when
// ready, so the benchmarks poll the port they were given.

import net from 'node:net'

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects after `timeoutMs`, naming `what`. */
export async function waitForPort(port: number, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(true)))
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`${what}: nothing listening on port ${port} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
