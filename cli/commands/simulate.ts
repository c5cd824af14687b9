import { Flags } from '@oclif/core'
import { InvalidArgumentError } from '../../service/core/errors.js'
import {
  DEFAULT_READING,
  DEFAULT_SIMULATE,
  READING_NAMES,
  SEED_PRESET,
  formatResultsTable,
  parseClients,
  parseCosts,
  parseOverload,
  resolveReading,
  simulatePolicy,
  surgeWorkload,
  traceWorkload,
  type SimResult,
  type SimWorkload,
} from '../../service/sim/index.js'
import { L7Command } from '../command.js'
import { cacheMbFlag, durationFlag, jsonFlag, modelSeedFlag, paramFlagWith, parseCacheMb, parseNumber, parsePolicyList, policiesFlag, surgeSeedFlag } from '../flags.js'

export default class Simulate extends L7Command {
  static override description =
    'Simulate a content-aware web cluster (discrete events: round-robin front, per-node CPU, disk, LRU cache ' +
    'and link, the dispatcher with adaptive batching, handoff) driven by SURGE user equivalents or an open-loop ' +
    'trace, calling the same policy code as the dispatcher. Prints one row per policy. Costs: service/sim/README.md.'

  static override examples = [
    '<%= config.bin %> simulate',
    '<%= config.bin %> simulate --nodes 4 --users 7000 --policies ds,lard-cost --cache-mb 16',
    '<%= config.bin %> simulate --trace traces/epa-http_1995-08-30.log.gz --nodes 8 --policies lard,wrr --json',
    '<%= config.bin %> simulate --policies ds --param hotThreshold=50,unitTimeUs=100000 --cost diskSeekUs=8000',
    '<%= config.bin %> simulate --nodes 4 --policies ds,lard-cost --reading seed-literal --overload on --clients on --duration 20s --warmup 10s',
    '<%= config.bin %> simulate --nodes 4 --policies ds,lard-cost --reading stationary --param costTies=id,loadReports=none --duration 20s --warmup 10s',
  ]

