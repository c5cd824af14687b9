// Child process of `l7 bench dispatcher`: simulates one or more cluster nodes, each with its
// own control connection, sending Zipf-distributed assignment requests and DONE records, and
// measures round trips in an HdrHistogram. Driven over IPC by bench/dispatcher.ts.
import { connect, type Socket } from 'node:net'
import { ControlClient } from '../service/control-client/client.js'
import { encodeHistogram, initHistograms, newHistogram, recordMs } from '../service/replay/histograms.js'
import { mulberry32 } from '../service/core/random.js'
import { rankHash, ZipfSampler } from '../service/policy/workload.js'

export interface NodeChildConfig {
  url: string
  token: string
  nodeIds: number[]
  batching: boolean
  /**
   * closed: `concurrency` requests outstanding per node; open: `ratePerNode` requests/s on a
   * schedule; echo: the open schedule against a bare TCP echo server (`url` is then host:port),
   * no dispatcher, WebSocket or codec: the floor this machine puts under the open-loop figures.
   */
  mode: 'closed' | 'open' | 'echo'
  concurrency: number
  ratePerNode: number
  warmupMs: number
  durationMs: number
  /** Zipf popularity over this many targets with this exponent. */
  targets: number
  zipfExponent: number
  seed: number
}

export type ParentMessage = { type: 'config'; config: NodeChildConfig } | { type: 'start' }
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; completed: number; errors: number; histogram: string; batches: number; requests: number; cpuUs: number }
  | { type: 'failed'; message: string }

/** A table of Zipf-distributed target hashes, drawn once so the hot loop only indexes it. */
export function zipfHashes(targets: number, exponent: number, samples: number, seed: number): Uint32Array {
  const ranks = new ZipfSampler(targets, exponent, mulberry32(seed))
  const out = new Uint32Array(samples)
  for (let i = 0; i < samples; i++) out[i] = rankHash(ranks.next())
  return out
}

/**
 * One simulated node against the echo server, batching as the control client does: requests
 * issued while a message is in flight wait and leave together when it comes back. Each request's
 * round trip counts from its issue time, as in the open loop. A message carries 8 bytes per
 * request plus a 12-byte header, the size of an ASSIGN frame's payload.
 */
class EchoNode {
  private pending: number[] = []
  private inFlight: number[] = []
  private expected = 0
  private received = 0

  constructor(
    private readonly socket: Socket,
    private readonly record: (sentAt: number, now: number) => void,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length
      if (this.received < this.expected) return
      const now = performance.now()
      for (const sentAt of this.inFlight) this.record(sentAt, now)
      this.inFlight = []
      this.expected = this.received = 0
      this.send()
    })
  }

  issue(): void {
    this.pending.push(performance.now())
    if (this.inFlight.length === 0) setImmediate(this.sendTask)
  }

  private readonly sendTask = (): void => this.send()

  private send(): void {
    if (this.inFlight.length > 0 || this.pending.length === 0) return
    this.inFlight = this.pending
    this.pending = []
    this.expected = 12 + 8 * this.inFlight.length
    this.socket.write(Buffer.alloc(this.expected))
  }
}

async function runEcho(config: NodeChildConfig): Promise<ChildMessage> {
  await initHistograms()
  const histogram = newHistogram()
  const [host, port] = [config.url.slice(0, config.url.lastIndexOf(':')), Number(config.url.slice(config.url.lastIndexOf(':') + 1))]
  const sockets = await Promise.all(
    config.nodeIds.map(
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect({ host, port, noDelay: true }, () => resolve(socket))
          socket.once('error', reject)
        }),
    ),
  )
  send({ type: 'ready' })
  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  const measureFrom = start + config.warmupMs
  const stopAt = measureFrom + config.durationMs
  let completed = 0
  const record = (sentAt: number, now: number): void => {
    if (now >= measureFrom && now < stopAt) {
      completed++
      recordMs(histogram, now - sentAt)
    }
  }
  const echoNodes = sockets.map((socket) => new EchoNode(socket, record))
  let running = true
  const finished = new Promise<void>((resolve) => setTimeout(resolve, config.warmupMs + config.durationMs))
  // The open loop's schedule, tick for tick (see run()).
  const intervalMs = 1000 / config.ratePerNode
  const issued = new Float64Array(echoNodes.length)
  const tick = (): void => {
    if (!running) return
    const now = performance.now()
    echoNodes.forEach((node, k) => {
      while (start + issued[k] * intervalMs <= now) {
        issued[k]++
        node.issue()
      }
    })
    setTimeout(tick, 1)
  }
  tick()
  await finished
  running = false
  const cpu = process.cpuUsage(cpuBefore)
  for (const socket of sockets) socket.destroy()
  const encoded = encodeHistogram(histogram)
  histogram.destroy()
  return { type: 'result', completed, errors: 0, histogram: encoded, batches: 0, requests: 0, cpuUs: cpu.user + cpu.system }
}

