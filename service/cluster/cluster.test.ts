import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { get as httpGet } from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCluster, type RunningCluster } from './cluster.js'

let cache = ''
const events: { event: string; fields: Record<string, unknown> }[] = []
const log = (event: string, fields: Record<string, unknown>) => events.push({ event, fields })
const clusters: RunningCluster[] = []
test.before(async () => {
  cache = await mkdtemp(join(tmpdir(), 'l7-cluster-test-'))
})
test.after.each(async () => {
  for (const c of clusters.splice(0)) await c.close()
  events.length = 0
})
test.after(async () => {
  await rm(cache, { recursive: true, force: true })
})

async function state(c: RunningCluster): Promise<{ nodes: { id: number; up: boolean; address: string }[] }> {
  return (await fetch(`${c.dispatcherAdmin}/state`)).json() as never
}

test('ready: every node registered with this cluster\'s dispatcher; the token and the admin URLs are in the ready info', async () => {
  const c = await startCluster({ nodes: 2, port: 0, files: 20, cacheDir: cache, token: 'sekrit', log })
  clusters.push(c)
  const info = c.readyInfo()
  assert.is(info.token, 'sekrit')
  assert.ok(info.docroot.startsWith(cache), 'the generated file set is in the cache dir')
  const s = await state(c)
  assert.equal(s.nodes.map((n) => [n.id, n.up, n.address]), c.nodes.map((url, id) => [id, true, new URL(url).host]))
  // The public port wants the token for /state; the admin listener is loopback and does not.
  const publicState = `http://${new URL(info.dispatcher!).host}/state`
  assert.is((await fetch(publicState)).status, 401)
  assert.is((await fetch(publicState, { headers: { authorization: 'Bearer sekrit' } })).status, 200)
})

test('restart on-failure: a killed node is logged, restarted on the same ports with backoff, and re-admitted', async () => {
  const c = await startCluster({ nodes: 2, port: 0, files: 20, cacheDir: cache, restart: 'on-failure', log })
  clusters.push(c)
  const before = c.children.find((x) => x.role === 'node' && x.id === 1)!
  const oldPid = before.process.pid
  const restarted = c.waitRestarted('node', 1)
  await c.killNode(1)
  const exit = events.find((e) => e.event === 'child-exit')!
  assert.equal({ child: exit.fields.child, pid: exit.fields.pid, code: exit.fields.code, signal: exit.fields.signal, restartInMs: exit.fields.restartInMs }, {
    child: 'node 1',
    pid: oldPid,
    code: null,
    signal: 'SIGKILL',
    restartInMs: 250,
  })
  await restarted
  assert.ok(before.process.pid !== oldPid)
  assert.is(before.restarts, 1)
  assert.ok(events.some((e) => e.event === 'child-restarted' && e.fields.child === 'node 1'))
  const deadline = Date.now() + 5000
  while (!(await state(c)).nodes.every((n) => n.up) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.ok((await state(c)).nodes.every((n) => n.up), 'the dispatcher re-admitted it')
  const res = await fetch(`${c.nodes[1]}/1.txt`)
  assert.is(res.status, 200, 'served on its old URL')
  await res.arrayBuffer()
  // The dispatcher too.
  const dispatcherBack = c.waitRestarted('dispatcher')
  await c.killDispatcher()
  await dispatcherBack
  const back = Date.now() + 5000
  while (Date.now() < back && !(await state(c).then((s) => s.nodes.length === 2 && s.nodes.every((n) => n.up), () => false))) await new Promise((r) => setTimeout(r, 50))
  assert.ok((await state(c)).nodes.every((n) => n.up), 'the nodes registered with the restarted dispatcher')
})

test('dispatcherIn node0: the dispatcher runs in node 0\'s process; requests are dispatched; node 0 and the dispatcher come back together', async () => {
  const c = await startCluster({ nodes: 3, port: 0, files: 20, cacheDir: cache, restart: 'on-failure', dispatcherIn: 'node0', log })
  clusters.push(c)
  assert.equal(c.children.map((x) => x.role), ['node', 'node', 'node'], 'no process of its own')
  assert.ok((await state(c)).nodes.every((n) => n.up), 'every node registered with it')
  const routes = new Set<string>()
  for (let f = 0; f < 20; f++) {
    const res = await fetch(`${c.nodes[f % 3]}/${f}.txt`)
    assert.is(res.status, 200)
    routes.add(res.headers.get('x-l7-route')!)
    await res.arrayBuffer()
  }
  assert.ok(routes.has('dispatched') || routes.has('handoff'), `decided by the dispatcher: ${[...routes].join(', ')}`)
  assert.not.ok(routes.has('fallback'))
  await c.killDispatcher().then(
    () => assert.unreachable('killDispatcher should refuse'),
    (err: Error) => assert.match(err.message, /inside node 0/),
  )
  const back = c.waitRestarted('dispatcher')
  await c.killNode(0)
  await back
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && !(await state(c).then((s) => s.nodes.length === 3 && s.nodes.every((n) => n.up), () => false))) await new Promise((r) => setTimeout(r, 50))
  assert.ok((await state(c)).nodes.every((n) => n.up), 'every node registered with the restarted dispatcher')
  const res = await fetch(`${c.nodes[1]}/3.txt`)
  assert.is(res.status, 200)
  await res.arrayBuffer()
})

