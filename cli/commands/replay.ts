import { Flags } from '@oclif/core'
import { withAtomicFile, writeFileAtomic } from '../../service/core/atomic-write.js'
import { InvalidArgumentError } from '../../service/core/errors.js'
import { hgrmFromEncoded, replayFailure, runReplay, type ReplayMode, type ReplayProgress } from '../../service/replay/index.js'
import { formatResultTable } from '../../service/replay/table.js'
import { openReplaySource } from '../../service/replay/source.js'
import { TRACE_FORMATS } from '../../service/trace/index.js'
import type { TraceFormat } from '../../service/trace/types.js'
import { L7Command } from '../command.js'
import { interruptible } from '../interrupt.js'
import { arrivalSeedFlag, commaList, durationFlag, inputPathArg, jsonFlag, parseNumber } from '../flags.js'

export default class Replay extends L7Command {
  static override description =
    'Replay a trace against web servers and measure latency honestly: from each request\'s scheduled send time ' +
    '(no coordinated omission), in HdrHistograms, beside the service time and the generator\'s own send lag. ' +
    'Open loop on the trace\'s own timing (timed) or at a fixed rate, or closed-loop users (SURGE UEs). ' +
    'Ctrl-C prints the results so far. Exits 1 with the reason on one line when more than --max-errors of the sent ' +
    'requests failed, or nothing was sent. Only --methods are sent (a log keeps no request bodies); what is skipped is counted.'

  static override examples = [
    '<%= config.bin %> replay traces/surge-sample/trace.l7 --target http://127.0.0.1:9080 --speed 10 --max-gap 5s',
    '<%= config.bin %> replay traces/epa-http_1995-08-30.log.gz --mode timed --speed 500 --duration 20s --target http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083',
    '<%= config.bin %> replay traces/epa-http_1995-08-30.log.gz --target http://127.0.0.1:8081,http://127.0.0.1:8082 --mode rate --rate 500 --arrivals poisson --duration 30s',
    '<%= config.bin %> replay traces/surge-sample --mode closed --users 200 --target http://127.0.0.1:8081,http://127.0.0.1:8082 --http1.0 --duration 1m --report replay.html',
    '<%= config.bin %> replay traces/surge-sample/trace.l7 --target http://127.0.0.1:9080 --mode rate --rate 2000 --requests 100000 --json --hgrm latency.hgrm',
    '<%= config.bin %> replay traces/surge-sample/trace.l7 --target http://127.0.0.1:9080 --mode closed --users 50 --off-time 0 --duration 30s --client fast',
  ]

  static override args = {
    trace: inputPathArg('trace file (l7, CLF, Combined, EPA; gzip ok) or SURGE directory'),
  }

