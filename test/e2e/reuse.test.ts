// End to end with reuseMs (ours, off by default): a dispatcher and 2 nodes as processes, a burst
// of requests over keep-alive connections to both nodes. Responses stay byte-exact; some
// requests reuse a recent answer (route `reused`), the rest ask; the dispatcher gets exactly
// one DONE per request it decided and none for a reused one, so its load returns to 0, with
// --handoff fd too (the fd channel's PASS frame carries the reused route to the sibling).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCluster } from '../../service/cluster/cluster.js'
import { fileBytes, get, keepAliveSequence } from '../../service/node/testing.js'

const FILES = 6
const size = (f: number) => 100 + 7000 * f
let root = ''

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'l7-e2e-reuse-'))
  for (let f = 0; f < FILES; f++) await writeFile(join(root, `r${f}.bin`), fileBytes(size(f)))
})

test.after(async () => {
  await rm(root, { recursive: true, force: true })
})

function counter(text: string, name: string): number {
  let sum = 0
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))) sum += Number(m[1])
  return sum
}

for (const [policy, handoff] of [
  ['lard', 'relay'],
  ['ds', 'fd'],
] as const) {
  test(`${policy}, ${handoff}, reuseMs=300: byte-exact, reused and asked requests, one DONE per decision, the dispatcher's load back to 0`, async () => {
    const cluster = await startCluster({ nodes: 2, port: 0, policy, docroot: root, handoff, params: { reuseMs: 300 }, cacheBytes: 8 << 20 })
    try {
      const state = async () => (await fetch(`${cluster.dispatcherAdmin}/state`)).json() as Promise<{ params: { reuseMs: number }; nodes: { id: number; load: number }[] }>
      assert.is((await state()).params.reuseMs, 300)
      // 2 nodes x 4 connections x 24 requests, all at once, over every file in turn.
      const sequences: Promise<{ f: number; res: Awaited<ReturnType<typeof keepAliveSequence>>[number] }[]>[] = []
      for (const node of cluster.nodes) {
        const port = Number(new URL(node).port)
        for (let c = 0; c < 4; c++) {
          const files = Array.from({ length: 24 }, (_, i) => (i + c) % FILES)
          sequences.push(keepAliveSequence(port, files.map((f) => get(`/r${f}.bin`, '', '1.1'))).then((rs) => rs.map((res, i) => ({ f: files[i], res }))))
        }
      }
      const routes: Record<string, number> = {}
      for (const { f, res } of (await Promise.all(sequences)).flat()) {
        assert.is(res.status, 200)
        assert.ok(res.body.equals(fileBytes(size(f))), `/r${f}.bin`)
        routes[res.headers['x-l7-route']] = (routes[res.headers['x-l7-route']] ?? 0) + 1
      }
      const total = 2 * 4 * 24
      assert.is(Object.values(routes).reduce((a, b) => a + b, 0), total)
      assert.ok((routes.reused ?? 0) > 0, `some requests reused an answer: ${JSON.stringify(routes)}`)
      assert.not.ok(routes.fallback, JSON.stringify(routes))

      // The dispatcher counted what it decided and got a DONE for each; the nodes' DONEs leave
      // with their next flush, so give them a moment.
      const dispatcherMetrics = () => fetch(`${cluster.dispatcherAdmin}/metrics`).then((r) => r.text())
      let text = ''
      let loads: number[] = []
      const deadline = Date.now() + 3000
      do {
        await new Promise((resolve) => setTimeout(resolve, 50))
        text = await dispatcherMetrics()
        loads = (await state()).nodes.map((n) => n.load)
      } while ((counter(text, 'l7_dispatcher_done_records_total') < counter(text, 'l7_dispatcher_decisions_total') || loads.some((l) => l !== 0)) && Date.now() < deadline)
      const decisions = counter(text, 'l7_dispatcher_decisions_total')
      assert.equal(loads, [0, 0], `the dispatcher's load per node after the burst`)
      assert.is(counter(text, 'l7_dispatcher_done_records_total'), decisions, 'one DONE per decision, none for a reused request')
      // Every decision was served as dispatched (here) or handoff (at the peer); the rest reused
      // an answer or were served by DS's local path.
      assert.is((routes.dispatched ?? 0) + (routes.handoff ?? 0), decisions, JSON.stringify(routes))
      assert.is((routes.reused ?? 0) + (routes.local ?? 0), total - decisions)
      let reusedOnNodes = 0
      for (const admin of cluster.admin) reusedOnNodes += counter(await fetch(`${admin}/metrics`).then((r) => r.text()), 'l7_node_requests_total\\{[^}]*route="reused"\\}')
      assert.is(reusedOnNodes, routes.reused, '/metrics counts the reused route')
    } finally {
      await cluster.close()
    }
  })
}

test.run()
