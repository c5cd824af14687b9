import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { once } from 'node:events'
import { rm, symlink, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { dirname, join } from 'node:path'
import { startNode, type ClusterNode } from './node.js'
import { fileBytes, get, makeDocroot, parseResponses, rawExchange } from './testing.js'
import { signHandoff } from './credential.js'

const SIZES = [0, 1, 1000, 65536, 1_000_000, 3_000_000]
let root = ''
let node: ClusterNode

test.before(async () => {
  root = await makeDocroot(SIZES)
  await writeFile(join(root, 'index.html'), '<h1>hi</h1>')
  await writeFile(join(dirname(root), 'l7-outside-secret.txt'), 'secret')
  await symlink(join(dirname(root), 'l7-outside-secret.txt'), join(root, 'escape.txt'))
  node = await startNode({ id: 1, docroot: root, cacheBytes: 2_000_000, token: 't0k' })
})

test.after(async () => {
  await node.close()
  await rm(root, { recursive: true, force: true })
  await rm(join(dirname(root), 'l7-outside-secret.txt'), { force: true })
})

test('every size from 0 B to 3 MB comes back byte for byte, twice (miss then hit or uncached)', async () => {
  for (const size of SIZES) {
    for (const round of [0, 1]) {
      const [res] = await rawExchange(node.port, get(`/${size}.bin`))
      assert.is(res.status, 200)
      assert.ok(res.body.equals(fileBytes(size)), `bytes of ${size}`)
      assert.is(res.headers['x-l7-node'], '1')
      assert.is(res.headers['x-l7-route'], 'local')
      assert.is(res.headers['content-type'], 'application/octet-stream')
      // 3 MB is larger than the 2 MB cache: never cached, always a miss.
      assert.is(res.headers['x-l7-cache'], round === 1 && size <= 1_000_000 ? 'hit' : 'miss')
    }
  }
})

test('keep-alive: several requests, HEAD included, on one connection', async () => {
  const req = get('/1000.bin', '', '1.1') + `HEAD /65536.bin HTTP/1.1\r\nHost: x\r\n\r\n` + get('/index.html', 'Connection: close\r\n', '1.1')
  const res = await rawExchange(node.port, req, 3, [false, true, false])
  assert.is(res.length, 3)
  assert.ok(res[0].body.equals(fileBytes(1000)))
  assert.is(res[0].headers.connection, 'keep-alive')
  assert.is(res[1].headers['content-length'], '65536')
  assert.is(res[1].body.length, 0)
  assert.is(res[2].body.toString(), '<h1>hi</h1>')
  assert.is(res[2].headers['content-type'], 'text/html; charset=utf-8')
  assert.is(res[2].headers.connection, 'close')
})

test('heads that arrive in pieces, interleaved with other clients\' reads, are each kept whole', async () => {
  // Every client connection reads into one shared buffer (client-socket.ts): a piece kept for
  // later must be a copy, or the next client's read overwrites it.
  const sizes = [1000, 65536, 1, 0]
  const sockets = sizes.map(() => net.connect(node.port, '127.0.0.1'))
  await Promise.all(sockets.map((s) => once(s, 'connect')))
  const received = sockets.map(() => [] as Buffer[])
  sockets.forEach((s, i) => s.on('data', (chunk) => received[i].push(chunk)))
  const requests = sizes.map((size) => get(`/${size}.bin`, 'X-Pad: ' + 'p'.repeat(40) + '\r\n', '1.1'))
  const pause = () => new Promise((r) => setTimeout(r, 20))
  for (let i = 0; i < sizes.length; i++) {
    sockets[i].write(requests[i].slice(0, 20))
    await pause()
  }
  for (let i = sizes.length - 1; i >= 0; i--) {
    sockets[i].write(requests[i].slice(20))
    await pause()
  }
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && received.some((chunks, i) => parseResponses(Buffer.concat(chunks)).responses.length < 1)) await pause()
  sizes.forEach((size, i) => {
    const [res] = parseResponses(Buffer.concat(received[i])).responses
    assert.ok(res, `client ${i} answered`)
    assert.is(res.status, 200, `client ${i}`)
    assert.ok(res.body.equals(fileBytes(size)), `client ${i}: the bytes of ${size}.bin`)
  })
  for (const s of sockets) s.destroy()
})

test('HTTP/1.0 closes unless keep-alive is asked for', async () => {
  const res = await rawExchange(node.port, get('/1.bin') + get('/1.bin'), 2)
  assert.is(res.length, 1)
  const ka = await rawExchange(node.port, get('/1.bin', 'Connection: keep-alive\r\n') + get('/1.bin'), 2)
  assert.is(ka.length, 2)
})

