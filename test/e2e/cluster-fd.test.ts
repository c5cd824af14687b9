// fd passing straight between sibling nodes (l7 cluster --handoff fd, chbl with a dispatcher,
// restart on failure): a node that stops and dies with clients passed to it, and the channels
// of the node that replaces it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCluster, type RunningCluster } from '../../service/cluster/cluster.js'
import { get, pipelinedSegments, rawExchange } from '../../service/node/testing.js'

let root = ''
let cluster: RunningCluster
const FILES = 24
const body = (f: number) => `file ${f}\n`.repeat(f + 1)

function portOf(url: string): number {
  return Number(new URL(url).port)
}

async function metric(node: number, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${cluster.admin[node]}/metrics`)).text()
  const m = pattern.exec(text)
  if (!m) throw new Error(`${pattern} not in node ${node}'s metrics`)
  return Number(m[1])
}
const viaParent = (n: number) => metric(n, /l7_node_fd_passes_total\{node="\d+",via="parent"\} (\d+)/)
const viaSibling = (n: number) => metric(n, /l7_node_fd_passes_total\{node="\d+",via="sibling"\} (\d+)/)
const takenBack = (n: number) => metric(n, /l7_node_fd_passes_taken_back_total\{node="\d+"\} (\d+)/)

/** Which node serves each file, asked through node `via`. */
async function owners(via: number): Promise<number[]> {
  const owner: number[] = []
  for (let f = 0; f < FILES; f++) {
    const [res] = await rawExchange(portOf(cluster.nodes[via]), get(`/f${f}.txt`))
    assert.is(res.status, 200)
    assert.is(res.body.toString(), body(f))
    owner.push(Number(res.headers['x-l7-node']))
  }
  return owner
}

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'l7-e2e-fd-'))
  for (let f = 0; f < FILES; f++) await writeFile(join(root, `f${f}.txt`), body(f))
  cluster = await startCluster({ nodes: 3, port: 0, policy: 'chbl', docroot: root, handoff: 'fd', restart: 'on-failure', log: () => {} })
})

test.after(async () => {
  await cluster?.close()
  await rm(root, { recursive: true, force: true })
})

test('a node stopped with clients passed to it, then killed: each client is answered by the node that passed it', async () => {
  const owner = await owners(0)
  const toNode2 = owner.flatMap((n, f) => (n === 2 ? [f] : []))
  assert.ok(toNode2.length >= 2, `files on node 2: ${toNode2.join(',')}`)
  const passedBefore = (await viaSibling(0)) + (await viaSibling(1))
  const node2 = cluster.children.find((c) => c.role === 'node' && c.id === 2)!.process
  node2.kill('SIGSTOP')
  try {
    const answers = toNode2.flatMap((f) => [0, 1].map((via) => rawExchange(portOf(cluster.nodes[via]), get(`/f${f}.txt`), 1, [], 8000).then((r) => ({ f, r }))))
    // Wait until clients sit passed and unacknowledged in node 2's channel queues.
    const deadline = performance.now() + 3000
    while ((await viaSibling(0)) + (await viaSibling(1)) === passedBefore && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.ok((await viaSibling(0)) + (await viaSibling(1)) > passedBefore, 'clients were passed to the stopped node')
    node2.kill('SIGKILL')
    for (const { f, r } of await Promise.all(answers)) {
      assert.is(r.length, 1, `/f${f}.txt answered`)
      assert.is(r[0].status, 200)
      assert.is(r[0].body.toString(), body(f))
      assert.ok(r[0].headers['x-l7-node'] !== '2')
    }
  } finally {
    if (node2.exitCode === null && node2.signalCode === null) node2.kill('SIGKILL')
  }
  assert.ok((await takenBack(0)) + (await takenBack(1)) > 0, 'some clients came back from the dead node and were served by their sender')
})

test('the restarted node gets direct channels to every sibling: nothing goes through the parent afterwards', async () => {
  await cluster.waitRestarted('node', 2, 15_000)
  const parentBefore = [await viaParent(0), await viaParent(1)]
  const siblingBefore = [await viaSibling(0), await viaSibling(1), await viaSibling(2)]
  // Let the dispatcher see node 2 again, then every file through every node.
  let owner: number[] = []
  for (let attempt = 0; attempt < 50; attempt++) {
    owner = await owners(0)
    if (owner.includes(2)) break
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.ok(owner.includes(2), 'node 2 serves again')
  for (const via of [1, 2]) {
    const seen = await owners(via)
    assert.ok(seen.some((n) => n !== via), `node ${via} handed some files on`)
  }
  assert.equal([await viaParent(0), await viaParent(1), await viaParent(2)], [...parentBefore, 0])
  const siblingAfter = [await viaSibling(0), await viaSibling(1), await viaSibling(2)]
  assert.ok(siblingAfter[2] > 0, 'node 2 passed clients straight to its siblings')
  assert.ok(siblingAfter[0] + siblingAfter[1] > siblingBefore[0] + siblingBefore[1], 'the others passed clients straight on')
})

test('without direct channels every socket goes through the parent, and still nothing is lost or misplaced', async () => {
  const viaParentOnly = await startCluster({ nodes: 3, port: 0, policy: 'chbl', docroot: root, handoff: 'fd', fdChannels: false, log: () => {} })
  try {
    for (const gap of [0, 2]) {
      const responses = await pipelinedSegments(
        portOf(viaParentOnly.nodes[0]),
        Array.from({ length: FILES }, (_, f) => get(`/f${f}.txt`, '', '1.1')),
        gap,
      )
      assert.is(responses.length, FILES)
      responses.forEach((res, f) => assert.is(res.body.toString(), body(f), `/f${f}.txt, gap ${gap} ms`))
    }
    let parent = 0
    for (const admin of viaParentOnly.admin) {
      const text = await (await fetch(`${admin}/metrics`)).text()
      assert.match(text, /l7_node_fd_passes_total\{node="\d",via="sibling"\} 0\n/)
      parent += Number(/l7_node_fd_passes_total\{node="\d",via="parent"\} (\d+)/.exec(text)![1])
    }
    assert.ok(parent > 0, `${parent} passes through the parent`)
  } finally {
    await viaParentOnly.close()
  }
})

test.run()
