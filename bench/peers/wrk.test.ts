import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseWrkReport, parseWrkSummary, wrkCommand } from './wrk.js'

const SUMMARY = `Running 2s test @ http://127.0.0.1:8080/1024.bin
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   850.12us  200.00us   5.00ms   90.00%
    Req/Sec    20.00k     1.00k   22.00k    70.00%
  40000 requests in 2.00s, 45.00MB read
  Socket errors: connect 0, read 2, write 1, timeout 0
  Non-2xx or 3xx responses: 5
Requests/sec:  19990.50
Transfer/sec:     22.50MB
`

test('parseWrkSummary: requests, seconds, rate, mean latency in ms, errors of both kinds', () => {
  const s = parseWrkSummary(SUMMARY)!
  assert.equal(s, { requestsPerSec: 19990.5, latencyMeanMs: 0.85012, requests: 40000, seconds: 2, errors: 8 })
  assert.is(parseWrkSummary(SUMMARY.replace('2.00s', '1.50m'))!.seconds, 90)
})

test('parseWrkSummary: no summary (wrk failed) is null', () => {
  assert.is(parseWrkSummary('unable to connect to 127.0.0.1:1 Connection refused'), null)
})

test('wrkCommand: keep-alive by default, Connection: close when asked', () => {
  assert.equal(wrkCommand('http://h/x', { threads: 1, connections: 8, duration: 3 }), ['wrk', '-t1', '-c8', '-d3s', 'http://h/x'])
  assert.equal(wrkCommand('http://h/x', { threads: 2, connections: 4, duration: 1, close: true }), ['wrk', '-t2', '-c4', '-d1s', '-H', 'Connection: close', 'http://h/x'])
  assert.equal(wrkCommand('http://h/', { threads: 1, connections: 4, duration: 1, script: '/t/m.lua' }), ['wrk', '-t1', '-c4', '-d1s', '-s', '/t/m.lua', 'http://h/'])
})

test('parseWrkReport: the done() line among wrk\'s text; null without one', () => {
  const report = { requests: 10, durationUs: 1000000, bytes: 500, non2xx: 1, socketErrors: 2, meanUs: 80.5, p50Us: 70, p99Us: 300 }
  assert.equal(parseWrkReport(`${SUMMARY}l7-wrk-report ${JSON.stringify(report)}\n`), report)
  assert.is(parseWrkReport(SUMMARY), null)
})

test.run()
