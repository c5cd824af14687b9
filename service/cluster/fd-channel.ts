// A node's direct channels to its sibling node processes, for `l7 cluster --handoff fd`: one
// Unix stream socket per pair of nodes, over which either node passes a client's connection
// (its descriptor, with every byte read from it and not yet answered) straight to the other.
// The `l7 cluster` parent's IPC route stays only for a pair whose channel is not up.
//
// A pass: the front end has stopped reading the client (front.ts detach), so what the client
// sends next waits in the kernel and travels with the descriptor; the handle leaves its
// client stream (client-stream.ts release) and goes out with a PASS frame
// (fd-frames.ts). The receiver answers ACK before it touches the client, and the sender keeps
// its copy of the descriptor until then: if the channel ends first (the receiver died, or
// stopped), every pass not acknowledged comes back and this node serves it itself (route
// `fallback`), from the bytes it kept, so the client gets its response. A receiver that is alive
// but has not read its channel for ackTimeoutMs may still take the client later, so the sender
// does not serve it: it shuts the client's connection down (a clean close, never a hang) and
// drops the channel.
//
// Channels are IPC pipes (ipc-pipe.ts) opened on descriptors this process inherited from the
// cluster parent, or connected by this process to a listener the parent made (fd-mesh.ts).

import { ClientStream } from '../node/client-stream.js'
import type { HandoffRoute } from '../node/credential.js'
import { encodeFrame, encodePass, FRAME_ACK, FRAME_HEADER_BYTES, FRAME_HELLO, FRAME_NACK, FRAME_PASS, FrameDecoder, FrameError, type Frame } from './fd-frames.js'
import { connectPipe, loadIpcPipes, UV_ECONNRESET, UV_EOF, type IpcPipes, type PipeHandle, type StreamHandle } from './ipc-pipe.js'

export const DEFAULT_ACK_TIMEOUT_MS = 5000
/** Bytes queued on a channel past which passes take another route (the sibling is not reading). */
const MAX_QUEUED_BYTES = 1 << 20

export interface SiblingChannelsOptions {
  self: number
  /** Counters to add to (for example the node's metrics); a fresh set by default. */
  stats?: ChannelStats
  /** Serves a client connection (its handle): one a sibling passed here, or one this node passed that came back. */
  adopt(handle: StreamHandle, bytes: Buffer, route: HandoffRoute): void
  log(message: string): void
  ackTimeoutMs?: number
}

export interface ChannelStats {
  /** Clients passed to a sibling over a channel. */
  passed: number
  /** Clients a sibling passed here. */
  received: number
  /** Clients passed that came back (the sibling refused or ended before taking them) and were served here. */
  takenBack: number
  /** Clients shut down because a sibling did not acknowledge in time. */
  ackTimeouts: number
}

const noop = () => {}
const CLOSED_BY_SIBLING = 'closed by the sibling'

/** Sends FIN to a client whose handle this process holds, then lets go of the handle. */
function shutDownClient(handle: StreamHandle): void {
  // What the client sends meanwhile is read and dropped.
  const stream = new ClientStream(handle, { data: noop, end: noop, close: noop })
  stream.end()
  setTimeout(() => stream.destroy(), 1000).unref()
}

interface Unacked {
  handle: StreamHandle
  bytes: Buffer
  deadline: number
}

/** One pipe to one sibling. */
class SiblingChannel {
  /** The sibling said HELLO: it is running and reads this channel. */
  up = false
  closed = false
  private readonly decoder = new FrameDecoder<StreamHandle>()
  private nextSeq = 1
  private readonly unacked = new Map<number, Unacked>()
  private ackTimer: NodeJS.Timeout | null = null
  /** PASS frames read in this turn of the event loop, answered together (answer()). */
  private arrived: Frame<StreamHandle>[] = []
  private answerScheduled = false