test('status codes: 404, 405, 400, 414, 431, 505', async () => {
  assert.is((await rawExchange(node.port, get('/nope.bin')))[0].status, 404)
  assert.is((await rawExchange(node.port, `POST /1.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`))[0].status, 405)
  assert.is((await rawExchange(node.port, `GARBAGE\r\n\r\n`))[0].status, 400)
  assert.is((await rawExchange(node.port, `GET /x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`))[0].status, 400)
  assert.is((await rawExchange(node.port, `GET /${'a'.repeat(9000)} HTTP/1.1\r\n\r\n`))[0].status, 414)
  assert.is((await rawExchange(node.port, `GET / HTTP/1.1\r\nX: ${'b'.repeat(17000)}\r\n\r\n`))[0].status, 431)
  assert.is((await rawExchange(node.port, `GET / HTTP/2.0\r\n\r\n`))[0].status, 505)
  assert.is((await rawExchange(node.port, `GET /1.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`))[0].status, 400)
})

test('a directory named without its slash is redirected to its / form, query kept; with the slash its index.html', async () => {
  const { mkdir } = await import('node:fs/promises')
  await mkdir(join(root, 'docs'), { recursive: true })
  await writeFile(join(root, 'docs', 'index.html'), 'docs index')
  const [moved] = await rawExchange(node.port, get('/docs?a=1'))
  assert.is(moved.status, 301)
  assert.is(moved.headers.location, '/docs/?a=1')
  const [index] = await rawExchange(node.port, get('/docs/'))
  assert.is(index.status, 200)
  assert.is(index.body.toString(), 'docs index')
})

