import { createServer, type Server } from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { TraceRecord } from '../trace/types.js'
import { runReplay } from './run.js'

function record(url: string, method = 'GET', line = 1): TraceRecord {
  return { timeUs: 0, user: 0, method, url, size: -1, status: 0, line }
}

async function listen(server: Server | net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function close(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

const big = Buffer.alloc(300_000, 'b')

test('fast client counts the same responses and bytes as undici: length, chunked, close, HEAD, 204, 304, big bodies', async () => {
  const server = createServer((req, res) => {
    res.setHeader('X-L7-Node', req.url === '/chunked' ? '1' : '2')
    if (req.url === '/chunked') {
      res.write('a'.repeat(1000))
      setTimeout(() => res.end('b'.repeat(5000)), 2)
    } else if (req.url === '/close') {
      res.setHeader('Connection', 'close')
      res.end('closing')
    } else if (req.url === '/empty') {
      res.writeHead(204).end()
    } else if (req.url === '/cached') {
      res.writeHead(304).end()
    } else if (req.url === '/big') {
      res.end(big)
    } else {
      res.end('hello')
    }
  })
  const url = await listen(server)
  try {
    const trace = ['/chunked', '/close', '/empty', '/cached', '/big', '/plain'].map((path, i) => record(path, 'GET', i + 1))
    trace.push(record('/big', 'HEAD', 7))
    const results = []
    for (const client of ['undici', 'fast'] as const) {
      results.push(await runReplay({ targets: [url], records: trace, mode: 'rate', rate: 700, requests: 70, connections: 3, client }))
    }
    const [undici, fast] = results
    assert.is(fast.ok, 70)
    assert.is(fast.errors, 0)
    assert.is(fast.bytes, undici.bytes)
    assert.is(fast.bytes, 10 * (6000 + 7 + 0 + 0 + big.length + 5))
    assert.equal(fast.statusClasses, undici.statusClasses)
    assert.equal(
      fast.perHeader.map((group) => [group.key, group.requests]),
      undici.perHeader.map((group) => [group.key, group.requests]),
    )
    assert.equal(
      fast.perSizeClass.map((group) => [group.key, group.requests]),
      undici.perSizeClass.map((group) => [group.key, group.requests]),
    )
  } finally {
    await close(server)
  }
})

test('fast client: a body delimited by the connection closing, and errors by kind (refused, reset, timeout, status)', async () => {
  // A raw HTTP/1.0-style server: no length, the body ends when the socket closes.
  const raw = net.createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nX-L7-Cache: miss\r\n\r\n' + 'z'.repeat(2000)))
  })
  const rawUrl = await listen(raw)
  const server = createServer((req, res) => {
    if (req.url === '/500') res.writeHead(500).end('no')
    else if (req.url === '/reset') req.socket.destroy()
    else if (req.url === '/hang') return
    else res.end('ok')
  })
  const url = await listen(server)
  const refused = net.createServer()
  const refusedUrl = await listen(refused)
  await new Promise((resolve) => refused.close(resolve))
  try {
    const untilClose = await runReplay({ targets: [rawUrl], records: [record('/')], mode: 'rate', rate: 200, requests: 10, client: 'fast' })
    assert.is(untilClose.ok, 10)
    assert.is(untilClose.bytes, 20_000)
    assert.equal(untilClose.perHeader.map((group) => group.key), ['x-l7-cache=miss'])

    const trace = ['/ok', '/500', '/reset', '/hang'].map((path, i) => record(path, 'GET', i + 1))
    const errors = await runReplay({ targets: [url], records: trace, mode: 'rate', rate: 100, requests: 20, timeoutMs: 300, connections: 20, client: 'fast' })
    assert.is(errors.ok, 5)
    assert.equal(errors.errorsByKind, { connect: 0, timeout: 5, reset: 5, other: 0, status4xx: 0, status5xx: 5 })

    const mixed = await runReplay({ targets: [url, refusedUrl], records: [record('/ok')], mode: 'rate', rate: 200, requests: 20, client: 'fast' })
    assert.is(mixed.ok, 10)
    assert.is(mixed.errorsByKind.connect, 10)
  } finally {
    raw.close()
    await close(server)
  }
})

test('fast client: closed loop and the coordinated-omission stall behave as with undici', async () => {
  let stallUntilMs = 0
  let firstMs = 0
  const server = createServer((_req, res) => {
    const nowMs = performance.now()
    firstMs ||= nowMs
    if (stallUntilMs === 0 && nowMs - firstMs >= 300) stallUntilMs = nowMs + 1000
    const waitMs = stallUntilMs - nowMs
    if (waitMs > 0) setTimeout(() => res.end('x'), waitMs)
    else res.end('x')
  })
  const url = await listen(server)
  try {
    const stalled = await runReplay({ targets: [url], records: [record('/')], mode: 'rate', rate: 100, durationS: 1.6, connections: 4, client: 'fast' })
    assert.ok(stalled.latencyMs.p99 >= 900, `p99 ${stalled.latencyMs.p99} ms does not show the 1 s stall`)
    assert.is(stalled.errors, 0)
    const closed = await runReplay({ targets: [url], records: [record('/')], mode: 'closed', users: 3, offTimeMs: 20, durationS: 1, client: 'fast' })
    assert.ok(closed.throughputRps > 0.7 * (3000 / (20 + closed.latencyMs.mean)) && closed.throughputRps <= 3000 / 20, `${closed.throughputRps} req/s`)
  } finally {
    await close(server)
  }
})

test('fast client refuses pipelining; it is the default client, undici the default with pipelining', async () => {
  try {
    await runReplay({ targets: ['http://127.0.0.1:9'], records: [record('/')], mode: 'rate', rate: 10, requests: 1, client: 'fast', pipelining: 4 })
    assert.unreachable('accepted')
  } catch (error) {
    assert.match((error as Error).message, /fast client/)
  }
  const server = createServer((_req, res) => res.end('x'))
  const url = await listen(server)
  try {
    const plain = await runReplay({ targets: [url], records: [record('/')], mode: 'rate', rate: 200, requests: 3 })
    assert.is(plain.client, 'fast')
    assert.is(plain.ok, 3)
    const piped = await runReplay({ targets: [url], records: [record('/')], mode: 'rate', rate: 200, requests: 3, pipelining: 2 })
    assert.is(piped.client, 'undici')
    assert.is(piped.ok, 3)
  } finally {
    await close(server)
  }
})

test('fast client, HTTP/1.0 style: one connection per request, HTTP/1.0 with Connection: close, same counts as undici', async () => {
  const seen: string[] = []
  let connections = 0
  const server = createServer((req, res) => {
    seen.push(`${req.httpVersion} ${req.headers.connection}`)
    res.end(req.url === '/big' ? big : 'hello')
  })
  server.on('connection', () => connections++)
  const url = await listen(server)
  try {
    const records = [record('/'), record('/big'), record('/'), record('/big', 'HEAD')]
    const fast = await runReplay({ targets: [url], records, mode: 'rate', rate: 100, http10: true, connections: 2, client: 'fast' })
    assert.is(fast.client, 'fast')
    assert.is(connections, 4)
    assert.equal([...new Set(seen)], ['1.0 close'])
    const slow = await runReplay({ targets: [url], records, mode: 'rate', rate: 100, http10: true, connections: 2, client: 'undici' })
    assert.equal([fast.ok, fast.errors, fast.bytes], [slow.ok, slow.errors, slow.bytes])
    assert.equal([fast.ok, fast.bytes], [4, 2 * 5 + 300_000])
  } finally {
    await close(server)
  }
})

test.run()
