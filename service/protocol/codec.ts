// The control protocol codec (layouts in SPEC.md beside this file). The decoder validates a
// frame's header and exact length before reading a body byte and returns a ProtocolError
// instead of throwing. ASSIGN/REPLY/DONE are the hot path: they decode into typed-array views
// on the received buffer and encode from column arrays into a reusable FrameBuffer, so no
// object is made per record.
import { ProtocolError } from '../core/errors.js'
import { POLICY_NAMES, type PolicyName, type PolicyParams, type RateEstimator } from '../policy/types.js'

export const MAGIC = 0x374c
// 2: WELCOME carries a 16th policy parameter, reuseMs (its head grew from 132 to 140 bytes).
export const VERSION = 2
export const HEADER_BYTES = 12
export const MAX_FRAME_BYTES = 1 << 20

export const MessageType = {
  Hello: 1,
  Welcome: 2,
  Assign: 3,
  Reply: 4,
  Done: 5,
  Membership: 6,
  Heartbeat: 7,
  Error: 8,
} as const
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType]

/** Reason codes of ERROR frames (SPEC.md). */
export const ErrorCode = {
  BadFrame: 1,
  BadToken: 2,
  DuplicateNode: 3,
  BadNodeId: 4,
  NotRegistered: 5,
  HeartbeatTimeout: 6,
  Backpressure: 7,
  ShuttingDown: 8,
  HelloTimeout: 9,
  Internal: 10,
} as const
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode]

export function errorCodeName(code: number): string {
  for (const [name, value] of Object.entries(ErrorCode)) if (value === code) return name
  return `UNKNOWN_${code}`
}

export const RATE_ESTIMATORS: readonly RateEstimator[] = ['ewma', 'window', 'literal']
/** Numeric policy parameters in wire order (WELCOME). */
export const PARAM_KEYS = [
  'maxNodes',
  'targetCapacity',
  'batchCapacity',
  'tLow',
  'tHigh',
  'shrinkSeconds',
  'maxLoad',
  'hitCost',
  'missCost',
  'balCost',
  'invalCost',
  'hotThreshold',
  'unitTimeUs',
  'balanceFactorPercent',
  'ringPointsPerNode',
  'reuseMs',
] as const satisfies readonly (keyof PolicyParams)[]

export const MembershipEvent = { up: 1, down: 2, weight: 3 } as const
export type MembershipEventName = keyof typeof MembershipEvent

export interface Member {
  id: number
  address: string
  weight: number
  up: boolean
}

export interface HelloMessage {
  type: 1
  nodeId: number
  weight: number
  load: number
  address: string
  token: string
}
export interface WelcomeMessage {
  type: 2
  nodeId: number
  heartbeatIntervalMs: number
  policy: PolicyName
  impl: 'ts' | 'wasm'
  params: PolicyParams
  members: Member[]
}
/** Views on the received buffer: valid only until the buffer is reused (uWS: during the callback). */
export interface AssignMessage {
  type: 3
  node: number
  load: number
  count: number
  requestId: Uint32Array
  hash: Uint32Array
  localCount: number
  localHash: Uint32Array
  localServed: Uint32Array
}
export interface ReplyMessage {
  type: 4
  count: number
  requestId: Uint32Array
  chosen: Int32Array
}
export interface DoneMessage {
  type: 5
  count: number
  node: Int32Array
  hash: Uint32Array
}
export interface MembershipMessage {
  type: 6
  node: number
  event: MembershipEventName
  members: Member[]
}
export interface HeartbeatMessage {
  type: 7
  load: number
  timeMs: number
}
export interface ErrorMessage {
  type: 8
  code: number
  text: string
}
export type Message =
  | HelloMessage
  | WelcomeMessage
  | AssignMessage
  | ReplyMessage
  | DoneMessage
  | MembershipMessage
  | HeartbeatMessage
  | ErrorMessage

