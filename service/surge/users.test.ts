import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { generateSurge } from './generate.js'
import { createSurgeUsers, surgeTraceRecords } from './users.js'

const workload = generateSurge({ files: 200, requests: 500, seed: 12 })

test('users share one cursor over the sequence; wrap starts it again', () => {
  const [a, b] = createSurgeUsers(workload, 2)
  const first = a.nextVisit()!
  const second = b.nextVisit()!
  assert.equal([first.position, second.position], [0, 1])
  assert.equal([first.object, second.object], workload.sequence.slice(0, 2))
  assert.equal(first.files.map((f) => f.url), workload.objects[first.object].map((i) => `/${i}.txt`))
  let visits = 2
  while (a.nextVisit()) visits++
  assert.is(visits, 500)
  assert.is(b.nextVisit(), undefined)
  const [c] = createSurgeUsers(workload, 1, { wrap: true })
  for (let i = 0; i < 500; i++) c.nextVisit()
  assert.is(c.nextVisit()!.position, 0)
})

test('a user\'s OFF times do not depend on how many users there are', () => {
  const alone = createSurgeUsers(workload, 1)[0]
  const crowd = createSurgeUsers(workload, 50)[0]
  assert.is(alone.startUs, crowd.startUs)
  assert.equal([alone.drawThinkUs(), alone.drawThinkUs()], [crowd.drawThinkUs(), crowd.drawThinkUs()])
})

test('the timed trace: each user waits at least the think time minimum (1 s) between objects', () => {
  const lastTime = new Map<number, number>()
  let records = 0
  for (const r of surgeTraceRecords(workload, { users: 20 })) {
    const previous = lastTime.get(r.user)
    if (previous !== undefined && r.timeUs !== previous) assert.ok(r.timeUs - previous >= 1e6, `user ${r.user}: ${r.timeUs - previous} us`)
    lastTime.set(r.user, r.timeUs)
    records++
  }
  assert.is(records, workload.sequence.reduce((n, o) => n + workload.objects[o].length, 0))
  assert.is(lastTime.size, 20)
})

test('with active OFF times an object\'s files are spread out in time', () => {
  const spread = generateSurge({ files: 200, requests: 200, seed: 12, activeOff: { scale: 1.46, shape: 0.382 } })
  const times = new Map<string, Set<number>>()
  for (const r of surgeTraceRecords(spread, { users: 1 })) {
    const key = String(r.user)
    if (!times.has(key)) times.set(key, new Set())
    times.get(key)!.add(r.timeUs)
  }
  const records = spread.sequence.reduce((n, o) => n + spread.objects[o].length, 0)
  assert.ok(times.get('0')!.size > 200, 'more distinct times than objects')
  assert.ok(times.get('0')!.size <= records)
})

test.run()
