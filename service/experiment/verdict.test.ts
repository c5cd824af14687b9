// The experiment's terminal view: a table that fits 100 columns, and a verdict written from
// the figures (service/experiment/verdict.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ExperimentReport, PolicyOutcome } from './index.js'
import { formatExperimentTable } from './report.js'
import { TERMINAL_WIDTH, verdict } from './verdict.js'

function outcome(policy: string, figures: Partial<PolicyOutcome>): PolicyOutcome {
  return {
    policy, throughput: 100, requests: 1000, errors: 0, meanMs: 5, p50Ms: 4, p99Ms: 20, hitRate: 0.8, localFraction: 0, reusedFraction: 0,
    handoffFraction: 0.5, dispatcherMsgsPerRequest: 3, meanBatch: 1, perNode: [250, 250], loadImbalance: 1.1,
    nodeCpuUsPerRequest: 500, nodes: [], dispatcher: {} as PolicyOutcome['dispatcher'], replay: {} as PolicyOutcome['replay'],
    ...figures,
  } as PolicyOutcome
}

function report(outcomes: PolicyOutcome[], extra: Partial<ExperimentReport> = {}): ExperimentReport {
  return {
    options: { nodes: 4, policies: outcomes.map((o) => o.policy) as ExperimentReport['options']['policies'], users: 200, durationS: 15, warmupS: 5, cacheMb: 1, disk: { seekMs: 10, mbps: 20 }, handoff: 'relay', simulate: true },
    fileSetBytes: 50e6, topFileShare: 0.043, meanRequestBytes: 22_000, outcomes, wallSeconds: 100, ...extra,
  }
}

test('a clear leader: named with its margin over the runner-up and the last', () => {
  const text = verdict(report([outcome('ds', { throughput: 150 }), outcome('lard-cost', { throughput: 120 }), outcome('wrr', { throughput: 100 })]), 2)
  assert.match(text.replace(/\n/g, ' '), /^ds led: 150\.0 conn\/s, 25% more than lard-cost and 50% more than wrr/)
})

test('within 3%: no leader on throughput, the fastest response named instead', () => {
  const text = verdict(report([outcome('ds', { throughput: 101, meanMs: 3 }), outcome('wrr', { throughput: 100, meanMs: 6, hitRate: 0.6 })]), 2).replace(/\n/g, ' ')
  assert.match(text, /No policy led on throughput: ds and wrr are within 1\.0%/)
  assert.match(text, /ds answered fastest \(mean 3\.0 ms against 6\.0 ms for wrr/)
})

test('what bound the run: users, the emulated disk, or the CPU, from the figures', () => {
  const users = verdict(report([outcome('ds', { throughput: 100, nodeCpuUsPerRequest: 500, hitRate: 0.9 })]), 2).replace(/\n/g, ' ')
  assert.match(users, /The 200 users bound the run, not the cluster \(node CPU about 3% of this machine's 2 cores/)
  // 400 misses/s over 4 nodes, each ~11 ms of disk: ~110% busy.
  const disk = verdict(report([outcome('ds', { throughput: 800, hitRate: 0.5, nodeCpuUsPerRequest: 100 })]), 2).replace(/\n/g, ' ')
  assert.match(disk, /The emulated disks bound the run/)
  const cpu = verdict(report([outcome('ds', { throughput: 2000, hitRate: 1, nodeCpuUsPerRequest: 800 })]), 2).replace(/\n/g, ' ')
  assert.match(cpu, /This machine's CPU bound the run \(node CPU about 80% of this machine's 2 cores/)
})

test("DS's fast path: why it did not act, with the hottest file's rate against the threshold; or how much it served", () => {
  const idle = verdict(report([outcome('ds', { throughput: 100 })]), 2).replace(/\n/g, ' ')
  assert.match(idle, /DS's fast path did not act \(local 0\.000\): a file becomes hot at 200 requests\/s, and the most requested file got about 4\.3 requests\/s/)
  const lowered = verdict(report([outcome('ds', { throughput: 100 })], { options: { ...report([]).options, params: { hotThreshold: 3 } } }), 2)
  assert.match(lowered.replace(/\n/g, ' '), /hot at 3 requests\/s/)
  const acted = verdict(report([outcome('ds', { localFraction: 0.31, dispatcherMsgsPerRequest: 1.9 })]), 2).replace(/\n/g, ' ')
  assert.match(acted, /DS's fast path acted: 31% of its requests were served where they arrived/)
})

test('interrupted and failed runs are said so', () => {
  const text = verdict(report([outcome('ds', { errors: 7 })], { interrupted: { measured: 1, of: 3 } }), 2).replace(/\n/g, ' ')
  assert.match(text, /7 requests failed in all/)
  assert.match(text, /Interrupted: 1 of 3 policies were measured/)
  assert.match(verdict(report([]), 2), /nothing to compare/)
})

test('the whole terminal view fits 100 columns, even with wide figures', () => {
  const wide = [
    outcome('lard-cost', { throughput: 123456.7, meanMs: 12345.6, p99Ms: 99999.9, errors: 123456, loadImbalance: 12.34, sim: { throughput: 123456.7 } as PolicyOutcome['sim'] }),
    outcome('ds', { throughput: 99999.9 }),
  ]
  const text = formatExperimentTable(report(wide))
  for (const line of text.split('\n')) assert.ok(line.length <= TERMINAL_WIDTH, `${line.length} columns: ${line}`)
  assert.match(text, /^policy\s+conn\/s\s+mean ms\s+p99 ms/m)
  assert.match(text, /^local\s+share served where it arrived/m)
})

test.run()