async function run(config: NodeChildConfig): Promise<ChildMessage> {
  if (config.mode === 'echo') return runEcho(config)
  await initHistograms()
  const histogram = newHistogram()
  const clients = config.nodeIds.map(
    (nodeId) => new ControlClient({ url: config.url, nodeId, address: `bench-${nodeId}`, token: config.token, batching: config.batching, reconnect: false, maxBatch: 65536 }),
  )
  await Promise.all(clients.map((c) => c.connect()))
  send({ type: 'ready' })
  await new Promise<void>((resolve) => process.once('message', () => resolve()))

  const cpuBefore = process.cpuUsage()
  const hashes = zipfHashes(config.targets, config.zipfExponent, 1 << 16, config.seed)
  const mask = hashes.length - 1
  const start = performance.now()
  const measureFrom = start + config.warmupMs
  const stopAt = measureFrom + config.durationMs
  let completed = 0
  let errors = 0
  let running = true
  let cursor = config.seed & mask

  const finished = new Promise<void>((resolve) => setTimeout(resolve, config.warmupMs + config.durationMs))
  /** One decision: assign the next target, record the round trip (when measured), report the request done. */
  const decide = (client: ControlClient, onAnswered?: () => void): void => {
    const hash = hashes[cursor++ & mask]
    const sentAt = performance.now()
    client.assign(hash).then(
      (node) => {
        const now = performance.now()
        if (now >= measureFrom && now < stopAt) {
          completed++
          recordMs(histogram, now - sentAt)
        }
        client.done(hash, node)
        onAnswered?.()
      },
      () => {
        if (running) errors++ // closing at the end rejects what is still outstanding
      },
    )
  }

  if (config.mode === 'closed') {
    // `concurrency` request loops per node: each sends its next request when the last is answered.
    for (const client of clients) {
      for (let slot = 0; slot < config.concurrency; slot++) {
        const issue = (): void => {
          if (running) decide(client, issue)
        }
        issue()
      }
    }
  } else {
    // Open loop on an absolute schedule: sends never wait for answers. The round trip counts from
    // the assign() call, so the waiting of adaptive batching is in it, but not the generator's own
    // timer lateness (a 1 ms timer would add up to 1 ms that is not the dispatcher's).
    const intervalMs = 1000 / config.ratePerNode
    const issued = new Float64Array(clients.length)
    const tick = (): void => {
      if (!running) return
      const now = performance.now()
      clients.forEach((client, k) => {
        while (start + issued[k] * intervalMs <= now) {
          issued[k]++
          decide(client)
        }
      })
      setTimeout(tick, 1)
    }
    tick()
  }
  await finished
  running = false
  const cpu = process.cpuUsage(cpuBefore)
  const batches = clients.reduce((n, c) => n + c.counters.batches, 0)
  const requests = clients.reduce((n, c) => n + c.counters.requests, 0)
  await Promise.all(clients.map((c) => c.close()))
  const encoded = encodeHistogram(histogram)
  histogram.destroy()
  return { type: 'result', completed, errors, histogram: encoded, batches, requests, cpuUs: cpu.user + cpu.system }
}

function send(message: ChildMessage): void {
  process.send?.(message)
}

process.once('message', (message: ParentMessage) => {
  if (message.type !== 'config') return
  run(message.config).then(
    (result) => {
      send(result)
      process.disconnect?.()
    },
    (err: Error) => {
      send({ type: 'failed', message: err.message })
      process.disconnect?.()
    },
  )
})
