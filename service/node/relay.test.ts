// Relay handoff between two nodes with a fixed decision (node 7 sends everything to node 8).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { rm } from 'node:fs/promises'
import { startNode, type ClusterNode } from './node.js'
import { fileBytes, get, makeDocroot, pipelinedSegments, rawExchange } from './testing.js'
import { signHandoff } from './credential.js'

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