interface Layout {
  fixed: number
  unitA: number
  unitB: number
  limitA: number
  limitB: number
}
const LAYOUTS: Record<MessageTypeCode, Layout> = {
  1: { fixed: 16, unitA: 1, unitB: 1, limitA: 255, limitB: 1024 },
  2: { fixed: 140, unitA: 12, unitB: 1, limitA: 4096, limitB: 1 << 20 },
  3: { fixed: 8, unitA: 8, unitB: 8, limitA: 65536, limitB: 65536 },
  4: { fixed: 0, unitA: 8, unitB: 0, limitA: 65536, limitB: 0 },
  5: { fixed: 0, unitA: 8, unitB: 0, limitA: 65536, limitB: 0 },
  6: { fixed: 8, unitA: 12, unitB: 1, limitA: 4096, limitB: 1 << 20 },
  7: { fixed: 12, unitA: 0, unitB: 0, limitA: 0, limitB: 0 },
  8: { fixed: 4, unitA: 1, unitB: 0, limitA: 1024, limitB: 0 },
}
/** Largest batch an ASSIGN, REPLY or DONE frame may carry. */
export const MAX_BATCH = LAYOUTS[3].limitA

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1
const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes one frame. Never throws: a bad frame gives a ProtocolError saying what was wrong. */
export function decodeFrame(frame: ArrayBuffer | Uint8Array): Message | ProtocolError {
  try {
    return decodeUnchecked(frame)
  } catch (err) {
    // Every read below is bounds-checked first; this is the last guard of the boundary.
    return new ProtocolError('L7_PROTOCOL_BAD_FRAME', `frame could not be decoded: ${(err as Error).message}`)
  }
}

function decodeUnchecked(frame: ArrayBuffer | Uint8Array): Message | ProtocolError {
  let buffer: ArrayBuffer
  let offset: number
  const length = frame.byteLength
  if (frame instanceof Uint8Array) {
    if (frame.byteOffset % 4 === 0 && frame.buffer instanceof ArrayBuffer) {
      buffer = frame.buffer
      offset = frame.byteOffset
    } else {
      // Column views need 4-byte alignment: copy a misaligned frame once.
      buffer = frame.slice().buffer as ArrayBuffer
      offset = 0
    }
  } else {
    buffer = frame
    offset = 0
  }
  if (length < HEADER_BYTES) {
    return new ProtocolError('L7_PROTOCOL_SHORT_FRAME', `frame of ${length} bytes is shorter than the ${HEADER_BYTES}-byte header`)
  }
  if (length > MAX_FRAME_BYTES) {
    return new ProtocolError('L7_PROTOCOL_LIMIT', `frame of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`)
  }
  const view = new DataView(buffer, offset, length)
  const magic = view.getUint16(0, true)
  if (magic !== MAGIC) {
    return new ProtocolError('L7_PROTOCOL_BAD_MAGIC', `bad magic 0x${magic.toString(16)} (expected 0x${MAGIC.toString(16)})`)
  }
  const version = view.getUint8(2)
  if (version !== VERSION) {
    return new ProtocolError('L7_PROTOCOL_BAD_VERSION', `protocol version ${version} is not supported (this side speaks ${VERSION})`)
  }
  const type = view.getUint8(3)
  const layout = LAYOUTS[type as MessageTypeCode]
  if (!layout) return new ProtocolError('L7_PROTOCOL_BAD_TYPE', `unknown message type ${type}`)
  const a = view.getUint32(4, true)
  const b = view.getUint32(8, true)
  if (a > layout.limitA || b > layout.limitB) {
    return new ProtocolError(
      'L7_PROTOCOL_LIMIT',
      `type ${type}: counts ${a}/${b} exceed the limits ${layout.limitA}/${layout.limitB}`,
    )
  }
  const expected = HEADER_BYTES + layout.fixed + layout.unitA * a + layout.unitB * b
  if (length !== expected) {
    return new ProtocolError(
      'L7_PROTOCOL_BAD_LENGTH',
      `type ${type} with counts ${a}/${b} must be ${expected} bytes, frame has ${length}`,
    )
  }
  switch (type) {
    case MessageType.Hello:
      return decodeHello(view, a, b)
    case MessageType.Welcome:
      return decodeWelcome(view, a, b)
    case MessageType.Assign: {
      const base = offset + 20
      return {
        type: 3,
        node: view.getUint32(12, true),
        load: view.getInt32(16, true),
        count: a,
        requestId: u32Column(buffer, base, a),
        hash: u32Column(buffer, base + 4 * a, a),
        localCount: b,
        localHash: u32Column(buffer, base + 8 * a, b),
        localServed: u32Column(buffer, base + 8 * a + 4 * b, b),
      }
    }
    case MessageType.Reply: {
      const base = offset + 12
      return { type: 4, count: a, requestId: u32Column(buffer, base, a), chosen: i32Column(buffer, base + 4 * a, a) }
    }
    case MessageType.Done: {
      const base = offset + 12
      return { type: 5, count: a, node: i32Column(buffer, base, a), hash: u32Column(buffer, base + 4 * a, a) }
    }
    case MessageType.Membership: {
      const event = view.getUint8(16)
      const eventName = (Object.keys(MembershipEvent) as MembershipEventName[]).find((k) => MembershipEvent[k] === event)
      if (!eventName) return new ProtocolError('L7_PROTOCOL_BAD_FIELD', `MEMBERSHIP: unknown event ${event}`)
      const members = decodeMembers(view, 20, a, b)
      if (members instanceof ProtocolError) return members
      return { type: 6, node: view.getUint32(12, true), event: eventName, members }
    }
    case MessageType.Heartbeat:
      return { type: 7, load: view.getInt32(12, true), timeMs: view.getFloat64(16, true) }
    case MessageType.Error: {
      const text = utf8At(view, 16, a)
      if (text instanceof ProtocolError) return text
      return { type: 8, code: view.getUint16(12, true), text }
    }
  }
  return new ProtocolError('L7_PROTOCOL_BAD_TYPE', `unknown message type ${type}`)
}

