import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ProtocolError } from '../core/errors.js'
import { DEFAULT_PARAMS, type PolicyParams } from '../policy/types.js'
import {
  decodeFrame,
  encodeAssignInto,
  encodeMessage,
  encodeReplyInto,
  FrameBuffer,
  HEADER_BYTES,
  MAX_FRAME_BYTES,
  VERSION,
  type Message,
} from './codec.js'

/** Plain-object form of a message (typed-array views become arrays) for deep comparison. */
function plain(message: Message | ProtocolError): unknown {
  if (message instanceof ProtocolError) return { error: message.code, message: message.message }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(message)) {
    out[key] = ArrayBuffer.isView(value) ? Array.from(value as Uint32Array) : value
  }
  return JSON.parse(JSON.stringify(out)) // also drops prototypes (fast-check makes null-prototype records)
}

function roundTrip(message: Message): void {
  const bytes = encodeMessage(message)
  const decoded = decodeFrame(bytes)
  assert.not.instance(decoded, ProtocolError, decoded instanceof Error ? decoded.message : '')
  assert.equal(plain(decoded), plain(message))
  // The same frame received as a bare ArrayBuffer (what uWS and undici hand over).
  assert.equal(plain(decodeFrame(bytes.slice().buffer)), plain(message))
}

const members = [
  { id: 0, address: '127.0.0.1:8081', weight: 1, up: true },
  { id: 5, address: 'nœud-5.local:80', weight: 3, up: false },
  { id: 63, address: '', weight: 1, up: true },
]
const params: PolicyParams = { ...DEFAULT_PARAMS, tLow: 30, hotThreshold: 150.5, rateEstimator: 'window', costTies: 'id', ownerUpdate: 'never', localRate: 'served', reuseMs: 2.5 }

test('HELLO round trip', () => {
  roundTrip({ type: 1, nodeId: 7, weight: 2, load: -1, address: '127.0.0.1:9000', token: 's3cret' })
  roundTrip({ type: 1, nodeId: 0, weight: 1, load: 12345, address: '', token: '' })
})

test('WELCOME round trip, every policy parameter and the membership table', () => {
  roundTrip({ type: 2, nodeId: 5, heartbeatIntervalMs: 1000, policy: 'ds', impl: 'wasm', params, members })
  roundTrip({ type: 2, nodeId: 0, heartbeatIntervalMs: 50, policy: 'chbl', impl: 'ts', params: { ...DEFAULT_PARAMS }, members: [] })
})

test('ASSIGN round trip with local counts, and an empty one', () => {
  roundTrip({
    type: 3,
    node: 3,
    load: 17,
    count: 3,
    requestId: Uint32Array.of(1, 2, 0xffffffff),
    hash: Uint32Array.of(0xdeadbeef, 0, 42),
    localCount: 2,
    localHash: Uint32Array.of(9, 10),
    localServed: Uint32Array.of(100, 1),
  })
  roundTrip({
    type: 3,
    node: 0,
    load: -1,
    count: 0,
    requestId: new Uint32Array(0),
    hash: new Uint32Array(0),
    localCount: 0,
    localHash: new Uint32Array(0),
    localServed: new Uint32Array(0),
  })
})

test('REPLY, DONE, MEMBERSHIP, HEARTBEAT, ERROR round trip', () => {
  roundTrip({ type: 4, count: 2, requestId: Uint32Array.of(7, 8), chosen: Int32Array.of(1, -1) })
  roundTrip({ type: 5, count: 2, node: Int32Array.of(3, 4), hash: Uint32Array.of(5, 6) })
  roundTrip({ type: 6, node: 5, event: 'down', members })
  roundTrip({ type: 6, node: 0, event: 'up', members: [] })
  roundTrip({ type: 6, node: 1, event: 'weight', members })
  roundTrip({ type: 7, load: 3, timeMs: 1700000000123.5 })
  roundTrip({ type: 8, code: 2, text: 'bad token for node 3' })
})

test('ERROR text is cut to the limit on a character boundary', () => {
  const decoded = decodeFrame(encodeMessage({ type: 8, code: 1, text: 'é'.repeat(2000) }))
  assert.ok(!(decoded instanceof ProtocolError) && decoded.type === 8)
  if (decoded.type === 8) assert.is(decoded.text, 'é'.repeat(512))
})

