import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RateLimitedLog } from './log-limit.js'
import { recordingLog } from './testing.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('the first event is logged in full, a flood gives one summary per interval, a quiet interval resets', async () => {
  const { log, records } = recordingLog()
  const limited = new RateLimitedLog(log, 'refused', 60)
  for (let i = 0; i < 1000; i++) limited.note('warn', i % 3 === 0 ? 'BAD_TOKEN' : 'HELLO_TIMEOUT', { remote: `r${i}` })
  assert.is(records.length, 1)
  assert.equal(records[0], { level: 'warn', event: 'refused', fields: { reason: 'BAD_TOKEN', remote: 'r0' } })
  await sleep(90)
  assert.is(records.length, 2)
  assert.is(records[1].event, 'refused-summary')
  assert.equal(records[1].fields, { suppressed: 999, reasons: { BAD_TOKEN: 333, HELLO_TIMEOUT: 666 }, intervalMs: 60 })
  limited.note('warn', 'BAD_TOKEN', { remote: 'x' }) // still inside the next window: counted
  assert.is(records.length, 2)
  await sleep(150) // one summary for it, then a quiet window closes
  assert.is(records.length, 3)
  assert.is(records[2].fields.suppressed, 1)
  limited.note('warn', 'BAD_TOKEN', { remote: 'y' })
  assert.is(records.length, 4, 'after a quiet interval the next one is logged in full')
  assert.is(records[3].fields.remote, 'y')
  limited.note('warn', 'BAD_TOKEN', { remote: 'z' })
  limited.flush()
  assert.is(records.length, 5)
  assert.is(records[4].fields.suppressed, 1)
})

test.run()
