import { Command, Flags } from '@oclif/core'
import { formatDispatcherBench, runDispatcherBench } from '../../../bench/dispatcher.js'
import { L7Error, MissingDependencyError } from '../../../service/core/errors.js'
import { POLICY_NAMES, type PolicyName } from '../../../service/policy/types.js'
import { parseNumber, parseNumberList } from '../../flags.js'

export default class BenchDispatcher extends Command {
  static override description =
    'Decisions/s and round-trip latency (HdrHistogram p50/p99/p99.9) of the dispatcher with N simulated nodes in ' +
    'child processes sending Zipf requests and DONE records: adaptive batching against batching off in the same ' +
    'run, for each node count, plus a fixed offered load. Goals: >= 1,000,000 decisions/s with batching; p99 < 1 ms ' +
    'at 100,000 decisions/s offered.'

  static override examples = [
    '<%= config.bin %> bench dispatcher',
    '<%= config.bin %> bench dispatcher --json',
    '<%= config.bin %> bench dispatcher --nodes 4 --duration 2 --offered 0',
    '<%= config.bin %> bench dispatcher --policy lard --impl ts --concurrency 64',
    'node --cpu-prof bin/run.js bench dispatcher --nodes 4 --batching on --offered 0   # profiles the dispatcher process only',
  ]

  static override flags = {
    policy: Flags.string({ description: 'policy the dispatcher runs', options: [...POLICY_NAMES], default: 'ds' }),
    impl: Flags.string({ description: 'scheduler implementation', options: ['wasm', 'ts'], default: 'wasm' }),
    nodes: Flags.string({ description: 'node counts, comma-separated', default: '4,16' }),
    processes: Flags.integer({ description: 'child processes the simulated nodes are spread over', default: 2, min: 1, max: 64 }),
    concurrency: Flags.integer({ description: 'requests outstanding per node (closed-loop runs)', default: 1024, min: 1, max: 65536 }),
    batching: Flags.string({ description: 'batching modes to run (one alone, e.g. to profile it)', options: ['both', 'on', 'off'], default: 'both' }),
    warmup: Flags.integer({ description: 'seconds of warm-up per run (not measured)', default: 1, min: 0, max: 60 }),
    duration: Flags.integer({ description: 'measured seconds per run', default: 3, min: 1, max: 120 }),
    offered: Flags.integer({ description: 'decisions/s offered in the fixed-load run (0 = skip)', default: 100_000, min: 0 }),
    'offered-nodes': Flags.integer({ description: 'nodes in the fixed-load run', default: 4, min: 1, max: 64 }),
    targets: Flags.integer({ description: 'distinct targets (Zipf ranks)', default: 10_000, min: 1 }),
    zipf: Flags.string({ description: 'Zipf exponent of target popularity', default: '1' }),
    json: Flags.boolean({ description: 'print {"results":[...]} as JSON' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchDispatcher)
    try {
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
    } catch (err) {
      if (err instanceof MissingDependencyError) this.error(err.message, { exit: 3 })
      if (err instanceof L7Error) this.error(err.message, { exit: 2 })
      throw err
    }
  }
}