test('path traversal never leaves the root', async () => {
  for (const path of ['/../l7-outside-secret.txt', '/%2e%2e/l7-outside-secret.txt', '/sub/..%2f..%2fl7-outside-secret.txt', '/a%00b', '/%zz', '/..\\x', 'http://h/../x']) {
    const [res] = await rawExchange(node.port, get(path))
    assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`)
    assert.not.ok(res.body.toString().includes('secret'), path)
  }
  const [sym] = await rawExchange(node.port, get('/escape.txt'))
  assert.is(sym.status, 404)
  const [abs] = await rawExchange(node.port, get('http://example/1000.bin'))
  assert.is(abs.status, 200)
})

test('a forged or stale credential is refused with 403', async () => {
  const forged = `x-l7-handoff: 1.dispatched.${Date.now()}.${'0'.repeat(64)}\r\n`
  assert.is((await rawExchange(node.port, get('/1.bin', forged)))[0].status, 403)
  const wrongToken = `x-l7-handoff: ${signHandoff('other', 1, 'dispatched', 'GET', '/1.bin')}\r\n`
  assert.is((await rawExchange(node.port, get('/1.bin', wrongToken)))[0].status, 403)
  const otherTarget = `x-l7-handoff: ${signHandoff('t0k', 1, 'dispatched', 'GET', '/1000.bin')}\r\n`
  assert.is((await rawExchange(node.port, get('/1.bin', otherTarget)))[0].status, 403)
  const good = `x-l7-handoff: ${signHandoff('t0k', 1, 'dispatched', 'GET', '/1.bin')}\r\n`
  const [ok] = await rawExchange(node.port, get('/1.bin', good))
  assert.is(ok.status, 200)
  assert.is(ok.headers['x-l7-route'], 'handoff')
})

test('a silent half-sent request is timed out', async () => {
  const quick = await startNode({ id: 2, docroot: root, adminPort: null, idleTimeoutMs: 200 })
  try {
    const started = Date.now()
    const res = await rawExchange(quick.port, 'GET /1.bin HTTP/1.1\r\n', 1)
    assert.ok(Date.now() - started < 3000)
    assert.ok(res.length === 0 || res[0].status === 408)
  } finally {
    await quick.close()
  }
})

test('a client that sends its requests and then its FIN gets every response, then the close', async () => {
  // A fresh node: every file is a cache miss, answered after the client's FIN has arrived.
  const fresh = await startNode({ id: 5, docroot: root, adminPort: null })
  try {
    const socket = net.connect({ port: fresh.port, host: '127.0.0.1', allowHalfOpen: true })
    const chunks: Buffer[] = []
    socket.on('data', (c) => chunks.push(c))
    const ended = once(socket, 'end')
    socket.end(get('/1000.bin', '', '1.1') + get('/65536.bin', '', '1.1') + get('/1000000.bin', '', '1.1'))
    await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error('no FIN from the node')), 5000))])
    socket.destroy()
    const { responses, rest } = parseResponses(Buffer.concat(chunks))
    assert.equal(
      responses.map((r) => r.status),
      [200, 200, 200],
    )
    assert.ok(responses[0].body.equals(fileBytes(1000)))
    assert.ok(responses[1].body.equals(fileBytes(65536)))
    assert.ok(responses[2].body.equals(fileBytes(1_000_000)))
    assert.is(rest.length, 0)
  } finally {
    await fresh.close()
  }
})

test('an idle keep-alive connection is closed after the idle time-out, not before', async () => {
  const quick = await startNode({ id: 6, docroot: root, adminPort: null, idleTimeoutMs: 400 })
  try {
    const socket = net.connect(quick.port, '127.0.0.1')
    socket.write(get('/1.bin', '', '1.1'))
    await once(socket, 'data')
    const answered = performance.now()
    socket.resume()
    await Promise.race([once(socket, 'close'), new Promise((_, reject) => setTimeout(() => reject(new Error('not closed')), 5000))])
    const idle = performance.now() - answered
    // The front end's sweep runs every quarter of the time-out: closed within one more quarter.
    assert.ok(idle >= 380 && idle < 2000, `${idle.toFixed(0)} ms`)
  } finally {
    await quick.close()
  }
})

test('a client dribbling its request head is cut off at the head deadline (408)', async () => {
  const quick = await startNode({ id: 3, docroot: root, adminPort: null, headerTimeoutMs: 300, idleTimeoutMs: 5000 })
  const { connect } = await import('node:net')
  try {
    const started = Date.now()
    const got = await new Promise<string>((resolve) => {
      const s = connect(quick.port, '127.0.0.1')
      let data = ''
      const text = 'GET /1.bin HTTP/1.1\r\nX-Slow: ' + 'a'.repeat(100)
      let i = 0
      const timer = setInterval(() => {
        if (!s.destroyed) s.write(text[i++ % text.length])
      }, 50)
      s.on('data', (d) => (data += d))
      s.on('close', () => {
        clearInterval(timer)
        resolve(data)
      })
      s.on('error', () => {})
    })
    assert.match(got, /^HTTP\/1\.1 408 /)
    assert.ok(Date.now() - started < 3000)
  } finally {
    await quick.close()
  }
})

test('a partial head followed by silence is answered 408 at the head deadline, not the idle time-out', async () => {
  const quick = await startNode({ id: 4, docroot: root, adminPort: null, headerTimeoutMs: 300, idleTimeoutMs: 30_000 })
  try {
    const started = Date.now()
    const res = await rawExchange(quick.port, 'GET /1.bin HTTP/1.1\r\nHost: x\r\n', 1)
    const waited = Date.now() - started
    assert.is(res[0]?.status, 408)
    assert.ok(waited >= 250 && waited < 3000, `answered after ${waited} ms`)
  } finally {
    await quick.close()
  }
})

test('relay handoff with a fixed decision: the peer serves, the response streams back', async () => {
  const b = await startNode({ id: 8, docroot: root, token: 'k', adminPort: null })
  const a = await startNode({ id: 7, docroot: root, token: 'k', adminPort: null, peers: { 8: `127.0.0.1:${b.port}` }, decide: () => ({ node: 8, route: 'dispatched' }) })
  try {
    for (const size of [0, 1000, 3_000_000]) {
      const [res] = await rawExchange(a.port, get(`/${size}.bin`))
      assert.is(res.status, 200)
      assert.is(res.headers['x-l7-node'], '8')
      assert.is(res.headers['x-l7-route'], 'handoff')
      assert.ok(res.body.equals(fileBytes(size)))
    }
    const ka = await rawExchange(a.port, get('/1.bin', '', '1.1') + get('/1000.bin', '', '1.1'), 2)
    assert.is(ka.length, 2)
    assert.is(a.metrics.handoffsOut, 5)
    assert.is(b.metrics.handoffsIn, 5)
    // The peer dies: requests are retried on the next choice and still answered.
    await b.close()
    const [res] = await rawExchange(a.port, get('/1000.bin'))
    assert.is(res.status, 200)
    assert.is(res.headers['x-l7-node'], '7')
    assert.ok(a.metrics.handoffRetries >= 1)
  } finally {
    await a.close()
    await b.close()
  }
})

test('load counts requests being served, and drops back to 0', async () => {
  const slow = await startNode({ id: 4, docroot: root, adminPort: null, disk: { seekMs: 150, mbps: 100 } })
  try {
    const pending = Promise.all([rawExchange(slow.port, get('/1000.bin')), rawExchange(slow.port, get('/65536.bin'))])
    await new Promise((r) => setTimeout(r, 60))
    assert.is(slow.load(), 2)
    const [[a], [b]] = await pending
    assert.is(a.status, 200)
    assert.is(b.status, 200)
    // Two misses of the emulated disk: two reads, each at least its 150 ms seek.
    const text = slow.metricsText()
    assert.match(text, /l7_node_disk_reads_total\{node="4"\} 2\n/)
    const busy = Number(/l7_node_disk_busy_seconds_total\{node="4"\} ([0-9.]+)/.exec(text)![1])
    assert.ok(busy >= 0.3, `disk busy ${busy} s`)
    // The 64 KB response waited for 'drain'; it is released as soon as the socket drains.
    for (let i = 0; i < 50 && slow.load() > 0; i++) await new Promise((r) => setTimeout(r, 10))
    assert.is(slow.load(), 0)
  } finally {
    await slow.close()
  }
})

test('admin port: /metrics and /healthz', async () => {
  const metrics = await (await fetch(`http://127.0.0.1:${node.adminPort}/metrics`)).text()
  assert.match(metrics, /l7_node_requests_total\{node="1",route="local"\} \d+/)
  assert.match(metrics, /l7_node_cache_hits_total\{node="1"\} [1-9]/)
  assert.match(metrics, /l7_node_handoff_refused_total\{node="1"\} 3/)
  const health = (await (await fetch(`http://127.0.0.1:${node.adminPort}/healthz`)).json()) as { ok: boolean }
  assert.is(health.ok, true)
})

test.run()
