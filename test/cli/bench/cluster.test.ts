// `l7 bench cluster`, short: one policy, one handoff, one connection mode, one 1 s round, a
// small file set. Shape and sanity of the JSON (both sides answered, counts, CPU accounted),
// no timing assertions. Skipped, saying why, when haproxy, nginx or wrk is missing.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { findHaproxy, HAPROXY_MISSING } from '../../../bench/peers/haproxy.js'
import { findNginx, NGINX_MISSING } from '../../../bench/peers/nginx.js'
import { WRK_MISSING } from '../../../bench/peers/wrk.js'

const BIN = join(process.cwd(), 'bin', 'run.js')

function l7(...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'bench', 'cluster', ...args], { encoding: 'utf8', timeout: 90_000 })
}

const missing = [findHaproxy() ? null : HAPROXY_MISSING, findNginx() ? null : NGINX_MISSING, spawnSync('wrk', ['-v']).error ? WRK_MISSING : null].filter(Boolean)

test('--json: one configuration through both fronts, both sides answered 200s, CPU accounted per process role, routes, load average', () => {
  if (missing.length) {
    console.log(`bench cluster not run: ${missing.join('; ')}`)
    return
  }
  const run = l7('--policies', 'ds', '--handoff', 'relay', '--connection', 'keep-alive', '--duration', '1s', '--rounds', '1', '--files', '200', '--json')
  assert.is(run.status, 0, run.stderr)
  const r = JSON.parse(run.stdout)
  assert.is(r.machine.loadavgStart.length, 3)
  assert.is(r.machine.loadavgEnd.length, 3)
  assert.type(r.machine.haproxy, 'string')
  assert.equal(r.settings.policies, ['ds'])
  assert.is(r.settings.files, 200)
  assert.ok(r.settings.bytes > 0)
  assert.equal(r.settings.fronts, ['haproxy', 'shared'])
  assert.equal(r.settings.params, {}, 'no --param: the defaults, and the JSON says so')
  assert.is(r.results.length, 2)
  assert.equal(r.results.map((x: { front: string }) => x.front), ['haproxy', 'shared'])
  // Both fronts' rows compare against the same peer run of the round.
  assert.equal(r.results[0].rounds[0].peer, r.results[1].rounds[0].peer)
  // Through the shared front no proxy is in l7's path: no haproxy among its processes.
  assert.equal(Object.keys(r.results[1].rounds[0].l7.cpuUsPerRequestBy).sort(), ['dispatcher', 'nodes', 'parent'])
  assert.ok(r.results[1].rounds[0].l7.requests > 0 && r.results[1].rounds[0].l7.non2xx === 0)
  const row = r.results[0]
  assert.equal([row.policy, row.handoff, row.connection], ['ds', 'relay', 'keep-alive'])
  assert.is(row.rounds.length, 1)
  for (const side of ['l7', 'peer'] as const) {
    const run = row.rounds[0][side]
    assert.ok(run.requests > 0, `${side} answered nothing`)
    assert.is(run.non2xx, 0, `${side} answered errors`)
    assert.ok(run.requestsPerSec > 0)
    assert.ok(run.cpuUsPerRequest > 0, `${side}: no CPU accounted`)
    assert.ok(run.systemUsPerRequest >= 0 && run.systemUsPerRequest <= run.cpuUsPerRequest)
    // the roles add up to the whole
    const roles = Object.values(run.cpuUsPerRequestBy as Record<string, number>).reduce((a, b) => a + b, 0)
    assert.ok(Math.abs(roles - run.cpuUsPerRequest) < 1e-6 * run.cpuUsPerRequest + 1e-9)
    assert.ok(run.p99Ms >= run.p50Ms)
    assert.ok(run.bytesPerRequest > 0)
    assert.is(row[side].requests, run.requests)
  }
  assert.equal(Object.keys(row.rounds[0].peer.cpuUsPerRequestBy).sort(), ['haproxy', 'nginx'])
  assert.equal(Object.keys(row.rounds[0].l7.cpuUsPerRequestBy).sort(), ['dispatcher', 'haproxy', 'nodes', 'parent'])
  // every request wrk counted was answered by a node, by some route
  const routed = Object.values(row.rounds[0].l7.routes as Record<string, number>).reduce((a, b) => a + b, 0)
  assert.ok(routed >= row.rounds[0].l7.requests)
  assert.ok(row.ratio.requestsPerSec > 0 && row.ratio.cpuPerRequest > 0)
  // this run's temp dir (named in its log) is gone; other runs may have theirs meanwhile
  const dir = /in (\S*l7-bench-cluster-[^/\s]+)\/www/.exec(run.stderr)?.[1]
  assert.ok(dir, 'the log names the temp dir')
  assert.not.ok(existsSync(dir!), `${dir} is left behind`)
})

test('the table: a row per configuration with both sides and the load average', () => {
  if (missing.length) return
  const run = l7('--policies', 'chbl', '--front', 'shared', '--handoff', 'fd', '--connection', 'close', '--duration', '1s', '--rounds', '1', '--files', '100', '--floor', '--param', 'balanceFactorPercent=150')
  assert.is(run.status, 0, run.stderr)
  assert.match(run.stdout, /load average at start [\d.]+ [\d.]+ [\d.]+, at end/)
  assert.match(run.stdout, /^policy parameters: balanceFactorPercent=150 \(the rest at their defaults\)$/m)
  assert.match(run.stdout, /^chbl fd close shared\s+\d/m)
  // The routes beside the table, shares of the requests the nodes served, for l7's rows only.
  const routes = /^  chbl fd close shared\s+local (\d+)%, dispatched (\d+)%, handed off (\d+)%.*, cache misses [\d.]+%$/m.exec(run.stdout)
  assert.ok(routes, run.stdout)
  const total = Number(routes![1]) + Number(routes![2]) + Number(routes![3])
  assert.ok(total >= 98 && total <= 102, `shares add up to ${total}%`)
  assert.not.match(run.stdout, /^  floor/m)
  assert.not.match(run.stdout, /^chbl fd close haproxy/m)
  // --floor: the least Node.js server through the same front, against the same peer
  assert.match(run.stdout, /^node floor close shared\s+\d/m)
  assert.match(run.stderr, /load average at start/)
})

test('bad flags: exit 2 naming the flag, before anything starts', () => {
  const bad = l7('--handoff', 'relay,pigeon')
  assert.is(bad.status, 2)
  assert.match(bad.stderr, /--handoff: unknown value "pigeon"/)
  const front = l7('--front', 'dns')
  assert.is(front.status, 2)
  assert.match(front.stderr, /--front: unknown value "dns", use one of haproxy, shared/)
  const duration = l7('--duration', '1500ms')
  assert.is(duration.status, 2)
  assert.match(duration.stderr, /--duration: wrk takes whole seconds/)
  const bare = l7('--duration', '5')
  assert.is(bare.status, 2)
  assert.match(bare.stderr, /--duration: "5" is not a duration with a unit/)
})

test.run()