  constructor(
    readonly peer: number,
    private readonly pipe: PipeHandle,
    private readonly owner: SiblingChannels,
  ) {
    pipe.onread = (arrayBuffer) => this.onRead(arrayBuffer)
    // The channel alone does not keep the process alive (the node's listener does).
    pipe.unref()
    const err = pipe.readStart()
    if (err !== 0) {
      this.close(`cannot read (libuv error ${err})`, true)
      return
    }
    this.write(encodeFrame(FRAME_HELLO, owner.self))
  }

  get usable(): boolean {
    return this.up && !this.closed && this.pipe.writeQueueSize < MAX_QUEUED_BYTES
  }

  pass(socket: ClientStream, bytes: Buffer, route: HandoffRoute): void {
    const handle = socket.release()
    if (!handle) return // the client went away meanwhile: nothing to pass
    const seq = this.nextSeq++
    if (!this.write(encodePass(seq, route, bytes), handle)) {
      this.owner.takeBack(handle, bytes)
      return
    }
    this.owner.stats.passed++
    this.unacked.set(seq, { handle, bytes, deadline: performance.now() + this.owner.ackTimeoutMs })
    if (!this.ackTimer) this.armAckTimer()
  }

  /** One write; false when it could not be queued (the channel is then closed). */
  private write(frame: Buffer, handle?: StreamHandle): boolean {
    if (this.closed) return false
    const pipes = this.owner.pipes
    const req = pipes.writeRequest()
    req.handle = this.pipe
    req.async = false
    req.buffer = null
    // A failed write means the sibling's end is gone. Passes not acknowledged are settled when
    // the read side reaches the end: ACKs already sent by the sibling are still to be read.
    req.oncomplete = (status) => {
      if (status < 0) this.up = false
    }
    const err = handle ? this.pipe.writeBuffer(req, frame, handle) : this.pipe.writeBuffer(req, frame)
    if (err !== 0) {
      this.close(`write failed (libuv error ${err})`, true)
      return false
    }
    // The buffer (and the descriptor, kept in unacked) must live until libuv has sent it.
    if (pipes.lastWriteWasAsync()) req.buffer = frame
    return true
  }

  private onRead(arrayBuffer: ArrayBuffer | undefined): void {
    const pipes = this.owner.pipes
    const received = (this.pipe.pendingHandle ?? null) as StreamHandle | null
    this.pipe.pendingHandle = null
    const nread = pipes.readLength()
    if (!arrayBuffer || nread < 0) {
      received?.close()
      // The end, or a reset (the sibling died with frames of ours unread): either way, after
      // every byte it sent, ACKs included, has been read.
      this.close(nread === UV_EOF || nread === UV_ECONNRESET ? CLOSED_BY_SIBLING : `read failed (libuv error ${nread})`, true)
      return
    }
    let frames: Frame<StreamHandle>[]
    try {
      const decoded = this.decoder.push(Buffer.from(arrayBuffer, pipes.readOffset(), nread), received)
      for (const orphan of decoded.orphans) orphan.close()
      if (decoded.orphans.length > 0) this.owner.log(`channel to node ${this.peer}: ${decoded.orphans.length} descriptor(s) matched no frame`)
      frames = decoded.frames
    } catch (err) {
      if (!(err instanceof FrameError)) throw err
      this.close(`broken frame from node ${this.peer}: ${err.message}`, true)
      return
    }
    for (const frame of frames) {
      if (frame.kind === FRAME_HELLO) {
        if (frame.seq !== this.peer) {
          for (const f of frames) f.handle?.close()
          this.close(`HELLO from node ${frame.seq} on the channel to node ${this.peer}`, true)
          return
        }
        this.up = true
        this.owner.channelUp()
      } else if (frame.kind === FRAME_PASS) {
        this.arrived.push(frame)
        if (!this.answerScheduled) {
          this.answerScheduled = true
          setImmediate(() => this.answer())
        }
      } else {
        const pass = this.unacked.get(frame.seq)
        if (!pass) continue
        this.unacked.delete(frame.seq)
        // ACK: the sibling has the client; this process's copy of the descriptor goes.
        if (frame.kind === FRAME_ACK) pass.handle.close()
        else this.owner.takeBack(pass.handle, pass.bytes)
      }
    }
  }