function u32Column(buffer: ArrayBuffer, byteOffset: number, n: number): Uint32Array {
  if (LITTLE_ENDIAN_HOST) return new Uint32Array(buffer, byteOffset, n)
  const out = new Uint32Array(n)
  const view = new DataView(buffer, byteOffset, 4 * n)
  for (let i = 0; i < n; i++) out[i] = view.getUint32(4 * i, true)
  return out
}

function i32Column(buffer: ArrayBuffer, byteOffset: number, n: number): Int32Array {
  if (LITTLE_ENDIAN_HOST) return new Int32Array(buffer, byteOffset, n)
  const out = new Int32Array(n)
  const view = new DataView(buffer, byteOffset, 4 * n)
  for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true)
  return out
}

function utf8At(view: DataView, at: number, n: number): string | ProtocolError {
  try {
    return utf8Strict.decode(new Uint8Array(view.buffer, view.byteOffset + at, n))
  } catch {
    return new ProtocolError('L7_PROTOCOL_BAD_FIELD', `string at byte ${at} (${n} bytes) is not valid UTF-8`)
  }
}

function decodeHello(view: DataView, a: number, b: number): HelloMessage | ProtocolError {
  const address = utf8At(view, 28, a)
  if (address instanceof ProtocolError) return address
  const token = utf8At(view, 28 + a, b)
  if (token instanceof ProtocolError) return token
  const weight = view.getUint32(16, true)
  if (weight < 1) return new ProtocolError('L7_PROTOCOL_BAD_FIELD', 'HELLO: weight must be at least 1')
  return { type: 1, nodeId: view.getUint32(12, true), weight, load: view.getInt32(20, true), address, token }
}

// WELCOME byte 23: the readings' choices (SPEC.md). All defaults encode as 0, the byte's old
// reserved value, so a WELCOME from before the choices existed decodes to the defaults.
const OWNER_UPDATES = ['always', 'new', 'never'] as const

function encodeChoices(p: PolicyParams): number {
  const owner = OWNER_UPDATES.indexOf(p.ownerUpdate ?? 'always')
  if (owner < 0) throw new RangeError(`unknown ownerUpdate ${p.ownerUpdate}`)
  return (p.costTies === 'id' ? 1 : 0) | (owner << 1) | (p.hotAlloc === 'receiving' ? 8 : 0) | (p.localRate === 'served' ? 16 : 0)
}

