// The frames of a sibling channel (fd-channel.ts), and how a received descriptor is matched to
// the frame it was sent with.
//
// Every frame is length-prefixed, big endian:
//
//   u32 length of what follows | u8 kind | u8 route | u32 seq | payload
//
//   HELLO  seq = the sender's node id; sent once, when the channel opens
//   PASS   seq = the pass's number on this channel, route = dispatched|fallback|reused, payload = every
//          byte read from the client and not yet answered; the client's descriptor is sent with
//          the frame's first byte
//   ACK    seq of a PASS whose descriptor arrived (the receiver has taken the client)
//   NACK   seq of a PASS whose descriptor did not arrive (the sender keeps the client)
//
// Matching a descriptor to its frame: each PASS frame is written by one sendmsg carrying the
// descriptor, so the kernel attaches the descriptor to the frame's first byte, and a read that
// returns a descriptor stops at the end of the segment that carried it (Linux
// unix_stream_read_generic). So the descriptor received with a read belongs to the PASS frame
// that starts within that read's bytes. The decoder keeps the byte range each descriptor came
// with and gives a PASS frame the descriptor whose range holds the frame's first byte: a frame
// whose descriptor went missing (MSG_CTRUNC) gets none (the receiver answers NACK and the
// sender serves that client itself). The channel spec passes many clients at once and checks
// each gets its own bytes back.

import type { HandoffRoute } from '../node/credential.js'

export const FRAME_HELLO = 1
export const FRAME_PASS = 2
export const FRAME_ACK = 3
export const FRAME_NACK = 4
export type FrameKind = typeof FRAME_HELLO | typeof FRAME_PASS | typeof FRAME_ACK | typeof FRAME_NACK

/** Bytes before the payload: length (4), kind (1), route (1), seq (4). */
export const FRAME_HEADER_BYTES = 10
/** A frame larger than this is a broken channel (a PASS carries at most about 80 KiB). */
export const MAX_FRAME_BYTES = 16 << 20

/** The route byte's values, by index. */
const ROUTES: HandoffRoute[] = ['dispatched', 'fallback', 'reused']

export interface Frame<H> {
  kind: FrameKind
  route: HandoffRoute
  seq: number
  /** PASS only: the client's bytes. */
  payload: Buffer
  /** PASS only: the descriptor that came with the frame, or null if it did not arrive. */
  handle: H | null
}

export class FrameError extends Error {}

function header(kind: FrameKind, seq: number, route: HandoffRoute, bodyLength: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLength)
  frame.writeUInt32BE(FRAME_HEADER_BYTES - 4 + bodyLength, 0)
  frame[4] = kind
  frame[5] = ROUTES.indexOf(route)
  frame.writeUInt32BE(seq >>> 0, 6)
  return frame
}

/** A HELLO (seq = node id), ACK or NACK. */
export function encodeFrame(kind: typeof FRAME_HELLO | typeof FRAME_ACK | typeof FRAME_NACK, seq: number): Buffer {
  return header(kind, seq, 'dispatched', 0)
}

export function encodePass(seq: number, route: HandoffRoute, bytes: Uint8Array): Buffer {
  const frame = header(FRAME_PASS, seq, route, bytes.length)
  frame.set(bytes, FRAME_HEADER_BYTES)
  return frame
}

/** Decodes the frames of one direction of a channel, with the descriptors that came with them. */
export class FrameDecoder<H> {
  /** Bytes received and not yet decoded. */
  private rest: Buffer | null = null
  /** Stream offset of rest[0]. */
  private restOffset = 0
  /** Stream offset of the end of everything received. */
  private received = 0
  /** Descriptors not yet given to a frame, each with the stream range of the read it came with. */
  private handles: Array<{ handle: H; start: number; end: number }> = []

  /**
   * Adds one read's bytes (and the descriptor that came with them) and returns the frames now
   * complete, and descriptors that can no longer belong to any frame (to be closed).
   */
  push(chunk: Buffer, handle: H | null = null): { frames: Frame<H>[]; orphans: H[] } {
    const start = this.received
    this.received += chunk.length
    if (handle !== null) this.handles.push({ handle, start, end: this.received })
    let bytes = this.rest ? Buffer.concat([this.rest, chunk]) : chunk
    let offset = this.restOffset
    const frames: Frame<H>[] = []
    const orphans: H[] = []
    while (bytes.length >= 4) {
      const length = bytes.readUInt32BE(0)
      if (length < FRAME_HEADER_BYTES - 4 || length > MAX_FRAME_BYTES) throw new FrameError(`frame length ${length} out of range`)
      if (bytes.length < 4 + length) break
      const kind = bytes[4]
      if (kind < FRAME_HELLO || kind > FRAME_NACK) throw new FrameError(`unknown frame kind ${kind}`)
      const route = ROUTES[bytes[5]]
      if (route === undefined) throw new FrameError(`unknown route ${bytes[5]}`)
      let frameHandle: H | null = null
      const payload = bytes.subarray(FRAME_HEADER_BYTES, 4 + length)
      if (kind === FRAME_PASS) {
        // Descriptors that came before this frame's first byte matched no frame.
        while (this.handles.length > 0 && this.handles[0].end <= offset) orphans.push(this.handles.shift()!.handle)
        if (this.handles.length > 0 && this.handles[0].start <= offset) frameHandle = this.handles.shift()!.handle
      } else if (payload.length > 0) {
        throw new FrameError(`frame kind ${kind} with a payload`)
      }
      frames.push({ kind: kind as FrameKind, route, seq: bytes.readUInt32BE(6), payload, handle: frameHandle })
      bytes = bytes.subarray(4 + length)
      offset += 4 + length
    }
    this.rest = bytes.length > 0 ? bytes : null
    this.restOffset = offset
    return { frames, orphans }
  }

  /** Descriptors received and not given to any frame (the channel is closing: close them). */
  drain(): H[] {
    const left = this.handles.map((h) => h.handle)
    this.handles = []
    this.rest = null
    return left
  }
}
