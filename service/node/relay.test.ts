// Relay handoff between two nodes with a fixed decision (node 7 sends everything to node 8).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { rm } from 'node:fs/promises'
import { once } from 'node:events'
import net from 'node:net'
import { join } from 'node:path'
import { startNode, type ClusterNode } from './node.js'
import { fileBytes, get, makeDocroot, parseResponses, pipelinedSegments, rawExchange, type RawResponse } from './testing.js'
import { signHandoff } from './credential.js'
import { parseRequestHead } from './http.js'
import { PeerRelay } from './relay.js'
import { takeHandle } from './client-socket.js'
import { ClientStream } from './client-stream.js'

const SIZES = [0, 1, 1000, 65536, 3_000_000]
let root = ''
let peer: ClusterNode
let front: ClusterNode

test.before(async () => {
  root = await makeDocroot(SIZES, 'l7-relay-')
  peer = await startNode({ id: 8, docroot: root, token: 'k', adminPort: null })
  front = await startNode({ id: 7, docroot: root, token: 'k', adminPort: null, peers: { 8: `127.0.0.1:${peer.port}` }, decide: () => ({ node: 8, route: 'dispatched' }) })
})

test.after(async () => {
  await front.close()
  await peer.close()
  await rm(root, { recursive: true, force: true })
})

test('pipelined requests in separate segments come back in order, byte for byte, HEAD included', async () => {
  const paths = ['/1000.bin', '/3000000.bin', '/1.bin', '/0.bin', '/65536.bin', '/1000.bin', '/nope.bin', '/1.bin']
  const heads = paths.map((_, i) => i === 5)
  const requests = paths.map((p, i) => (heads[i] ? `HEAD ${p} HTTP/1.1\r\nHost: t\r\n\r\n` : get(p, '', '1.1')))
  const responses = await pipelinedSegments(front.port, requests, 3, heads)
  assert.is(responses.length, paths.length)
  responses.forEach((res, i) => {
    const size = Number(paths[i].slice(1, -4))
    assert.is(res.headers['x-l7-node'], '8', paths[i])
    assert.is(res.headers['x-l7-route'], 'handoff', paths[i])
    assert.is(res.headers.connection, 'keep-alive')
    if (paths[i] === '/nope.bin') assert.is(res.status, 404)
    else if (heads[i]) assert.is(res.body.length, 0)
    else assert.ok(res.body.equals(fileBytes(size)), paths[i])
  })
})

test('Connection: close and HTTP/1.0 clients: the response says close and the connection ends; the peer connection is kept', async () => {
  const before = front.metrics.handoffRetries
  const [closeRes, extra] = await rawExchange(front.port, get('/1000.bin', 'Connection: close\r\n', '1.1') + get('/1.bin', '', '1.1'), 2)
  assert.is(closeRes.headers.connection, 'close')
  assert.ok(closeRes.body.equals(fileBytes(1000)))
  assert.is(extra, undefined, 'nothing after a close')
  const [ten] = await rawExchange(front.port, get('/65536.bin'))
  assert.is(ten.headers.connection, 'close')
  assert.is(ten.headers['x-l7-route'], 'handoff')
  assert.ok(ten.body.equals(fileBytes(65536)))
  assert.is(front.metrics.handoffRetries, before)
})

test('Expect: 100-continue on a GET is handed off like any request; another expectation is 417', async () => {
  const before = front.metrics.handoffRetries
  for (let i = 0; i < 5; i++) {
    const [res] = await rawExchange(front.port, get('/1000.bin', 'Expect: 100-continue\r\n', '1.1'))
    assert.is(res.status, 200)
    assert.is(res.headers['x-l7-route'], 'handoff')
    assert.ok(res.body.equals(fileBytes(1000)))
  }
  assert.is(front.metrics.handoffRetries, before, 'no peer was taken for failed')
  const [odd] = await rawExchange(front.port, get('/1.bin', 'Expect: 200-ok\r\n', '1.1'))
  assert.is(odd.status, 417)
})

test('a peer connection the peer closed while idle is replaced without a retry elsewhere', async () => {
  // A pair of its own: a peer whose idle time-out (150 ms) closes the kept connection.
  const quickPeer = await startNode({ id: 6, docroot: root, token: 'k', adminPort: null, idleTimeoutMs: 150 })
  const viaQuick = await startNode({ id: 5, docroot: root, token: 'k', adminPort: null, peers: { 6: `127.0.0.1:${quickPeer.port}` }, decide: () => ({ node: 6, route: 'dispatched' }) })
  try {
    const [first] = await rawExchange(viaQuick.port, get('/1.bin', '', '1.1'))
    assert.is(first.headers['x-l7-route'], 'handoff')
    await new Promise((r) => setTimeout(r, 400))
    const [second] = await rawExchange(viaQuick.port, get('/1.bin', '', '1.1'))
    assert.is(second.status, 200)
    assert.is(second.headers['x-l7-node'], '6')
    assert.is(viaQuick.metrics.handoffRetries, 0)
  } finally {
    await viaQuick.close()
    await quickPeer.close()
  }
})

test('many concurrent clients through one relay: every response complete and correct', async () => {
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => rawExchange(front.port, get(`/${SIZES[i % SIZES.length]}.bin`, '', '1.1'))),
  )
  results.forEach(([res], i) => assert.ok(res.body.equals(fileBytes(SIZES[i % SIZES.length])), `client ${i}`))
})

