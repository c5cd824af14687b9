import { Command, Flags } from '@oclif/core'
import { L7Error } from '../../service/core/errors.js'
import { DEFAULT_EXPERIMENT, runExperiment } from '../../service/experiment/index.js'
import { formatExperimentTable, writeExperimentHtml } from '../../service/experiment/report.js'
import { DEFAULT_READING, READING_NAMES, resolveReading } from '../../service/sim/readings.js'
import { parseDiskFlag, parseNumber, parsePolicyList, parseSeconds, parseSecondsOrZero } from '../flags.js'

export default class Experiment extends Command {
  static override description =
    'Compare distribution policies on a real cluster on this machine: for each policy start a dispatcher and N ' +
    'node processes over the seed\'s SURGE file set (2000 files, 50 MB), drive them with closed-loop SURGE users ' +
    '(HTTP/1.0, a connection per file), collect latency and the nodes\' /metrics, stop the cluster; then run the ' +
    'simulator on the same configuration. Small caches and an emulated disk make locality matter on one machine. ' +
    'The default takes about two minutes.'

  static override examples = [
    '<%= config.bin %> experiment',
    '<%= config.bin %> experiment --policies ds,lard-cost --users 300 --duration 30s --report experiment.html',
    '<%= config.bin %> experiment --cache-mb 16 --disk none',
  ]

  static override flags = {
    nodes: Flags.integer({ description: 'node processes', default: DEFAULT_EXPERIMENT.nodes, min: 1, max: 64 }),
    policies: Flags.string({ description: 'comma-separated policies', default: DEFAULT_EXPERIMENT.policies.join(',') }),
    users: Flags.integer({ description: 'SURGE user equivalents', default: DEFAULT_EXPERIMENT.users, min: 1 }),
    duration: Flags.string({ description: 'measured time per policy', default: `${DEFAULT_EXPERIMENT.durationS}s` }),
    warmup: Flags.string({ description: 'warm-up per policy (not measured)', default: `${DEFAULT_EXPERIMENT.warmupS}s` }),
    'cache-mb': Flags.string({ description: 'content cache per node, MiB', default: String(DEFAULT_EXPERIMENT.cacheMb) }),
    disk: Flags.string({
      description: 'emulated disk for cache misses, e.g. seek=10ms,mbps=20, or none',
      default: `seek=${DEFAULT_EXPERIMENT.disk!.seekMs}ms,mbps=${DEFAULT_EXPERIMENT.disk!.mbps}`,
    }),
    handoff: Flags.string({ description: 'handoff mechanism', default: DEFAULT_EXPERIMENT.handoff, options: ['relay', 'fd'] }),
    reading: Flags.string({ description: 'named bundle of interpretation choices of the seed (service/policy/README.md, "Readings")', default: DEFAULT_READING, options: READING_NAMES }),
    param: Flags.string({ description: 'override one choice of the reading, e.g. hotThreshold=100,costTies=id (model choices apply to the simulation)', default: '' }),
    simulate: Flags.boolean({ description: 'also simulate the same configuration', default: true, allowNo: true }),
    report: Flags.string({ description: 'write an HTML report here' }),
    json: Flags.boolean({ description: 'print the full results as JSON', default: false }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Experiment)
    try {
      const reading = resolveReading(flags.reading, flags.param)
      const report = await runExperiment({
        nodes: flags.nodes,
        policies: parsePolicyList(flags.policies),
        users: flags.users,
        durationS: parseSeconds(flags.duration, '--duration'),
        warmupS: parseSecondsOrZero(flags.warmup, '--warmup'),
        cacheMb: parseNumber(flags['cache-mb'], '--cache-mb', { min: 0 }),
        disk: parseDiskFlag(flags.disk),
        handoff: flags.handoff as 'relay' | 'fd',
        params: reading.params,
        reading,
        simulate: flags.simulate,
        onProgress: (line) => process.stderr.write(`${line}\n`),
      })
      if (flags.json) this.log(JSON.stringify(report, (key, value) => (key === 'histograms' ? undefined : value), 2))
      else this.log(formatExperimentTable(report))
      if (flags.report) {
        await writeExperimentHtml(report, flags.report)
        if (!flags.json) this.log(`report: ${flags.report}`)
      }
    } catch (err) {
      if (err instanceof L7Error) this.error(err.message, { exit: 2 })
      throw err
    }
  }
}