test('dispatcherIn node0 without a dispatcher, or an unknown place: a clear error', async () => {
  await startCluster({ nodes: 1, port: 0, files: 20, cacheDir: cache, dispatcher: false, dispatcherIn: 'node0' }).then(
    (c) => (clusters.push(c), assert.unreachable('started')),
    (err: Error) => assert.match(err.message, /needs a dispatcher/),
  )
  await startCluster({ nodes: 1, port: 0, files: 20, cacheDir: cache, dispatcherIn: 'node7' as never }).then(
    (c) => (clusters.push(c), assert.unreachable('started')),
    (err: Error) => assert.match(err.message, /must be own or node0, got node7/),
  )
})

test('restart no: a killed node is logged and left dead', async () => {
  const c = await startCluster({ nodes: 1, port: 0, files: 20, cacheDir: cache, restart: 'no', log })
  clusters.push(c)
  await c.killNode(0)
  const exit = events.find((e) => e.event === 'child-exit')!
  assert.is(exit.fields.signal, 'SIGKILL')
  assert.is(exit.fields.restartInMs, null)
  await new Promise((r) => setTimeout(r, 400))
  assert.not.ok(events.some((e) => e.event === 'child-restarted'))
})

/** GET on a connection of its own (closed after the answer): status, the serving node, the body. */
function getClosed(url: string): Promise<{ status: number; node: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, timeout: 3000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, node: String(res.headers['x-l7-node']), body: Buffer.concat(chunks) }))
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 3 s')))
    req.on('error', reject)
  })
}

test('--front: every node accepts on the shared address, a restarted node again; the bytes are the file\'s', async () => {
  const c = await startCluster({ nodes: 2, port: 0, front: '127.0.0.1:0', files: 20, cacheDir: cache, restart: 'on-failure', log })
  clusters.push(c)
  const front = c.readyInfo().front
  assert.ok(front && /^http:\/\/127\.0\.0\.1:\d+$/.test(front), `front URL in the ready info: ${front}`)
  const file = await readFile(join(c.docroot, '1.txt'))
  const first = await getClosed(`${front}/1.txt`)
  assert.is(first.status, 200)
  assert.ok(first.body.equals(file), 'byte-exact through the front')
  // With node 0 gone, only node 1 can be accepting: the front must still answer.
  const back0 = c.waitRestarted('node', 0)
  await c.killNode(0)
  for (let i = 0; i < 3; i++) {
    const r = await getClosed(`${front}/1.txt`)
    assert.is(r.status, 200)
    assert.ok(r.body.equals(file))
  }
  await back0
  // And with node 1 gone, only the restarted node 0: it was given the front again.
  await c.killNode(1)
  for (let i = 0; i < 3; i++) {
    const r = await getClosed(`${front}/1.txt`)
    assert.is(r.status, 200)
    assert.is(r.node, '0')
    assert.ok(r.body.equals(file))
  }
})

test('--front on an address already taken: a clear error naming --front, and nothing started', async () => {
  const taken = net.createServer().listen(0, '127.0.0.1')
  await new Promise((r) => taken.once('listening', r))
  const port = (taken.address() as net.AddressInfo).port
  try {
    const failure = (front: string) => startCluster({ nodes: 1, port: 0, front, files: 20, cacheDir: cache, log }).then(
      (c) => (clusters.push(c), 'started'),
      (err: Error) => err.message,
    )
    assert.match(await failure(`127.0.0.1:${port}`), /^--front 127\.0\.0\.1:\d+: cannot bind \(EADDRINUSE\)$/)
    assert.match(await failure('nowhere'), /^--front: expected host:port/)
    assert.is(events.filter((e) => e.event === 'child-exit').length, 0, 'no child was started')
  } finally {
    taken.close()
  }
})

test.run()