  /**
   * Answers the PASS frames of this turn of the event loop in one write (each arrives in a
   * read of its own: the kernel ends a read with the descriptor), then takes their clients:
   * the ACK leaves before any response can.
   */
  private answer(): void {
    this.answerScheduled = false
    const arrived = this.arrived
    this.arrived = []
    if (this.closed) {
      // No ACK will reach the sender: it keeps (and serves) these clients.
      for (const frame of arrived) frame.handle?.close()
      return
    }
    const replies = Buffer.allocUnsafe(arrived.length * FRAME_HEADER_BYTES)
    arrived.forEach((frame, i) => replies.set(encodeFrame(frame.handle ? FRAME_ACK : FRAME_NACK, frame.seq), i * FRAME_HEADER_BYTES))
    if (!this.write(replies)) {
      for (const frame of arrived) frame.handle?.close()
      return
    }
    for (const frame of arrived) {
      if (!frame.handle) continue
      this.owner.stats.received++
      // The payload is a view of the read it came in (a buffer of that read's size).
      this.owner.adopt(frame.handle, frame.payload, frame.route)
    }
  }

  /** One timer per channel, armed for the oldest pass still waiting for its ACK. */
  private armAckTimer(): void {
    const oldest = this.unacked.values().next()
    if (oldest.done) {
      this.ackTimer = null
      return
    }
    this.ackTimer = setTimeout(() => this.onAckTimer(), Math.max(1, oldest.value.deadline - performance.now()))
    this.ackTimer.unref()
  }

  private onAckTimer(): void {
    this.ackTimer = null
    const now = performance.now()
    const oldest = this.unacked.values().next()
    if (!oldest.done && oldest.value.deadline <= now) {
      this.owner.log(`node ${this.peer} did not acknowledge a passed client within ${this.owner.ackTimeoutMs} ms: dropping the channel`)
      this.close('acknowledgement timed out', false)
      return
    }
    this.armAckTimer()
  }

  /**
   * Ends the channel. `takeBack`: passes not acknowledged are served here (the sibling can no
   * longer take them); otherwise (a sibling that may still read them) their clients are shut down.
   */
  close(reason: string, takeBack: boolean): void {
    if (this.closed) return
    this.closed = true
    this.up = false
    if (this.ackTimer) clearTimeout(this.ackTimer)
    this.ackTimer = null
    const unacked = [...this.unacked.values()]
    this.unacked.clear()
    for (const handle of this.decoder.drain()) handle.close()
    this.pipe.onread = noop
    this.pipe.readStop()
    this.pipe.close()
    this.owner.channelClosed(this, reason, unacked.length)
    for (const pass of unacked) {
      if (takeBack) this.owner.takeBack(pass.handle, pass.bytes)
      else {
        this.owner.stats.ackTimeouts++
        shutDownClient(pass.handle)
      }
    }
  }
}

/** Every channel of one node, by sibling id. */
export class SiblingChannels {
  readonly self: number
  readonly ackTimeoutMs: number
  readonly stats: ChannelStats
  private readonly channels = new Map<number, SiblingChannel>()
  private readonly upWaiters = new Set<() => void>()
  private stopped = false

  /** The channels, or why this Node cannot have them (a sentence for the log). */
  static create(options: SiblingChannelsOptions): SiblingChannels | string {
    const pipes = loadIpcPipes()
    return typeof pipes === 'string' ? pipes : new SiblingChannels(options, pipes)
  }

  private constructor(
    private readonly options: SiblingChannelsOptions,
    readonly pipes: IpcPipes,
  ) {
    this.self = options.self
    this.stats = options.stats ?? { passed: 0, received: 0, takenBack: 0, ackTimeouts: 0 }
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS
  }

