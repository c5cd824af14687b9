import { Flags } from '@oclif/core'
import { formatReplayBench, runReplayBench } from '../../../bench/replay.js'
import { L7Command } from '../../command.js'
import { durationFlag, jsonFlag, wholeSeconds } from '../../flags.js'

export default class BenchReplay extends L7Command {
  static override description =
    'CPU per request of the load generator: l7 replay (closed and rate mode, with its default client, the fast one, named in ' +
    'brackets, and with --client undici) against autocannon and wrk, ' +
    'all driving the same nginx (one worker, a small file) for the same time and connections, nginx pinned ' +
    'apart from the generators. CPU comes from the kernel\'s accounting of each generator process. ' +
    'Goal: l7 at most autocannon\'s CPU per request, within 2.5x of wrk\'s, and rate mode within 1.5x of closed mode.'

  static override examples = ['<%= config.bin %> bench replay', '<%= config.bin %> bench replay --duration 5s --rounds 5 --connections 20 --json']

  static override flags = {
    duration: durationFlag({ description: 'time per generator, whole seconds', default: '10s' }),
    connections: Flags.integer({ description: 'connections for every generator (l7 closed mode: users)', default: 10, min: 1, max: 10_000 }),
    rounds: Flags.integer({ description: 'rounds, each running every generator once in a rotating order (the median is reported)', default: 3, min: 1, max: 20 }),
    rate: Flags.integer({ description: 'l7 rate mode, requests/s (default: 80% of l7\'s closed-loop throughput in round 1)', min: 1 }),
    pin: Flags.boolean({ description: 'pin nginx and the generators to different cores', default: true, allowNo: true }),
    json: jsonFlag('print the figures as JSON'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchReplay)
    const result = await runReplayBench({
      durationS: wholeSeconds(flags.duration, '--duration'),
      connections: flags.connections,
      rate: flags.rate,
      rounds: flags.rounds,
      pin: flags.pin,
      log: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
    })
    this.log(flags.json ? JSON.stringify(result, null, 2) : formatReplayBench(result))
  }
}
