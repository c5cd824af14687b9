import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { CREDENTIAL_MAX_AGE_MS, CREDENTIAL_MAX_SKEW_MS, ReplayGuard, handoffDecision, signHandoff, verifyDecision, verifyHandoff } from './credential.js'

const T = 1_800_000_000_000

test('a credential is accepted once for its node and request; a replay, another node or request, a wrong token are refused', () => {
  const guard = new ReplayGuard(undefined, T)
  const c = signHandoff('tok', 2, 'dispatched', 'GET', '/a', T)
  assert.is(verifyHandoff('tok', c, 1, 'GET', '/a', T, guard), null, 'another node')
  assert.is(verifyHandoff('tok', c, 2, 'GET', '/b', T, guard), null, 'another target')
  assert.is(verifyHandoff('tok', c, 2, 'HEAD', '/a', T, guard), null, 'another method')
  assert.is(verifyHandoff('other', c, 2, 'GET', '/a', T, guard), null, 'another token')
  assert.is(verifyHandoff('tok', c, 2, 'GET', '/a', T + 5, guard), 'dispatched')
  assert.is(verifyHandoff('tok', c, 2, 'GET', '/a', T + 6, guard), null, 'replayed')
  assert.is(verifyHandoff('tok', c, 2, 'GET', '/a', T + CREDENTIAL_MAX_AGE_MS, guard), null, 'replayed at the end of its window')
  // Two signatures of the same request are two credentials.
  const again = signHandoff('tok', 2, 'fallback', 'GET', '/a', T)
  assert.is(verifyHandoff('tok', again, 2, 'GET', '/a', T, guard), 'fallback')
})

test('every route travels in both forms, the reused one (reuseMs) included; the route is under the MAC', () => {
  const guard = new ReplayGuard(undefined, T)
  for (const route of ['dispatched', 'fallback', 'reused'] as const) {
    assert.is(verifyHandoff('tok', signHandoff('tok', 1, route, 'GET', '/r', T), 1, 'GET', '/r', T, guard), route)
    assert.is(verifyDecision(handoffDecision(1, route), 1), route)
    assert.is(verifyDecision(handoffDecision(1, route), 2), null, 'another node')
  }
  // A dispatched credential rewritten as reused (to make the peer skip its DONE) is refused.
  const forged = signHandoff('tok', 1, 'dispatched', 'GET', '/r', T).replace('.dispatched.', '.reused.')
  assert.is(verifyHandoff('tok', forged, 1, 'GET', '/r', T, guard), null)
  assert.is(verifyDecision('1.local', 1), null)
})

test('stale and future-dated credentials are refused; within clock skew they are accepted', () => {
  const at = (ms: number, now: number) => verifyHandoff('tok', signHandoff('tok', 0, 'dispatched', 'GET', '/', ms), 0, 'GET', '/', now, new ReplayGuard(undefined, now))
  assert.is(at(T, T + CREDENTIAL_MAX_AGE_MS), 'dispatched')
  assert.is(at(T, T + CREDENTIAL_MAX_AGE_MS + 1), null, 'too old')
  assert.is(at(T + CREDENTIAL_MAX_SKEW_MS, T), 'dispatched', 'within skew')
  assert.is(at(T + CREDENTIAL_MAX_SKEW_MS + 1, T), null, 'from the future')
  assert.is(at(T + 30_000, T), null, 'the old 30 s window in the future')
})

test('the guard forgets a nonce only after its credential can no longer be accepted', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3 * (CREDENTIAL_MAX_AGE_MS + CREDENTIAL_MAX_SKEW_MS) }), fc.integer({ min: 0, max: 40_000 }), (start, later) => {
      const guard = new ReplayGuard(undefined, T)
      const now = T + start
      // A credential signed as late (future skew) or as early (max age) as it may be.
      for (const ms of [now + CREDENTIAL_MAX_SKEW_MS, now - CREDENTIAL_MAX_AGE_MS]) {
        const c = signHandoff('tok', 0, 'dispatched', 'GET', '/', ms)
        assert.is(verifyHandoff('tok', c, 0, 'GET', '/', now, guard), 'dispatched')
        assert.is(verifyHandoff('tok', c, 0, 'GET', '/', now + later, guard), null, `replayed ${later} ms later`)
      }
    }),
    { numRuns: 300 },
  )
})

test('memory: a guard holds at most the nonces claimed in two windows', () => {
  const window = 100
  const guard = new ReplayGuard(window, 0)
  for (let t = 0; t < 1000; t++) guard.claim(`n${t}`, t)
  assert.ok(guard.size <= 2 * window, `${guard.size} nonces held`)
  assert.not.ok(guard.claim('n999', 1000), 'the latest is still held')
})

test('forged credentials do not reach the guard', () => {
  const guard = new ReplayGuard(undefined, T)
  for (let i = 0; i < 100; i++) verifyHandoff('tok', `0.dispatched.${T}.${i.toString(16).padStart(16, '0')}.${'0'.repeat(64)}`, 0, 'GET', '/', T, guard)
  assert.is(guard.size, 0)
})

test.run()
