// The routing stage with a stand-in dispatcher link: reusing a recent answer (reuseMs) and
// what each decision releases when its request ends.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RECENT_ASSIGNMENT_SLOTS } from '../policy/recent-assignments.js'
import type { LocalTable, PolicyName } from '../policy/types.js'
import { NodeMetrics } from './metrics.js'
import { Router, type ControlLink, type Decision } from './route.js'

/** A dispatcher link that answers `answer(hash)` and records what it was asked and told. */
class StubLink implements ControlLink {
  connected = true
  policy: PolicyName | null = 'lard'
  localTable: LocalTable | null = null
  reuseMs: number | undefined
  epoch = 0
  asked: number[] = []
  dones: number[] = []
  constructor(
    reuseMs: number | undefined,
    public answer: (hash: number) => number,
  ) {
    this.reuseMs = reuseMs
  }
  ready = async () => {}
  assign = async (hash: number) => {
    this.asked.push(hash)
    return this.answer(hash)
  }
  done = (hash: number) => void this.dones.push(hash)
  reportLocal = () => {}
  close = async () => {}
}

const SELF = 0

function routerWith(link: StubLink, peers = [1, 2]): Router {
  const router = new Router({ self: SELF, metrics: new NodeMetrics(), load: () => 0 })
  router.setPeers(peers)
  router.link = link
  return router
}

const decide = async (router: Router, hash: number): Promise<Decision> => router.decide(hash, '/x')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('off by default: every request asks the dispatcher (reuseMs absent or 0)', async () => {
  for (const reuseMs of [undefined, 0]) {
    const link = new StubLink(reuseMs, () => 1)
    const router = routerWith(link)
    for (let i = 0; i < 5; i++) assert.equal(await decide(router, 42), { node: 1, route: 'dispatched' })
    assert.is(link.asked.length, 5, `reuseMs ${reuseMs}`)
    router.close()
  }
})

test('within the window the answer is reused without asking; after it, the dispatcher is asked again', async () => {
  const link = new StubLink(40, () => 2)
  const router = routerWith(link)
  assert.equal(await decide(router, 7), { node: 2, route: 'dispatched' })
  assert.equal(await decide(router, 7), { node: 2, route: 'reused' })
  assert.equal(await decide(router, 7), { node: 2, route: 'reused' })
  assert.equal(await decide(router, 8), { node: 2, route: 'dispatched' }, 'another target asks')
  assert.is(link.asked.length, 2)
  await sleep(60)
  link.answer = () => 1
  assert.equal(await decide(router, 7), { node: 1, route: 'dispatched' }, 'expired: asked, and the new answer is taken')
  assert.equal(await decide(router, 7), { node: 1, route: 'reused' })
  assert.is(link.asked.length, 3)
  router.close()
})

test('this node\'s own answer is reused too, served here as reused', async () => {
  const link = new StubLink(1000, () => SELF)
  const router = routerWith(link)
  assert.equal(await decide(router, 5), { node: SELF, route: 'dispatched' })
  assert.equal(await decide(router, 5), { node: SELF, route: 'reused' })
  router.close()
})

test('eviction: a target in the same slot replaces the older answer, which then asks again', async () => {
  const link = new StubLink(1000, () => 1)
  const router = routerWith(link)
  await decide(router, 3)
  await decide(router, 3 + RECENT_ASSIGNMENT_SLOTS)
  assert.equal(await decide(router, 3), { node: 1, route: 'dispatched' })
  assert.is(link.asked.length, 3)
  router.close()
})

test('a failed peer, a peer that left, or one never known is not reused', async () => {
  const link = new StubLink(1000, () => 1)
  const router = routerWith(link)
  await decide(router, 9)
  assert.is((await decide(router, 9)).route, 'reused')
  router.peerFailed(1)
  assert.is((await decide(router, 9)).route, 'dispatched', 'failed: asked again')
  // The dispatcher does not know yet and names node 1 again: remembered, but not reused
  // while the node is left out after its failure.
  assert.is((await decide(router, 9)).route, 'dispatched')
  assert.is(link.asked.length, 3)

  const other = new StubLink(1000, () => 2)
  const second = routerWith(other)
  await decide(second, 11)
  second.setPeers([1])
  assert.is((await decide(second, 11)).route, 'fallback', 'node 2 left: the dispatcher\'s stale answer is served here, and not remembered')
  assert.is((await decide(second, 11)).route, 'fallback')
  assert.is(other.asked.length, 3)
  router.close()
  second.close()
})

test('a new link epoch (membership, WELCOME, state change) and a lost link drop every answer', async () => {
  const link = new StubLink(1000, () => 1)
  const router = routerWith(link)
  await decide(router, 4)
  assert.is((await decide(router, 4)).route, 'reused')
  link.epoch++
  assert.is((await decide(router, 4)).route, 'dispatched')
  assert.is((await decide(router, 4)).route, 'reused')
  link.connected = false
  assert.is((await decide(router, 4)).route, 'fallback', 'suspect or unreachable: fallback, never a reused answer')
  link.connected = true
  assert.is((await decide(router, 4)).route, 'dispatched', 'back: asked first')
  router.close()
})

test('a new window from a WELCOME replaces the table', async () => {
  const link = new StubLink(1000, () => 1)
  const router = routerWith(link)
  await decide(router, 6)
  link.reuseMs = 500
  assert.is((await decide(router, 6)).route, 'dispatched')
  assert.is((await decide(router, 6)).route, 'reused')
  link.reuseMs = 0
  assert.is((await decide(router, 6)).route, 'dispatched', 'off again: asks')
  router.close()
})

test('DONE only for what the dispatcher counted: dispatched here or handed in, never a reused decision', () => {
  const link = new StubLink(1000, () => 1)
  const router = routerWith(link)
  router.finished(1, { node: SELF, route: 'dispatched' })
  router.finished(2, { node: SELF, route: 'handoff-in' })
  router.finished(3, { node: SELF, route: 'reused' })
  router.finished(4, { node: SELF, route: 'reused-in' })
  router.finished(5, { node: 1, route: 'dispatched' }) // handed off: the peer sends the DONE
  router.finished(6, { node: 1, route: 'reused' })
  assert.equal(link.dones, [1, 2])
  router.close()
})

test.run()