  static override flags = {
    nodes: Flags.integer({ description: 'cluster nodes', default: DEFAULT_SIMULATE.nodes, min: 1, max: 64 }),
    users: Flags.integer({ description: 'SURGE user equivalents (closed loop)', default: DEFAULT_SIMULATE.users, min: 1 }),
    policies: policiesFlag(['ds', 'lard', 'lard-cost', 'lard-r', 'wrr', 'chbl']),
    trace: Flags.file({ description: 'open-loop trace file (any format `l7 trace` reads) instead of SURGE users', exists: true }),
    preset: Flags.string({ description: 'SURGE preset (the seed\'s file set: 2000 files, about 50 MB)', default: SEED_PRESET }),
    files: Flags.integer({ description: 'SURGE: files in the set (default: the preset\'s)', min: 1 }),
    requests: Flags.integer({ description: 'SURGE: object requests in the sequence users walk (default: the generator\'s)', min: 1 }),
    'surge-seed': surgeSeedFlag('SURGE: seed of the file set and sequence (default: the preset\'s)'),
    zipf: Flags.string({ description: 'SURGE: Zipf exponent of object popularity (default: the generator\'s)' }),
    'cache-mb': cacheMbFlag(DEFAULT_SIMULATE.cacheMb),
    duration: durationFlag({
      description: `measured simulated time after the warm-up (default: ${DEFAULT_SIMULATE.durationSeconds}s; with --trace, the rest of the trace)`,
    }),
    warmup: durationFlag({ description: `simulated warm-up before measuring, 0s allowed (default: ${DEFAULT_SIMULATE.warmupSeconds}s; with --trace, 0s)`, zero: true }),
    'model-seed': modelSeedFlag(DEFAULT_SIMULATE.seed),
    impl: Flags.string({ description: 'policy implementation', default: 'wasm', options: ['wasm', 'ts'] }),
    cost: Flags.string({ description: 'override model costs, e.g. diskSeekUs=8000,linkMbps=1000', default: '' }),
    reading: Flags.string({
      description: 'named bundle of interpretation choices of the seed (service/policy/README.md, "Readings")',
      default: DEFAULT_READING,
      options: READING_NAMES,
    }),
    param: paramFlagWith(
      'override one choice of the reading, comma-separated key=value: a policy parameter (service/policy/types.ts PolicyParams: hotThreshold=100,costTies=id,...) ' +
        'or a model choice (loadReports=none, front=dns-process, ordering=stationary, popularity=files)',
    ),
    'load-reports': Flags.string({ description: 'which policies\' nodes piggyback their load on requests (default: the reading\'s; the seed: ds)', options: ['ds', 'all', 'none'] }),
    overload: Flags.string({ description: 'overload model: off, on, or maxClients=150,listenBacklog=128,synRetransmitS=3,synRetries=5 (service/sim/README.md)', default: 'off' }),
    clients: Flags.string({ description: 'client model: off, on, or machines=4,processes=80,nicMbps=100 (service/sim/README.md)', default: 'off' }),
    cold: Flags.boolean({ description: 'start with empty caches instead of caches holding the most requested files', default: false }),
    json: jsonFlag('print a JSON array of results instead of a table'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Simulate)
    const policies = parsePolicyList(flags.policies)
    const cacheMb = parseCacheMb(flags['cache-mb'])
    const zipf = flags.zipf === undefined ? undefined : parseNumber(flags.zipf, '--zipf', { above: 0 })
    const reading = resolveReading(flags.reading, flags.param ?? '')
    const workload: SimWorkload = flags.trace
      ? await traceWorkload(flags.trace)
      : surgeWorkload({
          preset: flags.preset,
          files: flags.files,
          requests: flags.requests,
          seed: flags['surge-seed'],
          zipf,
          stationary: reading.model.ordering === 'stationary',
          popularity: reading.model.popularity,
        })
    const warmupSeconds = flags.warmup ?? (workload.kind === 'open' ? 0 : DEFAULT_SIMULATE.warmupSeconds)
    let durationSeconds = flags.duration ?? DEFAULT_SIMULATE.durationSeconds
    if (workload.kind === 'open') {
      // a trace: by default the window is the whole trace after the warm-up; say what it covers
      const spanSeconds = workload.arrivalUs[workload.arrivalUs.length - 1] / 1e6
      if (flags.duration === undefined) {
        if (!(spanSeconds > warmupSeconds)) throw new InvalidArgumentError(`--warmup ${warmupSeconds}s leaves nothing of a ${spanSeconds.toFixed(1)} s trace`)
        durationSeconds = spanSeconds - warmupSeconds
      }
      const to = Math.min(warmupSeconds + durationSeconds, spanSeconds)
      process.stderr.write(
        `window: ${warmupSeconds} s to ${(warmupSeconds + durationSeconds).toFixed(1)} s of a ${spanSeconds.toFixed(1)} s trace ` +
          `(${workload.arrivalUs.length} requests; arrivals from ${Math.min(warmupSeconds, spanSeconds).toFixed(1)} s to ${to.toFixed(1)} s are measured)\n`,
      )
    }
    const options = {
      nodes: flags.nodes,
      users: flags.users,
      cacheMb,
      durationSeconds,
      warmupSeconds,
      seed: flags['model-seed'],
      impl: flags.impl as 'wasm' | 'ts',
      prewarm: !flags.cold,
      loadReports: (flags['load-reports'] ?? reading.model.loadReports) as 'ds' | 'all' | 'none',
      front: reading.model.front,
      overload: parseOverload(flags.overload),
      clients: parseClients(flags.clients),
      costs: parseCosts(flags.cost),
      params: reading.params,
    }
    const results: SimResult[] = []
    for (const policy of policies) {
      results.push(simulatePolicy(policy, workload, options))
      if (!flags.json && process.stderr.isTTY) process.stderr.write(`\r${policy} done`)
    }
    if (!flags.json && process.stderr.isTTY) process.stderr.write('\r\x1b[2K')
    if (flags.json) this.log(JSON.stringify(results, null, 2))
    else this.log(formatResultsTable(results))
  }
}
