import { Flags } from '@oclif/core'
import { formatDispatcherBench, runDispatcherBench } from '../../../bench/dispatcher.js'
import type { PolicyName } from '../../../service/policy/types.js'
import { L7Command } from '../../command.js'
import { durationFlag, jsonFlag, parseNumber, parseNumberList, policyFlag } from '../../flags.js'

export default class BenchDispatcher extends L7Command {
  static override description =
    'Decisions/s and round-trip latency (HdrHistogram p50/p99/p99.9) of the dispatcher with N simulated nodes in ' +
    'child processes sending Zipf requests and DONE records: adaptive batching against batching off in the same ' +
    'run, for each node count, plus a fixed offered load. Goals: >= 1,000,000 decisions/s with batching; p99 < 1 ms ' +
    'at 100,000 decisions/s offered.'

  static override examples = [
    '<%= config.bin %> bench dispatcher',
    '<%= config.bin %> bench dispatcher --json',
    '<%= config.bin %> bench dispatcher --nodes 4 --duration 2s --offered 0',
    '<%= config.bin %> bench dispatcher --policy lard --impl ts --concurrency 64',
  ]

  static override flags = {
    policy: policyFlag({ description: 'policy the dispatcher runs' }),
    impl: Flags.string({ description: 'scheduler implementation', options: ['wasm', 'ts'], default: 'wasm' }),
    nodes: Flags.string({ description: 'node counts, comma-separated', default: '4,16' }),
    processes: Flags.integer({ description: 'child processes the simulated nodes are spread over', default: 2, min: 1, max: 64 }),
    concurrency: Flags.integer({ description: 'requests outstanding per node (closed-loop runs)', default: 1024, min: 1, max: 65536 }),
    batching: Flags.string({ description: 'batching modes to run (one alone, e.g. to profile it)', options: ['both', 'on', 'off'], default: 'both' }),
    warmup: durationFlag({ description: 'warm-up per run (not measured)', default: '1s', zero: true }),
    duration: durationFlag({ description: 'measured time per run', default: '3s' }),
    offered: Flags.integer({ description: 'decisions/s offered in the fixed-load run (0 = skip)', default: 100_000, min: 0 }),
    'offered-nodes': Flags.integer({ description: 'nodes in the fixed-load run', default: 4, min: 1, max: 64 }),
    targets: Flags.integer({ description: 'distinct targets (Zipf ranks)', default: 10_000, min: 1 }),
    zipf: Flags.string({ description: 'Zipf exponent of target popularity', default: '1' }),
    json: jsonFlag('print {"results":[...]} as JSON'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchDispatcher)
    const result = await runDispatcherBench({
      policy: flags.policy as PolicyName,
      impl: flags.impl as 'wasm' | 'ts',
      nodes: parseNumberList(flags.nodes, '--nodes', { integer: true, min: 1, max: 64 }),
      processes: flags.processes,
      concurrency: flags.concurrency,
      warmupSeconds: flags.warmup,
      durationSeconds: flags.duration,
      offeredRate: flags.offered,
      offeredNodes: flags['offered-nodes'],
      batchingModes: flags.batching === 'both' ? [true, false] : [flags.batching === 'on'],
      targets: flags.targets,
      zipfExponent: parseNumber(flags.zipf, '--zipf', { min: 0 }),
      log: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
    })
    this.log(flags.json ? JSON.stringify(result, null, 2) : formatDispatcherBench(result))
  }
}
