// A cluster without a dispatcher (static membership, chbl on every node), handoff by
// passing the client socket between sibling processes: responses leave from the chosen node.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startCluster, type RunningCluster } from '../../service/cluster/cluster.js'
import { get, rawExchange } from '../../service/node/testing.js'

let cluster: RunningCluster

test.before(async () => {
  cluster = await startCluster({ nodes: 3, port: 0, files: 60, dispatcher: false, handoff: 'fd', cacheBytes: 4 << 20 })
})

test.after(async () => {
  await cluster.close()
})

function portOf(url: string): number {
  return Number(new URL(url).port)
}

test('fd handoff: bytes equal the files, served by several nodes, keep-alive survives handoffs', async () => {
  const servedBy = new Set<string>()
  for (let f = 0; f < 60; f++) {
    const [res] = await rawExchange(portOf(cluster.nodes[f % 3]), get(`/${f}.txt`))
    assert.is(res.status, 200)
    assert.ok(res.body.equals(await readFile(join(cluster.docroot, `${f}.txt`))), `file ${f}`)
    assert.is(res.headers['x-l7-route'], 'fallback')
    servedBy.add(res.headers['x-l7-node'])
  }
  assert.is(servedBy.size, 3)
  const metrics = await (await fetch(`${cluster.admin[0]}/metrics`)).text()
  assert.match(metrics, /l7_node_handoffs_total\{node="0",direction="out",mechanism="fd"\} [1-9]/)
  assert.match(metrics, /l7_node_handoffs_total\{node="0",direction="out",mechanism="relay"\} 0/)
  // Straight to the sibling: the cluster parent relays none.
  assert.match(metrics, /l7_node_fd_passes_total\{node="0",via="sibling"\} [1-9]/)
  assert.match(metrics, /l7_node_fd_passes_total\{node="0",via="parent"\} 0/)
  const req = Array.from({ length: 12 }, (_, f) => get(`/${f}.txt`, '', '1.1')).join('')
  const res = await rawExchange(portOf(cluster.nodes[0]), req, 12)
  assert.is(res.length, 12)
  for (let f = 0; f < 12; f++) assert.ok(res[f].body.equals(await readFile(join(cluster.docroot, `${f}.txt`))))
})

test('a node killed mid-run: requests to the others are still answered', async () => {
  await cluster.killNode(2)
  for (let f = 0; f < 30; f++) {
    const [res] = await rawExchange(portOf(cluster.nodes[f % 2]), get(`/${f}.txt`))
    assert.is(res.status, 200, `file ${f}`)
    assert.ok(res.headers['x-l7-node'] !== '2')
  }
})

test('a node restarted without a dispatcher learns its peers again and hands off as before', async () => {
  const c = await startCluster({ nodes: 3, port: 0, files: 60, dispatcher: false, restart: 'on-failure', cacheBytes: 4 << 20, log: () => {} })
  try {
    const back = c.waitRestarted('node', 0)
    await c.killNode(0)
    await back
    const servedBy = new Set<string>()
    for (let f = 0; f < 30; f++) {
      const [res] = await rawExchange(portOf(c.nodes[0]), get(`/${f}.txt`))
      assert.is(res.status, 200, `file ${f}`)
      servedBy.add(res.headers['x-l7-node'])
    }
    // Alone (no peers), node 0 would serve every file itself.
    assert.is(servedBy.size, 3, `served by ${[...servedBy].join(', ')}`)
  } finally {
    await c.close()
  }
})

test.run()
