import { mkdtempSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { generateSurge, writeWorkloadDir } from '../surge/index.js'
import { surgeObjectSource } from './source.js'

test('SURGE users: objects from the shared sequence, Pareto think times, from l7 and from SURGE files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l7-replay-surge-'))
  try {
    const workload = generateSurge({ files: 40, requests: 50 })
    await writeWorkloadDir(dir, workload, { users: 2 })
    for (const withSummary of [true, false]) {
      if (!withSummary) unlinkSync(join(dir, 'workload.json'))
      const source = await surgeObjectSource(dir, 3, false)
      const seen: number[][] = []
      for (let i = 0; i < 50; i++) {
        const object = source.nextObject(i % 3)
        assert.ok(object, `object ${i}`)
        assert.ok(object!.offMs >= 1000, `think time ${object!.offMs} ms below SURGE's Pareto k = 1 s`)
        seen.push(object!.records.map((record) => Number(/^\/(\d+)\.txt$/.exec(record.url)![1])))
      }
      // The users share one sequence: together they fetch the objects of name.txt in order.
      assert.equal(seen, workload.sequence.map((object) => workload.objects[object]))
      assert.is(source.nextObject(0), undefined)
      assert.ok(source.startOffsetMs!(1) >= 0 && source.startOffsetMs!(1) < 1000)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
