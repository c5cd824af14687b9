import { Flags } from '@oclif/core'
import { DEFAULT_EXPERIMENT, runExperiment } from '../../service/experiment/index.js'
import { formatExperimentTable, writeExperimentHtml } from '../../service/experiment/report.js'
import { L7Command } from '../command.js'
import { interruptible } from '../interrupt.js'
import { DEFAULT_READING, READING_NAMES, resolveReading } from '../../service/sim/readings.js'
import { cacheMbFlag, durationFlag, jsonFlag, paramFlagWith, parseCacheMb, parseDiskFlag, parsePolicyList, policiesFlag } from '../flags.js'
import { runTestbedExperimentCommand } from '../experiment-testbed.js'

export default class Experiment extends L7Command {
  static override description =
    'Compare distribution policies on a real cluster on this machine: for each policy start a dispatcher and N ' +
    'node processes over the seed\'s SURGE file set (2000 files, 50 MB), drive them with closed-loop SURGE users ' +
    '(HTTP/1.0, a connection per file), collect latency and the nodes\' /metrics, stop the cluster; then run the ' +
    'simulator on the same configuration. Small caches and an emulated disk make locality matter on one machine. ' +
    'Prints a compact table, a verdict and a legend. Ctrl-C stops it and prints the policies measured so far ' +
    '(in --json and --report too); a second Ctrl-C quits at once. The default takes about two minutes.'

  static override examples = [
    '<%= config.bin %> experiment',
    '<%= config.bin %> experiment --policies ds,lard-cost --users 300 --duration 30s --report experiment.html',
    '<%= config.bin %> experiment --cache-mb 16 --disk none --param hotThreshold=20 --json',
    '<%= config.bin %> experiment --testbed --policies ds,lard-cost,lard,wrr',
  ]

  static override flags = {
    nodes: Flags.integer({ description: 'node processes', default: DEFAULT_EXPERIMENT.nodes, min: 1, max: 64 }),
    policies: policiesFlag(DEFAULT_EXPERIMENT.policies),
    users: Flags.integer({ description: 'SURGE user equivalents', default: DEFAULT_EXPERIMENT.users, min: 1 }),
    duration: durationFlag({ description: 'measured time per policy', default: `${DEFAULT_EXPERIMENT.durationS}s` }),
    warmup: durationFlag({ description: 'warm-up per policy (not measured)', default: `${DEFAULT_EXPERIMENT.warmupS}s`, zero: true }),
    'cache-mb': cacheMbFlag(DEFAULT_EXPERIMENT.cacheMb, 'content cache per node, MiB (small, so that locality matters)'),
    disk: Flags.string({
      description: 'emulated disk for cache misses, e.g. seek=10ms,mbps=20, or none',
      default: `seek=${DEFAULT_EXPERIMENT.disk!.seekMs}ms,mbps=${DEFAULT_EXPERIMENT.disk!.mbps}`,
    }),
    handoff: Flags.string({ description: 'handoff mechanism', default: DEFAULT_EXPERIMENT.handoff, options: ['relay', 'fd'] }),
    reading: Flags.string({ description: 'named bundle of interpretation choices of the seed (service/policy/README.md, "Readings")', default: DEFAULT_READING, options: READING_NAMES }),
    param: paramFlagWith('override one choice of the reading, e.g. hotThreshold=100,costTies=id (model choices apply to the simulation)'),
    simulate: Flags.boolean({ description: 'also simulate the same configuration', default: true, allowNo: true }),
    report: Flags.string({ description: 'write an HTML report with every figure and plots here' }),
    json: jsonFlag('print every figure as JSON instead of the table'),
    testbed: Flags.boolean({
      description: 'run on the network-namespace test bed (root, iproute2, HAProxy): hosts with shaped links, users swept past the knee; service/testbed/README.md',
      default: false,
    }),
    clients: Flags.integer({ description: '--testbed: client machines', default: 4, min: 1, max: 64 }),
    'link-mbps': Flags.string({ description: '--testbed: each host\'s link, Mbit/s, before --scale', default: '100' }),
    scale: Flags.string({ description: '--testbed: links and disks this many times slower (so CPU never binds)', default: '10' }),
    sweep: Flags.string({ description: '--testbed: total users at each step, comma-separated (default 50,100,200)' }),
  }

  async run(): Promise<void> {
    const { flags, metadata } = await this.parse(Experiment)
    if (flags.testbed) {
      const given = (flag: string) => !(metadata.flags as Record<string, { setFromDefault?: boolean } | undefined>)[flag]?.setFromDefault
      this.log(await runTestbedExperimentCommand(flags, given))
      return
    }
    // Ctrl-C (or SIGTERM): stop after dropping the policy being measured, and report the others;
    // a second one exits at once (the temporary file set is still removed, see removeOnExit).
    const interrupt = interruptible('the policies measured so far follow', ['SIGINT', 'SIGTERM'])
    const reading = resolveReading(flags.reading, flags.param ?? '')
    let report
    try {
      report = await runExperiment({
        nodes: flags.nodes,
        policies: parsePolicyList(flags.policies),
        users: flags.users,
        durationS: flags.duration,
        warmupS: flags.warmup,
        cacheMb: parseCacheMb(flags['cache-mb']),
        disk: parseDiskFlag(flags.disk),
        handoff: flags.handoff as 'relay' | 'fd',
        params: reading.params,
        reading,
        simulate: flags.simulate,
        signal: interrupt.signal,
        onProgress: (line) => process.stderr.write(`${line}\n`),
      })
    } finally {
      interrupt.dispose()
    }
    if (flags.json) this.log(JSON.stringify(report, (key, value) => (key === 'histograms' ? undefined : value), 2))
    else this.log(formatExperimentTable(report))
    if (flags.report) {
      await writeExperimentHtml(report, flags.report)
      if (!flags.json) this.log(`report: ${flags.report}`)
    }
  }
}
