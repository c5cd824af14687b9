import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { encodeFrame, encodePass, FRAME_ACK, FRAME_HEADER_BYTES, FRAME_HELLO, FRAME_NACK, FrameDecoder, FrameError, MAX_FRAME_BYTES, type Frame } from './fd-frames.js'

/** What a decoded frame says, with its descriptor's name. */
function summary(frame: Frame<string>): string {
  return `${frame.kind}:${frame.route}:${frame.seq}:${frame.payload.toString('latin1')}:${frame.handle ?? '-'}`
}

test('frames come back as they were encoded, however the stream is cut', () => {
  const frames = [
    encodeFrame(FRAME_HELLO, 3),
    encodePass(1, 'dispatched', Buffer.from('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b')),
    encodeFrame(FRAME_ACK, 7),
    encodePass(2, 'fallback', Buffer.alloc(0)),
    encodeFrame(FRAME_NACK, 0xffffffff),
    encodePass(9, 'reused', Buffer.from('GET /c HTTP/1.1\r\nHost: x\r\n\r\n')),
  ]
  const stream = Buffer.concat(frames)
  const expected = ['1:dispatched:3::-', '2:dispatched:1:GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b:-', '3:dispatched:7::-', '2:fallback:2::-', '4:dispatched:4294967295::-', '2:reused:9:GET /c HTTP/1.1\r\nHost: x\r\n\r\n:-']
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set([0, ...cuts, stream.length])].sort((a, b) => a - b)
      const decoder = new FrameDecoder<string>()
      const out: string[] = []
      for (let i = 1; i < points.length; i++) out.push(...decoder.push(stream.subarray(points[i - 1], points[i])).frames.map(summary))
      assert.equal(out, expected)
    }),
  )
})

test('a descriptor goes to the PASS frame that starts in the read it came with', () => {
  const pass1 = encodePass(1, 'dispatched', Buffer.from('one'))
  const ack = encodeFrame(FRAME_ACK, 9)
  const pass2 = encodePass(2, 'dispatched', Buffer.from('two'))
  const decoder = new FrameDecoder<string>()
  // The first read ends 3 bytes into pass1 and carries its descriptor; the second holds the
  // rest of pass1, an ACK and the start of pass2 with pass2's descriptor (the kernel ends a
  // read with the segment that carried a descriptor).
  const a = decoder.push(pass1.subarray(0, 3), 'fd-1')
  assert.equal(a.frames, [])
  const b = decoder.push(Buffer.concat([pass1.subarray(3), ack, pass2.subarray(0, 5)]), 'fd-2')
  assert.equal(b.frames.map(summary), ['2:dispatched:1:one:fd-1', '3:dispatched:9::-'])
  const c = decoder.push(pass2.subarray(5))
  assert.equal(c.frames.map(summary), ['2:dispatched:2:two:fd-2'])
  assert.equal(c.orphans, [])
  assert.equal(decoder.drain(), [])
})

test('a PASS whose descriptor went missing gets none; descriptors no frame can claim are handed back to be closed', () => {
  const pass1 = encodePass(1, 'dispatched', Buffer.from('one'))
  const pass2 = encodePass(2, 'dispatched', Buffer.from('two'))
  // pass1's descriptor was lost (MSG_CTRUNC): its read carried none; pass2's came with its own read.
  const lost = new FrameDecoder<string>()
  assert.equal(lost.push(pass1).frames.map(summary), ['2:dispatched:1:one:-'])
  assert.equal(lost.push(pass2, 'fd-2').frames.map(summary), ['2:dispatched:2:two:fd-2'])
  // A descriptor whose read held no PASS start is an orphan once a later PASS is decoded.
  const stray = new FrameDecoder<string>()
  stray.push(encodeFrame(FRAME_ACK, 1), 'stray')
  const later = stray.push(encodePass(3, 'fallback', Buffer.from('x')), 'fd-3')
  assert.equal(later.orphans, ['stray'])
  assert.equal(later.frames.map(summary), ['2:fallback:3:x:fd-3'])
  // Descriptors still held when the channel ends are handed back.
  const half = new FrameDecoder<string>()
  half.push(encodePass(4, 'dispatched', Buffer.from('y')).subarray(0, 2), 'half')
  assert.equal(half.drain(), ['half'])
})

test('a broken stream is an error, not a guess', () => {
  const tooShort = Buffer.alloc(8)
  tooShort.writeUInt32BE(2, 0)
  assert.throws(() => new FrameDecoder().push(tooShort), (e: unknown) => e instanceof FrameError)
  const tooLong = Buffer.alloc(4)
  tooLong.writeUInt32BE(MAX_FRAME_BYTES + 1, 0)
  assert.throws(() => new FrameDecoder().push(tooLong), (e: unknown) => e instanceof FrameError)
  const badKind = encodeFrame(FRAME_ACK, 1)
  badKind[4] = 9
  assert.throws(() => new FrameDecoder().push(badKind), (e: unknown) => e instanceof FrameError)
  const badRoute = encodeFrame(FRAME_ACK, 1)
  badRoute[5] = 3
  assert.throws(() => new FrameDecoder().push(badRoute), (e: unknown) => e instanceof FrameError)
  const ackWithPayload = encodePass(1, 'dispatched', Buffer.from('x'))
  ackWithPayload[4] = FRAME_ACK
  assert.throws(() => new FrameDecoder().push(ackWithPayload), (e: unknown) => e instanceof FrameError)
  assert.is(encodeFrame(FRAME_HELLO, 1).length, FRAME_HEADER_BYTES)
})

test.run()
