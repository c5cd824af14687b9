// `l7 experiment --testbed`, a short run: one policy, one step of a few users on a 2-node test
// bed with one client machine; every figure the report shows comes from that run (no timing
// assertions). Skipped, with the reason, where the machine cannot make namespaces.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { listNamespaces, testbedUnavailable } from '../testbed/network.js'
import { runTestbedExperiment } from './testbed.js'
import { formatTestbedTable } from './testbed-report.js'

const unavailable = testbedUnavailable()
if (unavailable) {
  console.log(`experiment --testbed spec skipped: ${unavailable}`)
} else {
  test('a short run: served requests, per-host use, a bottleneck, the simulator beside it, nothing left', async () => {
    const report = await runTestbedExperiment({
      policies: ['lard'],
      nodes: 2,
      clients: 1,
      users: [8],
      durationS: 2,
      warmupS: 1,
      linkMbps: 100,
      scale: 10,
      cacheMb: 1,
      disk: { seekMs: 10, mbps: 20 },
      simulate: true,
    })
    assert.is(report.runs.length, 1)
    const run = report.runs[0]
    assert.ok(run.throughput > 0, 'no request served')
    assert.is(run.errors, 0)
    assert.ok(run.latencyMs.count > 0)
    assert.equal(run.hosts.map((h) => h.host).sort(), ['c0', 'd', 'lb', 'n0', 'n1'])
    for (const h of run.hosts.filter((x) => x.role === 'node')) {
      assert.ok(h.link > 0 && h.link < 2, `link use of ${h.host}: ${h.link}`)
      assert.ok(h.cpu !== undefined && h.cpu >= 0 && h.disk !== undefined)
    }
    assert.ok(['link', 'disk', 'cpu'].includes(run.bottleneck.resource))
    assert.ok(run.sim && run.sim.throughput > 0 && run.simError)
    const table = formatTestbedTable(report)
    assert.match(table, /^lard +8 /m)
    // The table's lines fit 100 columns (the paragraphs are wrapped by the terminal).
    for (const line of table.split('\n').slice(0, 4)) assert.ok(line.length <= 100, line)
    assert.is(report.testbeds.length, 1)
    assert.equal(listNamespaces(report.testbeds[0]), [], 'namespaces left behind')
  })
}

test.run()
