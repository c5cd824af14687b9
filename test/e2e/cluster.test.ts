// End to end on loopback: a dispatcher and 3 nodes as separate processes (l7 cluster's
// library), ephemeral ports, real files on disk.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Pool } from 'undici'
import { startCluster, type RunningCluster } from '../../service/cluster/cluster.js'
import { fileBytes, get, keepAliveSequence, pipelinedSegments, rawExchange } from '../../service/node/testing.js'
import { createScheduler, hashKey } from '../../service/policy/index.js'

const SIZES = [0, 1, 77, 1000, 4096, 65536, 500_000, 3_000_000]
let root = ''
let ds: RunningCluster

function portOf(url: string): number {
  return Number(new URL(url).port)
}

async function fetchRoute(url: string): Promise<{ status: number; node: string; route: string }> {
  const [res] = await rawExchange(portOf(url.slice(0, url.indexOf('/', 8))), get(url.slice(url.indexOf('/', 8))))
  return { status: res.status, node: res.headers['x-l7-node'], route: res.headers['x-l7-route'] }
}

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'l7-e2e-'))
  for (const size of SIZES) await writeFile(join(root, `${size}.bin`), fileBytes(size))
  for (let i = 0; i < 30; i++) await writeFile(join(root, `f${i}.txt`), `file ${i}\n`.repeat(i + 1))
  await writeFile(join(root, 'hot.html'), '<p>hot</p>'.repeat(50))
  await writeFile(join(dirname(root), 'l7-e2e-outside.txt'), 'outside')
  ds = await startCluster({ nodes: 3, port: 0, policy: 'ds', docroot: root, params: { hotThreshold: 50 }, cacheBytes: 8 << 20 })
})

test.after(async () => {
  await ds?.close()
  await rm(root, { recursive: true, force: true })
  await rm(join(dirname(root), 'l7-e2e-outside.txt'), { force: true })
})

test('every response equals the file on disk, 0 B to 3 MB, through every node', async () => {
  for (const size of SIZES) {
    for (const node of ds.nodes) {
      const [res] = await rawExchange(portOf(node), get(`/${size}.bin`))
      assert.is(res.status, 200)
      assert.ok(res.body.equals(fileBytes(size)), `${size} B via ${node}`)
      assert.ok(['local', 'dispatched', 'handoff'].includes(res.headers['x-l7-route']), res.headers['x-l7-route'])
    }
  }
  const metrics = await (await fetch(`${ds.admin[0]}/metrics`)).text()
  assert.match(metrics, /l7_node_dispatcher_rtt_seconds_count\{node="0"\} [1-9]/)
  assert.match(metrics, /l7_node_cache_misses_total\{node="0"\} [1-9]/)
  assert.match(metrics, /l7_node_dispatcher_link_seconds_total\{node="0",state="connected"\} [0-9.]*[1-9]/)
  assert.match(metrics, /l7_node_dispatcher_assign_deadline_seconds\{node="0"\} 0\.\d+/)
})