/** A client that sends its requests and reads nothing for `stallMs`: the relay's writes to it queue up. */
function stalledClient(port: number, request: string, expect: number, stallMs: number): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('stalled client timed out'))
    }, 10_000)
    socket.pause()
    setTimeout(() => socket.resume(), stallMs)
    socket.on('data', (chunk) => {
      chunks.push(chunk)
      const { responses } = parseResponses(Buffer.concat(chunks))
      if (responses.length < expect) return
      clearTimeout(timer)
      socket.destroy()
      resolve(responses)
    })
    socket.on('error', reject)
    socket.write(request)
  })
}

test('clients that stop reading get every byte: response bytes still queued are not overwritten by the next read', async () => {
  // The relay writes from its read buffer; a write the kernel cannot take at once must keep
  // its bytes while the peer connection reads on (relay.ts, lent buffers).
  const request = get('/3000000.bin', '', '1.1') + get('/65536.bin', '', '1.1') + get('/3000000.bin', '', '1.1')
  const clients = await Promise.all(Array.from({ length: 4 }, (_, i) => stalledClient(front.port, request, 3, 100 + 50 * i)))
  for (const responses of clients) {
    assert.is(responses.length, 3)
    assert.ok(responses[0].body.equals(fileBytes(3_000_000)), 'first 3 MB response')
    assert.ok(responses[1].body.equals(fileBytes(65536)), '64 KB response')
    assert.ok(responses[2].body.equals(fileBytes(3_000_000)), 'second 3 MB response')
  }
})

test('a response arriving in small pieces for a client that stalls: bytes queued for the client are never overwritten', async () => {
  // A peer that sends 1 MB in 4 KB pieces, each its own read at the relay; a client that
  // reads nothing for 300 ms, on a Unix socket (a small kernel buffer that does not grow, as
  // loopback TCP's does). Writes the kernel cannot take stay queued (below the socket's
  // high-water mark, so the relay goes on reading) and must keep their bytes.
  const body = fileBytes(1_000_000)
  const clientPath = join(root, 'client.sock')
  const peerServer = net.createServer((s) => {
    s.setNoDelay(true)
    s.once('data', async () => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`)
      for (let at = 0; at < body.length && !s.destroyed; at += 4096) {
        s.write(body.subarray(at, at + 4096))
        await new Promise((r) => setImmediate(r))
      }
    })
  })
  const clientSide = net.createServer()
  peerServer.listen(0, '127.0.0.1')
  clientSide.listen(clientPath)
  await Promise.all([once(peerServer, 'listening'), once(clientSide, 'listening')])
  const relay = new PeerRelay()
  relay.setPeers(new Map([[1, `127.0.0.1:${(peerServer.address() as net.AddressInfo).port}`]]))
  const reader = net.connect(clientPath)
  const [accepted] = (await once(clientSide, 'connection')) as [net.Socket]
  // The node's front end gives the relay a client stream on the accepted handle.
  const client = new ClientStream(takeHandle(accepted)!, { data: () => {}, end: () => {}, close: () => {} })
  try {
    reader.pause()
    const received: Buffer[] = []
    reader.on('data', (chunk) => received.push(chunk))
    setTimeout(() => reader.resume(), 300)
    const bytes = Buffer.from(get('/big', '', '1.1'))
    const parsed = parseRequestHead(bytes)
    if (!('head' in parsed)) throw new Error('request did not parse')
    const outcome = await relay.relay(client, parsed.head, bytes, 1, () => '')
    assert.is(outcome, 'next')
    const { responses } = await new Promise<{ responses: RawResponse[] }>((resolve) => {
      const check = () => {
        const got = parseResponses(Buffer.concat(received))
        if (got.responses.length > 0) resolve(got)
        else reader.once('data', check)
      }
      check()
    })
    assert.ok(responses[0].body.equals(body), 'the 1 MB body, byte for byte')
  } finally {
    relay.close()
    reader.destroy()
    client.destroy()
    peerServer.close()
    clientSide.close()
  }
})

test('a bare decision is taken only on a connection that showed a signed credential', async () => {
  const bare = get('/1000.bin', 'x-l7-handoff: 8.dispatched\r\n', '1.1')
  const [alone] = await rawExchange(peer.port, bare)
  assert.is(alone.status, 403, 'a client cannot send the short form')
  const signed = get('/1.bin', `x-l7-handoff: ${signHandoff('k', 8, 'dispatched', 'GET', '/1.bin')}\r\n`, '1.1')
  const [first, second] = await rawExchange(peer.port, signed + bare, 2)
  assert.is(first.status, 200)
  assert.is(second.status, 200)
  assert.is(second.headers['x-l7-route'], 'handoff')
  assert.ok(second.body.equals(fileBytes(1000)))
  const [wrongNode] = await rawExchange(peer.port, get('/1.bin', `x-l7-handoff: ${signHandoff('k', 8, 'dispatched', 'GET', '/1.bin')}\r\n`, '1.1') + get('/1.bin', 'x-l7-handoff: 7.dispatched\r\n', '1.1'), 2).then((r) => [r[1]])
  assert.is(wrongNode.status, 403, 'a decision for another node')
})

test('the relay signs once per peer connection: many requests, one credential accepted', async () => {
  const refusedBefore = peer.metrics.handoffRefused
  const inBefore = peer.metrics.handoffsIn
  const responses = await pipelinedSegments(front.port, Array.from({ length: 20 }, () => get('/1000.bin', '', '1.1')), 0)
  assert.is(responses.length, 20)
  for (const res of responses) assert.is(res.headers['x-l7-route'], 'handoff')
  assert.is(peer.metrics.handoffsIn - inBefore, 20)
  assert.is(peer.metrics.handoffRefused, refusedBefore)
})

test.run()
