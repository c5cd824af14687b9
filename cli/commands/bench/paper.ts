import { relative, join } from 'node:path'
import { Flags } from '@oclif/core'
import { DEFAULT_PAPER_OPTIONS, runPaperBench } from '../../../bench/paper.js'
import { withAtomicDir } from '../../../service/core/atomic-write.js'
import { L7Command } from '../../command.js'
import { READING_NAMES } from '../../../service/sim/readings.js'
import { commaList, durationFlag, jsonFlag, parseNumberList, parsePolicyList, policiesFlag } from '../../flags.js'

export default class BenchPaper extends L7Command {
  static override description =
    'Reproduce the seed paper\'s Figures 14 and 15 with the cluster simulator: connections/s and response time ' +
    'for DS, the seed\'s LARD variant and the other policies over 4-16 nodes and 2000-7000 SURGE users, with ' +
    'caches that hold the seed\'s 50 MB file set and smaller ones, each point the mean of five model seeds without the ' +
    'largest and smallest; the readings table (DS against lard-cost at 4 and 16 nodes x 7000 users for every reading ' +
    'of the seed, with and without the overload and client models); sensitivity sweeps of DS\'s parameters. ' +
    'Writes docs/results/ (paper.md, paper.json, SVG plots), all of them or none.'

  static override examples = [
    '<%= config.bin %> bench paper',
    '<%= config.bin %> bench paper --nodes 4,16 --users 2000,7000 --no-sensitivity --readings none --out paper-results --json',
    '<%= config.bin %> bench paper --readings seed-literal --model-seed 1,2,3 --nodes 4 --users 2000 --policies ds,lard-cost --cache-mb 64 --duration 5s --warmup 2s --no-sensitivity --out paper-readings',
  ]

  static override flags = {
    nodes: Flags.string({ description: 'node counts, comma-separated', default: DEFAULT_PAPER_OPTIONS.nodes.join(',') }),
    users: Flags.string({ description: 'SURGE user counts, comma-separated', default: DEFAULT_PAPER_OPTIONS.users.join(',') }),
    policies: policiesFlag(DEFAULT_PAPER_OPTIONS.policies),
    'cache-mb': Flags.string({ description: 'per-node cache sizes, MiB, comma-separated (first: holds the file set)', default: DEFAULT_PAPER_OPTIONS.cachesMb.join(',') }),
    duration: durationFlag({ description: 'measured simulated time per point', default: `${DEFAULT_PAPER_OPTIONS.durationSeconds}s` }),
    warmup: durationFlag({ description: 'simulated warm-up per point', default: `${DEFAULT_PAPER_OPTIONS.warmupSeconds}s`, zero: true }),
    'model-seed': Flags.string({
      description: "seeds of the simulator's own random choices, comma-separated: each point is the mean of its runs without the largest and smallest",
      default: DEFAULT_PAPER_OPTIONS.seeds.join(','),
    }),
    reading: Flags.string({ description: 'reading of the seed for the sweep and the sensitivity cases (service/policy/README.md, "Readings")', default: DEFAULT_PAPER_OPTIONS.reading, options: READING_NAMES }),
    readings: Flags.string({ description: 'readings in the readings table, comma-separated, or none', default: DEFAULT_PAPER_OPTIONS.readings.join(',') }),
    impl: Flags.string({ description: 'policy implementation', default: 'wasm', options: ['wasm', 'ts'] }),
    sensitivity: Flags.boolean({ description: 'also sweep DS\'s threshold, MAX_LOAD, unit time and estimator', default: true, allowNo: true }),
    // The default is this package's docs/results wherever l7 runs from; --help shows it relative.
    out: Flags.string({ description: 'output directory', default: DEFAULT_PAPER_OPTIONS.outDir, defaultHelp: async () => 'docs/results' }),
    json: jsonFlag('print {"files":[...],"results":[...],"readings":[{"name","params",...}],"sensitivity":[...]} as JSON'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchPaper)
    const cachesMb = parseNumberList(flags['cache-mb'], '--cache-mb', { min: 0 })
    // Written into a temporary directory beside --out and moved into place at the end: an error
    // or Ctrl-C leaves the previous results whole.
    const report = await withAtomicDir(flags.out, (dir) =>
      runPaperBench({
        nodes: parseNumberList(flags.nodes, '--nodes', { integer: true, min: 1, max: 64 }),
        users: parseNumberList(flags.users, '--users', { integer: true, min: 1 }),
        policies: parsePolicyList(flags.policies),
        cachesMb,
        durationSeconds: flags.duration,
        warmupSeconds: flags.warmup,
        seeds: parseNumberList(flags['model-seed'], '--model-seed', { integer: true, min: 0 }),
        reading: flags.reading,
        readings: flags.readings.trim() === 'none' ? [] : commaList(flags.readings),
        impl: flags.impl as 'wasm' | 'ts',
        sensitivity: flags.sensitivity,
        outDir: dir,
        onProgress: (done, total, label) => {
          if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${done}/${total} ${label}`)
        },
      }).then((r) => ({ ...r, files: r.files.map((f) => join(flags.out, relative(dir, f))) })),
    )
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K')
    if (flags.json) {
      this.log(JSON.stringify({ files: report.files, wallSeconds: report.wallSeconds, results: report.results, readings: report.readings, sensitivity: report.sensitivity }, null, 1))
      return
    }
    this.log(`${report.results.length} points, ${report.readings.length} readings, ${report.sensitivity.length} sensitivity cases in ${report.wallSeconds.toFixed(1)} s`)
    for (const f of report.files) this.log(`wrote ${f}`)
  }
}
