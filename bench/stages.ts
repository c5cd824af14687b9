// Micro-benchmarks of the node's request-path stages, one operation each, in this process:
// what a request costs in each stage before any socket is involved. The parser is measured
// against Node's own (llhttp, as node:http uses it) on the same bytes; the other stages have
// no peer and their figures are for spotting regressions, not for claims.

import { HTTPParserBinding, loadLlhttp } from './peers/llhttp.js'
import { signHandoff, verifyHandoff } from '../service/node/credential.js'
import { createTargetHasher } from '../service/node/hash.js'
import { parseRequestHead, type RequestHead } from '../service/node/http.js'
import { lexicalPath } from '../service/node/paths.js'
import { forwardedRequest } from '../service/node/relay.js'
import { targetHash } from '../service/node/request-path.js'
import { parseResponseHead } from '../service/node/response.js'
import { encodeClientFrame } from '../service/control-client/websocket.js'
import { RecentAssignments } from '../service/policy/recent-assignments.js'

export interface StageFigure {
  stage: string
  operation: string
  nsPerOp: number
  /** Node's llhttp on the same bytes, where there is a peer. */
  peerNsPerOp?: number
  ratio?: number
}

export interface StagesResult {
  iterations: number
  rounds: number
  figures: StageFigure[]
}

const REQUEST = Buffer.from('GET /docs/a/b.html?x=1 HTTP/1.1\r\nHost: cluster.example\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n', 'latin1')
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: l7\r\nDate: Fri, 04 Dec 2026 12:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 21000\r\n' +
    'Connection: keep-alive\r\nX-L7-Node: 2\r\nX-L7-Route: handoff\r\nX-L7-Cache: hit\r\n\r\n',
  'latin1',
)

/** ns per call of `op`, the median of `rounds` timed loops of `iterations` calls. */
function time(op: () => unknown, iterations: number, rounds: number): number {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) op()
  const samples: number[] = []
  for (let r = 0; r < rounds; r++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) op()
    samples.push(Number(process.hrtime.bigint() - started) / iterations)
  }
  samples.sort((a, b) => a - b)
  return samples[samples.length >> 1]
}

function headOf(bytes: Buffer): RequestHead {
  const parsed = parseRequestHead(bytes)
  if (!('head' in parsed)) throw new Error('stage bench: the sample request does not parse')
  return parsed.head
}

export async function runStagesBench(options: { iterations?: number; rounds?: number } = {}): Promise<StagesResult> {
  const iterations = options.iterations ?? 100_000
  const rounds = options.rounds ?? 5
  const figures: StageFigure[] = []
  const add = (stage: string, operation: string, op: () => unknown, peer?: () => unknown) => {
    // Alternate the two sides round by round, so that drift on a shared machine hits both.
    let ours = 0
    let theirs = 0
    if (peer) {
      const mine: number[] = []
      const peers: number[] = []
      for (let r = 0; r < rounds; r++) {
        if (r % 2 === 0) {
          mine.push(time(op, iterations, 1))
          peers.push(time(peer, iterations, 1))
        } else {
          peers.push(time(peer, iterations, 1))
          mine.push(time(op, iterations, 1))
        }
      }
      ours = mine.sort((a, b) => a - b)[mine.length >> 1]
      theirs = peers.sort((a, b) => a - b)[peers.length >> 1]
      figures.push({ stage, operation, nsPerOp: ours, peerNsPerOp: theirs, ratio: ours / theirs })
    } else figures.push({ stage, operation, nsPerOp: time(op, iterations, rounds) })
  }

  const llhttp: HTTPParserBinding = loadLlhttp()
  add('front', 'parse a request head (4 fields)', () => parseRequestHead(REQUEST), () => llhttp.parse(REQUEST))

  const head = headOf(REQUEST)
  const hasher = await createTargetHasher()
  const raw = REQUEST.toString('latin1', head.pathStart, head.pathEnd)
  const rel = (lexicalPath(raw) as { rel: string }).rel
  add('route', 'lexical path check', () => lexicalPath(raw))
  add('route', 'target hash from the request bytes (Wasm)', () => targetHash(hasher, REQUEST, head, raw, rel))
  const spelled = Buffer.from('GET /docs//a/./b.html HTTP/1.1\r\nHost: h\r\n\r\n', 'latin1')
  const spelledHead = headOf(spelled)
  const spelledRaw = spelled.toString('latin1', spelledHead.pathStart, spelledHead.pathEnd)
  const spelledRel = (lexicalPath(spelledRaw) as { rel: string }).rel
  add('route', 'target hash of a path that needs normalising', () => targetHash(hasher, spelled, spelledHead, spelledRaw, spelledRel))
  // reuseMs (off by default): what a node with the option on adds to every request it routes.
  const recent = new RecentAssignments(20)
  const hash = targetHash(hasher, REQUEST, head, raw, rel)
  recent.remember(hash, 1, 0)
  add('route', 'look up a recent dispatcher answer (reuseMs)', () => recent.lookup(hash, 1))

  const line = `x-l7-handoff: ${signHandoff('token', 2, 'dispatched', 'GET', head.target)}\r\n`
  add('relay', 'request head as forwarded (as received + credential)', () => forwardedRequest(REQUEST, head, line))
  const ten = headOf(Buffer.from('GET /docs/a/b.html HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n', 'latin1'))
  add('relay', 'request head as forwarded (rebuilt: HTTP/1.0, Connection)', () => forwardedRequest(REQUEST, ten, line))
  add('relay', 'parse a peer response head', () => parseResponseHead(RESPONSE))
  add('handoff', 'sign a credential', () => signHandoff('token', 2, 'dispatched', 'GET', head.target))
  const credential = signHandoff('token', 2, 'dispatched', 'GET', head.target)
  // A credential is single use: verifying the same one again is refused, which costs the same checks.
  add('handoff', 'verify a credential', () => verifyHandoff('token', credential, 2, 'GET', head.target))
  const assign = new Uint8Array(20 + 8 * 4)
  add('control', 'frame an ASSIGN of 4 requests (masked)', () => encodeClientFrame(0x2, assign))
  return { iterations, rounds, figures }
}

export function formatStagesBench(result: StagesResult): string {
  const rows = result.figures.map(
    (f) =>
      `${f.stage.padEnd(8)} ${f.operation.padEnd(56)} ${f.nsPerOp.toFixed(0).padStart(8)}` +
      (f.peerNsPerOp === undefined ? '' : `   llhttp ${f.peerNsPerOp.toFixed(0).padStart(6)}   ratio ${f.ratio!.toFixed(2)}`),
  )
  return [
    `node request-path stages, ns per operation (median of ${result.rounds} loops of ${result.iterations}); parser vs Node's llhttp on the same bytes:`,
    ...rows,
  ].join('\n')
}