test('a forged handoff is refused; path traversal gets 400/404, never a file outside the root', async () => {
  const forged = `x-l7-handoff: 1.dispatched.${Date.now()}.${'ab'.repeat(32)}\r\n`
  assert.is((await rawExchange(portOf(ds.nodes[1]), get('/f1.txt', forged)))[0].status, 403)
  assert.is((await rawExchange(portOf(ds.nodes[1]), get('/f1.txt', 'x-l7-handoff: yes\r\n')))[0].status, 403)
  for (const path of ['/../l7-e2e-outside.txt', '/%2e%2e/l7-e2e-outside.txt', '/x/..%2f..%2fl7-e2e-outside.txt', '/f1.txt%00']) {
    const [res] = await rawExchange(portOf(ds.nodes[0]), get(path))
    assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`)
    assert.not.ok(res.body.toString().includes('outside'))
  }
})

test('a hot URL under DS is served locally on more than one node', async () => {
  const pools = ds.nodes.map((url) => new Pool(url, { connections: 8 }))
  const localOn = new Set<string>()
  try {
    for (let round = 0; round < 10 && localOn.size < 2; round++) {
      await Promise.all(
        Array.from({ length: 24 }, async (_, w) => {
          for (let i = 0; i < 40; i++) {
            const res = await pools[(w + i) % 3].request({ method: 'GET', path: '/hot.html' })
            await res.body.text()
            assert.is(res.statusCode, 200)
            if (res.headers['x-l7-route'] === 'local') localOn.add(String(res.headers['x-l7-node']))
          }
        }),
      )
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()))
  }
  assert.ok(localOn.size >= 2, `local on ${[...localOn].join(',')}`)
})

test('dispatcher killed: requests answered with fallback; restarted: dispatched/local again', async () => {
  await ds.killDispatcher()
  await new Promise((r) => setTimeout(r, 300))
  const during: string[] = []
  for (let i = 0; i < 12; i++) {
    const r = await fetchRoute(`${ds.nodes[i % 3]}/f${i}.txt`)
    assert.is(r.status, 200)
    during.push(r.route)
  }
  assert.ok(during.every((r) => r === 'fallback' || r === 'local'), during.join(','))
  assert.ok(during.includes('fallback'))
  await ds.restartDispatcher()
  let back = false
  for (let attempt = 0; attempt < 80 && !back; attempt++) {
    const r = await fetchRoute(`${ds.nodes[attempt % 3]}/f${attempt % 30}.txt`)
    assert.is(r.status, 200)
    back = r.route === 'dispatched' || r.route === 'handoff'
    if (!back) await new Promise((res) => setTimeout(res, 100))
  }
  assert.ok(back, 'routes went back to the dispatcher')
})

test('a node killed mid-run: every request is still answered', async () => {
  const pools = [new Pool(ds.nodes[0], { connections: 4 }), new Pool(ds.nodes[1], { connections: 4 })]
  let answered = 0
  let killed: Promise<void> | null = null
  try {
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 40; i++) {
          if (w === 0 && i === 10) killed = ds.killNode(2)
          const f = (w * 7 + i) % 30
          const res = await pools[(w + i) % 2].request({ method: 'GET', path: `/f${f}.txt` })
          const body = await res.body.text()
          assert.is(res.statusCode, 200)
          assert.is(body, `file ${f}\n`.repeat(f + 1))
          answered++
        }
      }),
    )
    await killed
  } finally {
    await Promise.all(pools.map((p) => p.close()))
  }
  assert.is(answered, 320)
})

test('requests for one URL sent to every node are served by the node the policy chose; keep-alive requests each on their own', async () => {
  // chbl: content-aware and sticky with every load at 0, so sequential requests (with a pause
  // that lets each DONE reach the dispatcher) make the decisions deterministic.
  const chbl = await startCluster({ nodes: 3, port: 0, policy: 'chbl', docroot: root, handoff: 'fd' })
  const reference = createScheduler('chbl', {}, 'ts')
  const owner: number[] = []
  try {
    for (let n = 0; n < 3; n++) reference.addNode(n)
    for (let f = 0; f < 12; f++) {
      for (let n = 0; n < 3; n++) {
        const r = await fetchRoute(`${chbl.nodes[n]}/f${f}.txt`)
        await new Promise((res) => setTimeout(res, 15))
        const q = reference.requests
        q.receiving[0] = n
        q.hash[0] = hashKey(`/f${f}.txt`)
        q.timeUs[0] = performance.now() * 1000
        q.reportedLoad[0] = 0
        reference.decide(1)
        const chosen = q.chosen[0]
        reference.dones.node[0] = chosen
        reference.dones.hash[0] = q.hash[0]
        reference.done(1)
        assert.is(r.node, String(chosen), `/f${f}.txt via node ${n}`)
        assert.is(r.route, chosen === n ? 'dispatched' : 'handoff')
        owner[f] = chosen
      }
    }
    assert.ok(new Set(owner).size > 1, 'the targets are spread over several nodes')
    // One persistent connection (handed from node to node by fd passing): every request is
    // routed on its own and served by its target's node.
    const responses = await keepAliveSequence(portOf(chbl.nodes[0]), owner.map((_, f) => get(`/f${f}.txt`, '', '1.1')), 15)
    responses.forEach((res, f) => {
      assert.is(res.headers['x-l7-node'], String(owner[f]), `/f${f}.txt on one connection`)
      assert.is(res.body.toString(), `file ${f}\n`.repeat(f + 1))
    })
    // The same requests pipelined, each in its own segment, without waiting: the connection
    // moves from node to node with every byte the client sent, and every response lands in
    // its own slot.
    for (const gap of [0, 2]) {
      const pipelined = await pipelinedSegments(portOf(chbl.nodes[0]), owner.map((_, f) => get(`/f${f}.txt`, '', '1.1')), gap)
      assert.is(pipelined.length, owner.length, `gap ${gap} ms`)
      pipelined.forEach((res, f) => {
        assert.is(res.body.toString(), `file ${f}\n`.repeat(f + 1), `/f${f}.txt pipelined, gap ${gap} ms`)
        assert.is(res.headers['x-l7-node'], String(owner[f]))
      })
    }
    // Files of every size, pipelined in separate segments: byte for byte whichever way each
    // request goes (a pass, or the relay while a large response is still being written).
    const sized = SIZES.map((size) => `/${size}.bin`)
    for (const via of chbl.nodes) {
      const pipelined = await pipelinedSegments(portOf(via), sized.map((p) => get(p, '', '1.1')), 1)
      assert.is(pipelined.length, SIZES.length)
      pipelined.forEach((res, i) => assert.ok(res.body.equals(fileBytes(SIZES[i])), `${sized[i]} pipelined via ${via}`))
    }
    // Every socket went straight from node to node over their channels, none through the parent.
    let direct = 0
    for (const admin of chbl.admin) {
      const metrics = await (await fetch(`${admin}/metrics`)).text()
      assert.match(metrics, /l7_node_fd_passes_total\{node="\d",via="parent"\} 0\n/)
      direct += Number(/l7_node_fd_passes_total\{node="\d",via="sibling"\} (\d+)/.exec(metrics)![1])
    }
    assert.ok(direct >= 12, `${direct} direct passes`)
  } finally {
    reference.close()
    await chbl.close()
  }
})

test('through the relay: pipelined segments, Expect: 100-continue and spelled-out paths, every byte in its place', async () => {
  const paths = SIZES.map((s) => `/${s}.bin`).concat(['/f3.txt', '/f4.txt', '/hot.html'])
  const expected = (p: string) => (p.endsWith('.bin') ? fileBytes(Number(p.slice(1, -4))) : null)
  // Node 2 was killed above: nodes 0 and 1 remain.
  for (const node of ds.nodes.slice(0, 2)) {
    const responses = await pipelinedSegments(portOf(node), paths.map((p) => get(p, '', '1.1')), 1)
    assert.is(responses.length, paths.length)
    responses.forEach((res, i) => {
      const want = expected(paths[i])
      if (want) assert.ok(res.body.equals(want), `${paths[i]} via ${node}`)
      else assert.is(res.status, 200)
    })
  }
  const routes: string[] = []
  for (let i = 0; i < 30; i++) {
    const [res] = await rawExchange(portOf(ds.nodes[i % 2]), get(`/f${i}.txt`, 'Expect: 100-continue\r\n', '1.1'))
    assert.is(res.status, 200)
    assert.is(res.body.toString(), `file ${i}\n`.repeat(i + 1))
    routes.push(res.headers['x-l7-route'])
  }
  assert.not.ok(routes.includes('fallback'), routes.join(','))
  // One file, one owner: spellings of the same path are served by the same node.
  const owners = new Set<string>()
  for (const spelled of ['/f7.txt', '//f7.txt', '/./f7.txt', '/%66%37.txt']) {
    const [res] = await rawExchange(portOf(ds.nodes[1]), get(spelled, '', '1.1'))
    assert.is(res.body.toString(), `file 7\n`.repeat(8), spelled)
    owners.add(res.headers['x-l7-node'])
  }
  assert.is(owners.size, 1, [...owners].join(','))
})

test('the cluster leaves no process behind', async () => {
  const pids = ds.children.map((c) => c.process.pid!)
  await ds.close()
  for (const pid of pids) {
    let alive = true
    try {
      process.kill(pid, 0)
    } catch {
      alive = false
    }
    assert.not.ok(alive, `child ${pid} still running`)
  }
  const served = await readFile(join(root, '1000.bin'))
  assert.is(served.length, 1000)
})

test.run()
