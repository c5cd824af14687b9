import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { escapeLabel, PrometheusText } from './prometheus.js'

test('families: HELP only when given, labels in braces, none without', () => {
  const text = new PrometheusText()
    .family('a_total', 'counter', 'As.', [['x="1"', 2]])
    .family('b', 'gauge', undefined, [['', 3]])
    .toString()
  assert.is(text, '# HELP a_total As.\n# TYPE a_total counter\na_total{x="1"} 2\n# TYPE b gauge\nb 3\n')
})

test('histograms: buckets are cumulative and +Inf is the count, overflow included', () => {
  const text = new PrometheusText().histogram('h', undefined, 'n="0"', [1, 2], [1, 2], 5, 9).toString()
  assert.is(text, '# TYPE h histogram\nh_bucket{n="0",le="1"} 1\nh_bucket{n="0",le="2"} 3\nh_bucket{n="0",le="+Inf"} 5\nh_sum{n="0"} 9\nh_count{n="0"} 5\n')
})

test('label values are escaped', () => {
  assert.is(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd')
})

test.run()