function decodeChoices(bits: number): Pick<PolicyParams, 'costTies' | 'ownerUpdate' | 'hotAlloc' | 'localRate'> | ProtocolError {
  const ownerUpdate = OWNER_UPDATES[(bits >> 1) & 3]
  if (ownerUpdate === undefined || bits >= 32) return new ProtocolError('L7_PROTOCOL_BAD_FIELD', `WELCOME: unknown policy choices ${bits}`)
  return { costTies: bits & 1 ? 'id' : 'load', ownerUpdate, hotAlloc: bits & 8 ? 'receiving' : 'set', localRate: bits & 16 ? 'served' : 'arrivals' }
}

function decodeWelcome(view: DataView, a: number, b: number): WelcomeMessage | ProtocolError {
  const policy = POLICY_NAMES[view.getUint8(20)]
  if (!policy) return new ProtocolError('L7_PROTOCOL_BAD_FIELD', `WELCOME: unknown policy index ${view.getUint8(20)}`)
  const rateEstimator = RATE_ESTIMATORS[view.getUint8(21)]
  if (!rateEstimator) return new ProtocolError('L7_PROTOCOL_BAD_FIELD', `WELCOME: unknown rate estimator ${view.getUint8(21)}`)
  const implCode = view.getUint8(22)
  if (implCode > 1) return new ProtocolError('L7_PROTOCOL_BAD_FIELD', `WELCOME: unknown implementation ${implCode}`)
  const choices = decodeChoices(view.getUint8(23))
  if (choices instanceof ProtocolError) return choices
  const params = { rateEstimator, ...choices } as PolicyParams
  PARAM_KEYS.forEach((key, i) => {
    ;(params as unknown as Record<string, number>)[key] = view.getFloat64(24 + 8 * i, true)
  })
  const members = decodeMembers(view, 152, a, b)
  if (members instanceof ProtocolError) return members
  return {
    type: 2,
    nodeId: view.getUint32(12, true),
    heartbeatIntervalMs: view.getUint32(16, true),
    policy,
    impl: implCode === 1 ? 'wasm' : 'ts',
    params,
    members,
  }
}

