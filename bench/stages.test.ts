import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatStagesBench, runStagesBench } from './stages.js'

test('every stage is measured, the parser against llhttp; a short run, no timing asserted', async () => {
  const result = await runStagesBench({ iterations: 200, rounds: 1 })
  const stages = new Set(result.figures.map((f) => f.stage))
  for (const stage of ['front', 'route', 'relay', 'handoff', 'control']) assert.ok(stages.has(stage), stage)
  for (const f of result.figures) assert.ok(Number.isFinite(f.nsPerOp) && f.nsPerOp > 0, f.operation)
  const parser = result.figures.find((f) => f.stage === 'front')!
  assert.ok(parser.peerNsPerOp! > 0 && parser.ratio! > 0)
  assert.match(formatStagesBench(result), /llhttp/)
})

test.run()