test('the in-place encoders reuse one buffer and decode to views, not copies', () => {
  const out = new FrameBuffer(16)
  const n = 5000
  const ids = new Uint32Array(n).map((_, i) => i)
  const hashes = new Uint32Array(n).map((_, i) => (i * 2654435761) >>> 0)
  const frame = encodeAssignInto(out, 1, 4, ids, hashes, n, new Uint32Array(0), new Uint32Array(0), 0)
  assert.is(frame.byteLength, 20 + 8 * n)
  const decoded = decodeFrame(frame)
  assert.ok(!(decoded instanceof ProtocolError) && decoded.type === 3)
  if (decoded.type === 3) {
    assert.is(decoded.hash.buffer, frame.buffer, 'hash column is a view on the frame')
    assert.equal(Array.from(decoded.hash), Array.from(hashes))
  }
  const reply = encodeReplyInto(out, ids, Int32Array.from(ids, (i) => i % 16), 3)
  assert.equal(plain(decodeFrame(reply)), { type: 4, count: 3, requestId: [0, 1, 2], chosen: [0, 1, 2] })
})

test('a misaligned Uint8Array frame is still decoded', () => {
  const bytes = encodeMessage({ type: 5, count: 1, node: Int32Array.of(2), hash: Uint32Array.of(99) })
  const padded = new Uint8Array(bytes.length + 1)
  padded.set(bytes, 1)
  assert.equal(plain(decodeFrame(padded.subarray(1))), { type: 5, count: 1, node: [2], hash: [99] })
})

test('validation: short, bad magic, bad version, bad type, counts over limit, wrong length, bad fields', () => {
  const hello = encodeMessage({ type: 1, nodeId: 1, weight: 1, load: 0, address: 'a', token: 't' })
  const code = (bytes: Uint8Array) => {
    const r = decodeFrame(bytes)
    return r instanceof ProtocolError ? r.code : 'ok'
  }
  const mutate = (at: number, value: number, source = hello) => {
    const copy = source.slice()
    copy[at] = value
    return copy
  }
  assert.is(code(hello.subarray(0, 5)), 'L7_PROTOCOL_SHORT_FRAME')
  assert.is(code(mutate(0, 0)), 'L7_PROTOCOL_BAD_MAGIC')
  assert.is(code(mutate(2, 1)), 'L7_PROTOCOL_BAD_VERSION', 'version 1 (WELCOME without reuseMs)')
  assert.is(code(mutate(2, 3)), 'L7_PROTOCOL_BAD_VERSION')
  assert.is(code(mutate(3, 99)), 'L7_PROTOCOL_BAD_TYPE')
  assert.is(code(mutate(7, 0x7f)), 'L7_PROTOCOL_LIMIT')
  assert.is(code(hello.subarray(0, hello.length - 1)), 'L7_PROTOCOL_BAD_LENGTH')
  assert.is(code(mutate(hello.length - 1, 0xff)), 'L7_PROTOCOL_BAD_FIELD', 'invalid UTF-8 token')
  assert.is(code(mutate(16, 0)), 'L7_PROTOCOL_BAD_FIELD', 'weight 0')
  const membership = encodeMessage({ type: 6, node: 0, event: 'up', members })
  assert.is(code(mutate(16, 9, membership)), 'L7_PROTOCOL_BAD_FIELD', 'unknown event')
  assert.is(code(mutate(20 + 8, 2, membership)), 'L7_PROTOCOL_BAD_FIELD', 'up flag 2')
  assert.is(code(mutate(20 + 10, 99, membership)), 'L7_PROTOCOL_BAD_FIELD', 'address lengths')
  assert.is(code(new Uint8Array(MAX_FRAME_BYTES + 1)), 'L7_PROTOCOL_LIMIT')
})

