import { Flags } from '@oclif/core'
import { formatNodeBench, runNodeBench } from '../../../bench/node.js'
import { L7Command } from '../../command.js'
import { durationFlag, jsonFlag, parseNumberList, wholeSeconds } from '../../flags.js'

export default class BenchNode extends L7Command {
  static override description =
    'Requests/s of one l7 node (policy local, cache warm) against nginx (one worker) on the same files, ' +
    'both driven by wrk in the same run (goal: at least 0.5 of nginx), and the cost of a relayed and of an ' +
    'fd-passing handoff against a local serve.'

  static override examples = ['<%= config.bin %> bench node', '<%= config.bin %> bench node --duration 3s --json', '<%= config.bin %> bench node --sizes 1024,65536,1048576 --no-handoff']

  static override flags = {
    duration: durationFlag({ description: 'time per wrk run, whole seconds', default: '4s' }),
    rounds: Flags.integer({ description: 'rounds per size against nginx (alternating order; the median is reported)', default: 3, min: 1, max: 15 }),
    connections: Flags.integer({ description: 'wrk connections', default: 32, min: 1, max: 10_000 }),
    threads: Flags.integer({ description: 'wrk threads', default: 1, min: 1, max: 64 }),
    sizes: Flags.string({ description: 'file sizes in bytes, comma-separated', default: '1024,65536' }),
    handoff: Flags.boolean({ description: 'also measure handoff costs (relay and fd)', default: true, allowNo: true }),
    json: jsonFlag('print the figures as JSON'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchNode)
    const sizes = parseNumberList(flags.sizes, '--sizes', { integer: true, min: 0 })
    const result = await runNodeBench({
      duration: wholeSeconds(flags.duration, '--duration'),
      connections: flags.connections,
      threads: flags.threads,
      rounds: flags.rounds,
      sizes,
      handoff: flags.handoff,
      log: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
    })
    this.log(flags.json ? JSON.stringify(result, null, 2) : formatNodeBench(result))
  }
}
