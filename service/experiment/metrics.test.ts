import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { difference, dispatcherCounters, nodeCounters, sumMetric } from './metrics.js'

const NODE = `# HELP l7_node_requests_total Requests answered by this node, by route.
# TYPE l7_node_requests_total counter
l7_node_requests_total{node="0",route="local"} 5
l7_node_requests_total{node="0",route="dispatched"} 7
l7_node_requests_total{node="0",route="handoff"} 3
l7_node_requests_total{node="0",route="fallback"} 0
l7_node_requests_total{node="0",route="reused"} 2
l7_node_requests_total_extra{node="0"} 1000
l7_node_cache_hits_total{node="0"} 12
l7_node_cache_misses_total{node="0"} 3
l7_node_handoffs_total{node="0",direction="out",mechanism="relay"} 2
l7_node_handoffs_total{node="0",direction="in",mechanism="relay"} 3
l7_node_handoffs_total{node="0",direction="in",mechanism="fd"} 1
`

test('sums a metric over the label sets that match, and no other metric', () => {
  assert.is(sumMetric(NODE, 'l7_node_requests_total'), 17)
  assert.is(sumMetric(NODE, 'l7_node_requests_total', { route: 'local' }), 5)
  assert.is(sumMetric(NODE, 'l7_node_handoffs_total', { direction: 'in' }), 4)
  assert.is(sumMetric(NODE, 'l7_absent_total'), 0)
  assert.is(sumMetric('plain_gauge 4.5\n', 'plain_gauge'), 4.5)
})

test('node and dispatcher counters, and their difference between two snapshots', () => {
  const n = nodeCounters(NODE)
  assert.equal(n, { requests: 17, local: 5, dispatched: 7, reused: 2, handoffIn: 4, handoffOut: 2, fallback: 0, hits: 12, misses: 3 })
  const d1 = dispatcherCounters('l7_dispatcher_frames_total{type="ASSIGN"} 10\nl7_dispatcher_frames_total{type="DONE"} 4\nl7_dispatcher_frames_total{type="HEARTBEAT"} 9\nl7_dispatcher_decisions_total{policy="ds",impl="wasm"} 30\nl7_dispatcher_batch_size_count 10\nl7_dispatcher_local_served_total 2\n')
  assert.equal(d1, { assignFrames: 10, doneFrames: 4, decisions: 30, batches: 10, localServed: 2 })
  const d0 = dispatcherCounters('l7_dispatcher_frames_total{type="ASSIGN"} 4\nl7_dispatcher_decisions_total{policy="ds",impl="wasm"} 6\n')
  assert.equal(difference(d1, d0), { assignFrames: 6, doneFrames: 4, decisions: 24, batches: 10, localServed: 2 })
})

test.run()