// Property tests: the decoder never throws and never reads out of range; it gives a typed
// error or a message whose own re-encoding decodes to the same thing.
function decodesSafely(bytes: Uint8Array): boolean {
  let result: Message | ProtocolError
  try {
    result = decodeFrame(bytes)
  } catch (err) {
    throw new Error(`decoder threw: ${(err as Error).stack}`)
  }
  if (result instanceof ProtocolError) return result.code.startsWith('L7_PROTOCOL_')
  return [1, 2, 3, 4, 5, 6, 7, 8].includes(result.type)
}

const validMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant(1 as const),
    nodeId: fc.nat(),
    weight: fc.integer({ min: 1, max: 1000 }),
    load: fc.integer({ min: -1, max: 1 << 20 }),
    address: fc.string({ maxLength: 60 }),
    token: fc.string({ maxLength: 60 }),
  }),
  fc.integer({ min: 0, max: 300 }).chain((n) =>
    fc.record({
      type: fc.constant(3 as const),
      node: fc.nat(63),
      load: fc.integer({ min: -1, max: 1000 }),
      count: fc.constant(n),
      requestId: fc.uint32Array({ minLength: n, maxLength: n }),
      hash: fc.uint32Array({ minLength: n, maxLength: n }),
      localCount: fc.constant(0),
      localHash: fc.constant(new Uint32Array(0)),
      localServed: fc.constant(new Uint32Array(0)),
    }),
  ),
  fc.integer({ min: 0, max: 300 }).chain((n) =>
    fc.record({
      type: fc.constant(4 as const),
      count: fc.constant(n),
      requestId: fc.uint32Array({ minLength: n, maxLength: n }),
      chosen: fc.int32Array({ minLength: n, maxLength: n }),
    }),
  ),
  fc.record({
    type: fc.constant(6 as const),
    node: fc.nat(63),
    event: fc.constantFrom('up' as const, 'down' as const, 'weight' as const),
    members: fc.array(
      fc.record({ id: fc.nat(63), address: fc.string({ maxLength: 30 }), weight: fc.integer({ min: 1, max: 9 }), up: fc.boolean() }),
      { maxLength: 20 },
    ),
  }),
  fc.record({ type: fc.constant(7 as const), load: fc.integer({ min: -1, max: 1 << 20 }), timeMs: fc.double({ noNaN: true }) }),
  fc.record({ type: fc.constant(8 as const), code: fc.integer({ min: 0, max: 0xffff }), text: fc.string({ maxLength: 100 }) }),
)

test('property: every valid message survives a round trip', () => {
  fc.assert(
    fc.property(validMessage, (message) => {
      const decoded = decodeFrame(encodeMessage(message))
      assert.equal(plain(decoded), plain(message))
    }),
    { numRuns: 3000 },
  )
})

test('property: random bytes never throw (with and without a valid header)', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), decodesSafely), { numRuns: 15000 })
  const header = fc.record({
    type: fc.integer({ min: 0, max: 9 }),
    a: fc.oneof(fc.nat(40), fc.nat()),
    b: fc.oneof(fc.nat(40), fc.nat()),
    body: fc.uint8Array({ maxLength: 600 }),
  })
  fc.assert(
    fc.property(header, ({ type, a, b, body }) => {
      const bytes = new Uint8Array(HEADER_BYTES + body.length)
      const view = new DataView(bytes.buffer)
      view.setUint16(0, 0x374c, true)
      view.setUint8(2, VERSION)
      view.setUint8(3, type)
      view.setUint32(4, a, true)
      view.setUint32(8, b, true)
      bytes.set(body, HEADER_BYTES)
      return decodesSafely(bytes)
    }),
    { numRuns: 15000 },
  )
})

test('property: truncated and mutated valid frames give a typed error or a valid message', () => {
  const mutated = validMessage.chain((message) => {
    const bytes = encodeMessage(message)
    return fc.record({
      bytes: fc.constant(bytes),
      cut: fc.nat(bytes.length),
      flips: fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    })
  })
  fc.assert(
    fc.property(mutated, ({ bytes, cut, flips }) => {
      const copy = bytes.slice()
      for (const [at, value] of flips) copy[at] = value
      return decodesSafely(copy) && decodesSafely(copy.subarray(0, cut))
    }),
    { numRuns: 15000 },
  )
})

test.run()
