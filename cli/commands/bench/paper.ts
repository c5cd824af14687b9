import { Command, Flags } from '@oclif/core'
import { DEFAULT_PAPER_OPTIONS, runPaperBench } from '../../../bench/paper.js'
import { L7Error } from '../../../service/core/errors.js'
import { parseNumberList, parsePolicyList, parseSeconds } from '../../flags.js'

export default class BenchPaper extends Command {
  static override description =
    'Reproduce the seed paper\'s Figures 14 and 15 with the cluster simulator: connections/s and response time ' +
    'for DS, the seed\'s LARD variant and the other policies over 4-16 nodes and 2000-7000 SURGE users, with ' +
    'caches that hold the seed\'s 50 MB file set and smaller ones, plus sensitivity sweeps of DS\'s parameters. ' +
    'Writes docs/results/ (paper.md, paper.json, SVG plots).'

  static override examples = ['<%= config.bin %> bench paper', '<%= config.bin %> bench paper --nodes 4,16 --users 2000,7000 --no-sensitivity --out /tmp/paper']

  static override flags = {
    nodes: Flags.string({ description: 'node counts', default: DEFAULT_PAPER_OPTIONS.nodes.join(',') }),
    users: Flags.string({ description: 'SURGE user counts', default: DEFAULT_PAPER_OPTIONS.users.join(',') }),
    policy: Flags.string({ description: 'policies', default: DEFAULT_PAPER_OPTIONS.policies.join(',') }),
    'cache-mb': Flags.string({ description: 'per-node cache sizes, MiB (first: holds the file set)', default: DEFAULT_PAPER_OPTIONS.cachesMb.join(',') }),
    duration: Flags.string({ description: 'measured simulated time per point', default: `${DEFAULT_PAPER_OPTIONS.durationSeconds}s` }),
    warmup: Flags.string({ description: 'simulated warm-up per point', default: `${DEFAULT_PAPER_OPTIONS.warmupSeconds}s` }),
    seed: Flags.integer({ description: 'model seed', default: DEFAULT_PAPER_OPTIONS.seed }),
    impl: Flags.string({ description: 'policy implementation', default: 'wasm', options: ['wasm', 'ts'] }),
    sensitivity: Flags.boolean({ description: 'also sweep DS\'s threshold, MAX_LOAD, unit time and estimator', default: true, allowNo: true }),
    out: Flags.string({ description: 'output directory', default: DEFAULT_PAPER_OPTIONS.outDir }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchPaper)
    try {
      const report = await runPaperBench({
        nodes: parseNumberList(flags.nodes, '--nodes', { min: 0 }),
        users: parseNumberList(flags.users, '--users', { min: 0 }),
        policies: parsePolicyList(flags.policy),
        cachesMb: parseNumberList(flags['cache-mb'], '--cache-mb', { min: 0 }),
        durationSeconds: parseSeconds(flags.duration, '--duration'),
        warmupSeconds: parseSeconds(flags.warmup, '--warmup'),
        seed: flags.seed,
        impl: flags.impl as 'wasm' | 'ts',
        sensitivity: flags.sensitivity,
        outDir: flags.out,
        onProgress: (done, total, label) => {
          if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${done}/${total} ${label}`)
        },
      })
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K')
      this.log(`${report.results.length + report.sensitivity.length * 2} simulations in ${report.wallSeconds.toFixed(1)} s`)
      for (const f of report.files) this.log(`wrote ${f}`)
    } catch (err) {
      if (err instanceof L7Error) this.error(err.message, { exit: 2 })
      throw err
    }
  }
}