  static override flags = {
    target: Flags.string({ description: 'base URL(s), comma-separated: requests go round robin over them', required: true }),
    format: Flags.string({ description: 'trace format (default: detected)', options: [...TRACE_FORMATS] }),
    mode: Flags.string({ description: 'load model (default: timed when the trace has times)', options: ['timed', 'rate', 'closed'] }),
    speed: Flags.string({ description: 'timed: trace time runs this many times faster', default: '1' }),
    'max-gap': durationFlag({ description: 'timed/closed: clamp idle gaps of the trace to this (e.g. 5s)' }),
    rate: Flags.string({ description: 'rate: requests per second' }),
    arrivals: Flags.string({ description: 'rate: arrival process', options: ['constant', 'poisson'], default: 'constant' }),
    'arrival-seed': arrivalSeedFlag,
    users: Flags.integer({ description: 'closed: users (user equivalents)', min: 1 }),
    'off-time': durationFlag({ description: 'closed: fixed OFF time after each object (e.g. 500ms, or 0), instead of the trace\'s', zero: true }),
    'object-gap': durationFlag({ description: 'closed, from a log: a user\'s gap that starts a new object', default: '1s' }),
    duration: durationFlag({ description: 'measured time (e.g. 30s, 2m); the trace loops in rate and closed modes' }),
    requests: Flags.integer({ description: 'measured requests to send', min: 1 }),
    warmup: durationFlag({ description: 'time at the start whose requests are not recorded', default: '0', zero: true }),
    'http1.0': Flags.boolean({ description: 'a new connection per request (Connection: close), as SURGE\'s client', default: false }),
    connections: Flags.integer({ description: 'connections per target (default 10; closed mode: users)', min: 1 }),
    client: Flags.string({
      description:
        'HTTP client (default: fast, or undici with --pipelining): fast is a lean HTTP/1.x client (keep-alive or --http1.0, ' +
        'one request at a time per connection), about half undici\'s CPU per request; undici does every connection style',
      options: ['undici', 'fast'],
    }),
    methods: Flags.string({ description: 'methods sent, comma-separated, or `all`; other requests are skipped and counted', default: 'GET,HEAD' }),
    'max-errors': Flags.string({ description: 'share of the sent requests that may fail before the run exits 1 (e.g. 1%, 0%)', default: '1%' }),
    pipelining: Flags.integer({ description: 'requests in flight per keep-alive connection', default: 1, min: 1 }),
    timeout: durationFlag({ description: 'per-request timeout', default: '10s' }),
    json: jsonFlag('print the results as JSON (histograms included, base64)'),
    hgrm: Flags.string({ description: 'write the latency percentile distribution (.hgrm, HdrHistogram plotter format)' }),
    report: Flags.string({ description: 'write a self-contained HTML report with plots' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Replay)
    const mode = flags.mode as ReplayMode | undefined
    const durationS = flags.duration
    const source = await openReplaySource(args.trace, {
      format: flags.format as TraceFormat | undefined,
      closed: mode === 'closed',
      users: flags.users,
      loop: durationS !== undefined || flags.requests !== undefined,
    })
    const progress = process.stderr.isTTY ? new ProgressLine() : undefined
    const interrupt = interruptible('results so far follow')
    const maxErrorShare = parseShare(flags['max-errors'], '--max-errors')
    const shown = new Set<string>()
    let result
    try {
      result = await runReplay({
        records: source.records,
        objects: source.objects,
        traceProblems: source.problems,
        targets: commaList(flags.target),
        mode,
        speed: parseNumber(flags.speed, '--speed', { above: 0 }),
        maxGapMs: flags['max-gap'] === undefined ? undefined : flags['max-gap'] * 1000,
        rate: flags.rate === undefined ? undefined : parseNumber(flags.rate, '--rate', { above: 0 }),
        arrivals: flags.arrivals as 'constant' | 'poisson',
        seed: flags['arrival-seed'],
        users: flags.users,
        offTimeMs: flags['off-time'] === undefined ? undefined : flags['off-time'] * 1000,
        objectGapMs: flags['object-gap'] * 1000,
        durationS,
        requests: flags.requests,
        warmupS: flags.warmup,
        http10: flags['http1.0'],
        connections: flags.connections,
        pipelining: flags.pipelining,
        client: flags.client as 'undici' | 'fast' | undefined,
        methods: flags.methods === 'all' ? undefined : commaList(flags.methods).map((method) => method.toUpperCase()),
        timeoutMs: flags.timeout * 1000,
        signal: interrupt.signal,
        onProgress: progress && ((state) => progress.draw(state)),
        onWarning: (message) => {
          progress?.clear()
          shown.add(message)
          process.stderr.write(`warning: ${message}\n`)
        },
      })
    } finally {
      interrupt.dispose()
      progress?.clear()
    }
    if (flags.hgrm) await writeFileAtomic(flags.hgrm, await hgrmFromEncoded(result.histograms.latencyUs))
    // Vega is heavy to load: only when a report is asked for.
    if (flags.report) {
      const { writeHtmlReport } = await import('../../service/replay/report.js')
      await withAtomicFile(flags.report, (path) => writeHtmlReport(result, path))
    }
    if (flags.json) this.log(JSON.stringify(result, null, 2))
    else this.log(formatResultTable(result, shown))
    const failure = replayFailure(result, maxErrorShare)
    if (failure) this.error(failure, { exit: 1 })
  }
}

/** `1%` or `1` (per cent) -> 0.01. */
function parseShare(text: string, flag: string): number {
  const value = Number(text.replace(/%$/, ''))
  if (!(Number.isFinite(value) && value >= 0 && value <= 100)) {
    throw new InvalidArgumentError(`${flag} ${JSON.stringify(text)}: expected a percentage from 0% to 100%, e.g. 1%`)
  }
  return value / 100
}

/** One self-rewriting line on stderr (a TTY): a bar when the run's length is known. */
class ProgressLine {
  draw(state: ReplayProgress): void {
    const bar = state.fraction >= 0 ? `[${'#'.repeat(Math.round(state.fraction * 20)).padEnd(20, '.')}] ${Math.round(state.fraction * 100)}% ` : ''
    const text =
      `${bar}${state.elapsedS.toFixed(0)} s  ${state.requests} sent  ${state.currentRps} req/s  ` +
      `p99 ${state.latencyP99Ms.toFixed(1)} ms  errors ${state.errors}  lag ${state.sendLagMaxMs.toFixed(1)} ms`
    process.stderr.write(`\r\x1b[2K${text}`)
  }

  clear(): void {
    process.stderr.write('\r\x1b[2K')
  }
}
