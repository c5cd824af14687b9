import { Flags } from '@oclif/core'
import { formatStagesBench, runStagesBench } from '../../../bench/stages.js'
import { L7Command } from '../../command.js'
import { jsonFlag } from '../../flags.js'

export default class BenchStages extends L7Command {
  static override description =
    "Micro-benchmarks of the node's request-path stages (front-end parsing, routing key, relay framing, " +
    "credential, control frame), ns per operation in this process; the request parser against Node's own " +
    '(llhttp) on the same bytes, alternating rounds.'

  static override examples = ['<%= config.bin %> bench stages', '<%= config.bin %> bench stages --iterations 20000 --rounds 3 --json']

  static override flags = {
    iterations: Flags.integer({ description: 'operations per timed loop', default: 100_000, min: 100, max: 10_000_000 }),
    rounds: Flags.integer({ description: 'timed loops per operation (the median is reported)', default: 5, min: 1, max: 51 }),
    json: jsonFlag('print the figures as JSON'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchStages)
    const result = await runStagesBench({ iterations: flags.iterations, rounds: flags.rounds })
    this.log(flags.json ? JSON.stringify(result, null, 2) : formatStagesBench(result))
  }
}
