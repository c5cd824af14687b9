// The node's admin listener: /metrics (Prometheus text) and /healthz (JSON). It binds
// loopback unless told otherwise: it tells who the peers are and how loaded, which is for
// the operator, not for clients.

import http from 'node:http'
import { once } from 'node:events'
import type net from 'node:net'

export interface AdminSources {
  metricsText(): string
  health(): Record<string, unknown>
}

export async function startAdmin(sources: AdminSources, host: string, port: number): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      res.end(sources.metricsText())
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(sources.health()))
    } else {
      res.writeHead(404).end()
    }
  })
  server.listen(port, host)
  await once(server, 'listening')
  return { server, port: (server.address() as net.AddressInfo).port }
}