function decodeMembers(view: DataView, at: number, n: number, addressBytes: number): Member[] | ProtocolError {
  let total = 0
  for (let i = 0; i < n; i++) total += view.getUint16(at + 12 * i + 10, true)
  if (total !== addressBytes) {
    return new ProtocolError('L7_PROTOCOL_BAD_FIELD', `membership: address lengths sum to ${total}, address area is ${addressBytes} bytes`)
  }
  const members: Member[] = []
  let addressAt = at + 12 * n
  for (let i = 0; i < n; i++) {
    const record = at + 12 * i
    const up = view.getUint8(record + 8)
    if (up > 1) return new ProtocolError('L7_PROTOCOL_BAD_FIELD', `membership record ${i}: up flag ${up} is not 0 or 1`)
    const length = view.getUint16(record + 10, true)
    const address = utf8At(view, addressAt, length)
    if (address instanceof ProtocolError) return address
    addressAt += length
    members.push({ id: view.getUint32(record, true), weight: view.getUint32(record + 4, true), up: up === 1, address })
  }
  return members
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** A growable, reusable output buffer: an encoded frame is a view on it, valid until the next encode. */
export class FrameBuffer {
  private buffer = new ArrayBuffer(0)
  bytes = new Uint8Array(0)
  view = new DataView(this.buffer)

  constructor(initialBytes = 64 * 1024) {
    this.ensure(initialBytes)
  }

  ensure(bytes: number): void {
    if (bytes <= this.buffer.byteLength) return
    let size = Math.max(64, this.buffer.byteLength)
    while (size < bytes) size *= 2
    this.buffer = new ArrayBuffer(size)
    this.bytes = new Uint8Array(this.buffer)
    this.view = new DataView(this.buffer)
  }

  u32(byteOffset: number, n: number): Uint32Array {
    return new Uint32Array(this.buffer, byteOffset, n)
  }

  i32(byteOffset: number, n: number): Int32Array {
    return new Int32Array(this.buffer, byteOffset, n)
  }
}

function writeHeader(view: DataView, type: MessageTypeCode, a: number, b: number): void {
  view.setUint16(0, MAGIC, true)
  view.setUint8(2, VERSION)
  view.setUint8(3, type)
  view.setUint32(4, a, true)
  view.setUint32(8, b, true)
}

function checkCount(what: string, n: number, limit: number): void {
  if (!Number.isInteger(n) || n < 0 || n > limit) throw new RangeError(`${what}: count ${n} outside 0..${limit}`)
}

/** Copies column n values into the frame, little-endian whatever the host. */
function writeU32Column(out: FrameBuffer, at: number, source: ArrayLike<number>, n: number): void {
  if (LITTLE_ENDIAN_HOST && (source instanceof Uint32Array || source instanceof Int32Array)) {
    const target = source instanceof Uint32Array ? out.u32(at, n) : out.i32(at, n)
    target.set(source.length === n ? source : source.subarray(0, n))
    return
  }
  for (let i = 0; i < n; i++) out.view.setUint32(at + 4 * i, source[i] >>> 0, true)
}

/** ASSIGN from columns: requestId/hash[0..n), localHash/localServed[0..m). */
export function encodeAssignInto(
  out: FrameBuffer,
  node: number,
  load: number,
  requestId: Uint32Array,
  hash: Uint32Array,
  n: number,
  localHash: Uint32Array,
  localServed: Uint32Array,
  m: number,
): Uint8Array {
  checkCount('ASSIGN requests', n, LAYOUTS[3].limitA)
  checkCount('ASSIGN local pairs', m, LAYOUTS[3].limitB)
  const size = 20 + 8 * n + 8 * m
  out.ensure(size)
  writeHeader(out.view, MessageType.Assign, n, m)
  out.view.setUint32(12, node, true)
  out.view.setInt32(16, load, true)
  writeU32Column(out, 20, requestId, n)
  writeU32Column(out, 20 + 4 * n, hash, n)
  writeU32Column(out, 20 + 8 * n, localHash, m)
  writeU32Column(out, 20 + 8 * n + 4 * m, localServed, m)
  return out.bytes.subarray(0, size)
}

/** REPLY from columns requestId/chosen[0..n). */
export function encodeReplyInto(out: FrameBuffer, requestId: Uint32Array, chosen: Int32Array, n: number): Uint8Array {
  checkCount('REPLY', n, LAYOUTS[4].limitA)
  const size = 12 + 8 * n
  out.ensure(size)
  writeHeader(out.view, MessageType.Reply, n, 0)
  writeU32Column(out, 12, requestId, n)
  writeU32Column(out, 12 + 4 * n, chosen, n)
  return out.bytes.subarray(0, size)
}

/** DONE from columns node/hash[0..n). */
export function encodeDoneInto(out: FrameBuffer, node: Int32Array, hash: Uint32Array, n: number): Uint8Array {
  checkCount('DONE', n, LAYOUTS[5].limitA)
  const size = 12 + 8 * n
  out.ensure(size)
  writeHeader(out.view, MessageType.Done, n, 0)
  writeU32Column(out, 12, node, n)
  writeU32Column(out, 12 + 4 * n, hash, n)
  return out.bytes.subarray(0, size)
}

function encodeMembers(members: readonly Member[]): { records: Uint8Array; addresses: Uint8Array } {
  const addressParts = members.map((m) => utf8.encode(m.address))
  const records = new Uint8Array(12 * members.length)
  const view = new DataView(records.buffer)
  members.forEach((m, i) => {
    if (addressParts[i].length > 0xffff) throw new RangeError(`member ${m.id}: address longer than 65535 bytes`)
    view.setUint32(12 * i, m.id, true)
    view.setUint32(12 * i + 4, m.weight, true)
    view.setUint8(12 * i + 8, m.up ? 1 : 0)
    view.setUint16(12 * i + 10, addressParts[i].length, true)
  })
  return { records, addresses: concat(addressParts) }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

function frame(type: MessageTypeCode, a: number, b: number, body: Uint8Array[]): Uint8Array {
  const layout = LAYOUTS[type]
  checkCount(`type ${type} countA`, a, layout.limitA)
  checkCount(`type ${type} countB`, b, layout.limitB)
  const bytes = concat([new Uint8Array(HEADER_BYTES), ...body])
  writeHeader(new DataView(bytes.buffer), type, a, b)
  return bytes
}

function fixed(size: number, fill: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(size)
  fill(new DataView(bytes.buffer))
  return bytes
}

/**
 * Encodes any message into a new buffer (the cold path: registration, membership, errors;
 * also ASSIGN/REPLY/DONE for tests). Throws RangeError on values the format cannot carry.
 */
export function encodeMessage(message: Message): Uint8Array {
  switch (message.type) {
    case MessageType.Hello: {
      const address = utf8.encode(message.address)
      const token = utf8.encode(message.token)
      const head = fixed(16, (v) => {
        v.setUint32(0, message.nodeId, true)
        v.setUint32(4, message.weight, true)
        v.setInt32(8, message.load, true)
      })
      return frame(1, address.length, token.length, [head, address, token])
    }
    case MessageType.Welcome: {
      const policyIndex = POLICY_NAMES.indexOf(message.policy)
      const estimatorIndex = RATE_ESTIMATORS.indexOf(message.params.rateEstimator)
      if (policyIndex < 0) throw new RangeError(`unknown policy ${message.policy}`)
      if (estimatorIndex < 0) throw new RangeError(`unknown rate estimator ${message.params.rateEstimator}`)
      const head = fixed(140, (v) => {
        v.setUint32(0, message.nodeId, true)
        v.setUint32(4, message.heartbeatIntervalMs, true)
        v.setUint8(8, policyIndex)
        v.setUint8(9, estimatorIndex)
        v.setUint8(10, message.impl === 'wasm' ? 1 : 0)
        v.setUint8(11, encodeChoices(message.params))
        PARAM_KEYS.forEach((key, i) => v.setFloat64(12 + 8 * i, message.params[key], true))
      })
      const { records, addresses } = encodeMembers(message.members)
      return frame(2, message.members.length, addresses.length, [head, records, addresses])
    }
    case MessageType.Assign: {
      const out = new FrameBuffer(20 + 8 * message.count + 8 * message.localCount)
      return encodeAssignInto(
        out,
        message.node,
        message.load,
        message.requestId,
        message.hash,
        message.count,
        message.localHash,
        message.localServed,
        message.localCount,
      ).slice()
    }
    case MessageType.Reply:
      return encodeReplyInto(new FrameBuffer(12 + 8 * message.count), message.requestId, message.chosen, message.count).slice()
    case MessageType.Done:
      return encodeDoneInto(new FrameBuffer(12 + 8 * message.count), message.node, message.hash, message.count).slice()
    case MessageType.Membership: {
      const head = fixed(8, (v) => {
        v.setUint32(0, message.node, true)
        v.setUint8(4, MembershipEvent[message.event])
      })
      const { records, addresses } = encodeMembers(message.members)
      return frame(6, message.members.length, addresses.length, [head, records, addresses])
    }
    case MessageType.Heartbeat:
      return frame(7, 0, 0, [
        fixed(12, (v) => {
          v.setInt32(0, message.load, true)
          v.setFloat64(4, message.timeMs, true)
        }),
      ])
    case MessageType.Error: {
      // Keep the text within the limit, cutting on a character boundary.
      let text = utf8.encode(message.text)
      if (text.length > LAYOUTS[8].limitA) text = utf8.encode(truncateUtf8(message.text, LAYOUTS[8].limitA))
      const head = fixed(4, (v) => v.setUint16(0, message.code, true))
      return frame(8, text.length, 0, [head, text])
    }
  }
}

/** The longest prefix of `text` whose UTF-8 form fits in `maxBytes`. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8.encode(text).length <= maxBytes) return text
  let out = ''
  let bytes = 0
  for (const ch of text) {
    const size = utf8.encode(ch).length
    if (bytes + size > maxBytes) break
    out += ch
    bytes += size
  }
  return out
}

/** An ERROR frame (convenience for the cold path). */
export function encodeError(code: ErrorCodeValue, text: string): Uint8Array {
  return encodeMessage({ type: 8, code, text })
}
