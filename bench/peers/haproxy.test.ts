import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import { once } from 'node:events'
import type net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { findHaproxy, haproxyConfig, HAPROXY_MISSING, startHaproxy } from './haproxy.js'

test('haproxyConfig: http is balance uri, consistent, bounded, reused; tcp is round robin; every server listed', () => {
  const http = haproxyConfig({ mode: 'http', port: 9000, servers: [9001, 9002] })
  for (const line of ['mode http', 'balance uri', 'hash-type consistent', 'hash-balance-factor 150', 'http-reuse always', 'bind 127.0.0.1:9000', 'server s0 127.0.0.1:9001', 'server s1 127.0.0.1:9002', 'timeout client 30s']) {
    assert.ok(http.includes(line), `http config lacks "${line}"`)
  }
  const tcp = haproxyConfig({ mode: 'tcp', port: 9000, servers: [9001] })
  assert.ok(tcp.includes('mode tcp') && tcp.includes('balance roundrobin'))
  assert.not.ok(tcp.includes('balance uri') || tcp.includes('http-reuse'))
  assert.not.ok(http.includes('nbthread'), "HAProxy's own thread count unless one is asked for")
  assert.ok(haproxyConfig({ mode: 'tcp', port: 9000, servers: [9001], threads: 1 }).includes('nbthread 1'))
})

test('startHaproxy: both modes pass requests to the back ends and stop', async () => {
  const haproxy = findHaproxy()
  if (!haproxy) {
    console.log(`${HAPROXY_MISSING}: startHaproxy not exercised`)
    return
  }
  const seen: string[] = []
  const servers = await Promise.all(
    [0, 1].map(async (id) => {
      const server = http.createServer((req, res) => {
        seen.push(`${id}${req.url}`)
        res.end(`backend ${id}`)
      })
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      return server
    }),
  )
  const dir = await mkdtemp(join(tmpdir(), 'l7-haproxy-peer-'))
  try {
    for (const mode of ['http', 'tcp'] as const) {
      seen.length = 0
      const front = await startHaproxy({ haproxy, dir, mode, servers: servers.map((s) => (s.address() as net.AddressInfo).port) })
      try {
        const bodies: string[] = []
        for (const path of ['/a', '/b', '/a', '/b']) {
          const res = await fetch(`http://127.0.0.1:${front.port}${path}`, { headers: { connection: 'close' } })
          assert.is(res.status, 200)
          bodies.push(await res.text())
        }
        if (mode === 'http') {
          // balance uri: the same path always reaches the same back end
          assert.is(bodies[0], bodies[2])
          assert.is(bodies[1], bodies[3])
        } else {
          // round robin over new connections: both back ends answer
          assert.is(new Set(bodies).size, 2)
        }
        assert.is(seen.length, 4)
      } finally {
        await front.stop()
      }
    }
  } finally {
    for (const s of servers) s.close()
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
