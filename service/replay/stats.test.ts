import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { initHistograms } from './histograms.js'
import { RunStats } from './stats.js'

test('recorded percentiles match known latencies (from the scheduled time) to HdrHistogram precision', async () => {
  await initHistograms()
  const stats = new RunStats(['http://a'], 0)
  try {
    // Latencies 1..1000 ms, measured from the scheduled time; each was sent 0.5 ms late.
    for (let i = 1; i <= 1000; i++) {
      const scheduledMs = i * 10
      stats.countSend(0, 0.5, scheduledMs + 0.5)
      stats.countResponse(0, 200, 100, scheduledMs, scheduledMs + 0.5, scheduledMs + i, undefined)
    }
    const { perTarget } = stats.groups()
    const close = (actual: number, expected: number): void =>
      assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${actual} is not ${expected}`)
    const latency = perTarget[0].latencyMs
    close(latency.p50, 500)
    close(latency.p90, 900)
    close(latency.p99, 990)
    close(latency.p999, 999)
    close(latency.max, 1000)
    assert.is(latency.count, 1000)
    close(stats.service.getValueAtPercentile(50) / 1000, 499.5)
    close(stats.sendLag.getValueAtPercentile(99) / 1000, 0.5)
    assert.is(stats.ok, 1000)
    // The last response completes at 11.0 s (scheduled at 10 s, 1 s latency): seconds 0..11.
    assert.is(stats.timeline().length, 12)
  } finally {
    stats.destroy()
  }
})

test.run()