  /** Opens the channel to `peer` on a descriptor this process inherited; false if it cannot. */
  open(peer: number, fd: number): boolean {
    if (this.stopped) return false
    const pipe = this.pipes.pipe('ipc')
    const err = pipe.open(fd)
    if (err !== 0) {
      pipe.close()
      this.log(`cannot open the channel to node ${peer} on descriptor ${fd} (libuv error ${err})`)
      return false
    }
    this.attach(peer, pipe)
    return true
  }

  /** Connects a channel to `peer` through the listener at `path` (made by the cluster parent). */
  connect(peer: number, path: string, timeoutMs: number): Promise<void> {
    const failed = (why: string) => new Error(`channel to node ${peer} (${path}): ${why}`)
    if (this.stopped) return Promise.reject(new Error('channels closed'))
    return connectPipe(this.pipes, 'ipc', path, timeoutMs).then(
      (pipe) => {
        if (this.stopped) {
          pipe.close()
          throw failed('channels closed')
        }
        this.attach(peer, pipe)
      },
      (err: Error) => {
        throw failed(err.message)
      },
    )
  }

  private attach(peer: number, pipe: PipeHandle): void {
    // A new channel to a restarted sibling replaces the old one (which has ended, or soon will).
    this.channels.get(peer)?.close('replaced', true)
    const channel = new SiblingChannel(peer, pipe, this)
    if (!channel.closed) this.channels.set(peer, channel)
  }

  canPass(peer: number): boolean {
    return this.channels.get(peer)?.usable ?? false
  }

  /** Passes the client to `peer`; false (the socket untouched) when there is no usable channel. */
  pass(peer: number, socket: ClientStream, bytes: Buffer, route: HandoffRoute): boolean {
    const channel = this.channels.get(peer)
    if (!channel?.usable) return false
    channel.pass(socket, bytes, route)
    return true
  }

  /** Resolves when every peer listed has said HELLO (or the channels are closed, or timeoutMs has passed) with the peers not up. */
  whenUp(peers: number[], timeoutMs: number): Promise<number[]> {
    const missing = () => peers.filter((p) => !this.channels.get(p)?.up)
    return new Promise((resolve) => {
      const check = () => {
        if (missing().length > 0 && !this.stopped) return
        done()
      }
      const done = () => {
        clearTimeout(timer)
        this.upWaiters.delete(check)
        resolve(missing())
      }
      const timer = setTimeout(done, timeoutMs)
      this.upWaiters.add(check)
      check()
    })
  }

  /** Stops: every channel ends; clients passed and not yet acknowledged are served here if this node still can. */
  close(): void {
    this.stopped = true
    for (const channel of [...this.channels.values()]) channel.close('node stopping', true)
    for (const wake of [...this.upWaiters]) wake()
  }

  // For the channels.

  channelUp(): void {
    for (const wake of [...this.upWaiters]) wake()
  }

  channelClosed(channel: SiblingChannel, reason: string, unacked: number): void {
    if (this.channels.get(channel.peer) === channel) this.channels.delete(channel.peer)
    // A sibling that stops or dies closes its end: the parent logs that; here only what it cost.
    const quiet = this.stopped || reason === 'replaced' || (reason === CLOSED_BY_SIBLING && unacked === 0)
    if (!quiet) this.log(`channel to node ${channel.peer} closed: ${reason}${unacked > 0 ? `; ${unacked} passed client(s) not taken` : ''}`)
  }

  adopt(handle: StreamHandle, bytes: Buffer, route: HandoffRoute): void {
    this.options.adopt(handle, bytes, route)
  }

  /** A client passed and not taken: served here, from the bytes kept. */
  takeBack(handle: StreamHandle, bytes: Buffer): void {
    this.stats.takenBack++
    if (this.stopped) {
      handle.close()
      return
    }
    this.options.adopt(handle, bytes, 'fallback')
  }

  log(message: string): void {
    this.options.log(message)
  }
}
