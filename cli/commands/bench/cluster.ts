import { Flags } from '@oclif/core'
import { formatClusterBench, runClusterBench, type ConnectionMode, type Front, type Handoff } from '../../../bench/cluster.js'
import { InvalidArgumentError } from '../../../service/core/errors.js'
import { L7Command } from '../../command.js'
import { interruptible } from '../../interrupt.js'
import { commaList, durationFlag, jsonFlag, paramFlag, parseParamFlag, parsePolicyList, policiesFlag } from '../../flags.js'

/** A comma list whose every item is one of `allowed` (the flag is named in the error). */
function parseChoices<T extends string>(text: string, flag: string, allowed: readonly T[]): T[] {
  const items = commaList(text)
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new InvalidArgumentError(`${flag}: unknown value "${item}", use one of ${allowed.join(', ')}`)
  }
  return items as T[]
}

export default class BenchCluster extends L7Command {
  static override description =
    'Requests/s and server CPU per request of `l7 cluster --nodes 4`, reached through HAProxy in TCP round robin and through ' +
    'the cluster\'s shared front (--front: one listening socket every node accepts on), against ' +
    'HAProxy (balance uri, consistent hashing, bounded loads) in front of 4 nginx, on the same SURGE files and the ' +
    'same Zipf(1) request mix (wrk), in alternating rounds, for each policy, handoff mechanism and connection mode. ' +
    'Prints l7/peer ratios and the load average. Needs haproxy, nginx and wrk. Ctrl-C stops and prints the ' +
    'configurations already measured.'

  static override examples = [
    '<%= config.bin %> bench cluster',
    '<%= config.bin %> bench cluster --policies ds --handoff relay --connection keep-alive --duration 3s --rounds 5',
    '<%= config.bin %> bench cluster --policies ds --front shared --handoff relay --param hotThreshold=20',
    '<%= config.bin %> bench cluster --policies ds --handoff relay --floor --duration 3s',
    '<%= config.bin %> bench cluster --policies ds --handoff fd --connection close --rounds 1 --cpu-prof bench-prof',
    '<%= config.bin %> bench cluster --policies chbl --handoff relay --rounds 1 --json',
    '<%= config.bin %> bench cluster --policies ds --handoff relay --dispatcher-in node0 --duration 3s',
  ]

  static override flags = {
    policies: policiesFlag(['ds', 'lard', 'chbl'], 'policies the cluster runs, one after the other, comma-separated'),
    front: Flags.string({ description: "how clients reach l7's nodes, comma-separated: haproxy (HAProxy mode tcp, round robin over the nodes' ports) and shared (l7 cluster --front)", default: 'haproxy,shared' }),
    handoff: Flags.string({ description: 'handoff mechanisms, comma-separated (relay, fd)', default: 'relay,fd' }),
    connection: Flags.string({ description: 'client connection modes, comma-separated (keep-alive, close)', default: 'keep-alive,close' }),
    duration: durationFlag({ description: 'length of each measured wrk run, whole seconds (the default keeps the whole matrix under 3 minutes)', default: '1s' }),
    rounds: Flags.integer({ description: 'rounds per configuration, each a peer run and an l7 run (alternating which goes first); medians are reported', default: 3, min: 1, max: 15 }),
    files: Flags.integer({ description: 'files in the generated SURGE document root (the cluster default)', default: 2000, min: 1, max: 100_000 }),
    param: paramFlag,
    'haproxy-threads': Flags.integer({ description: "HAProxy's nbthread on both sides (the peer's balancer and l7's tcp front); default: HAProxy's own, one thread per CPU", min: 1, max: 64 }),
    'dispatcher-in': Flags.string({ description: "where l7's dispatcher runs: own (its own process) or node0 (inside node 0's process; l7 cluster --dispatcher-in)", default: 'own', options: ['own', 'node0'] }),
    floor: Flags.boolean({ description: "also measure the platform floor: 4 processes of the least Node.js server (files in memory, no routing) through the same fronts, against the same peer runs", default: false }),
    'cpu-prof': Flags.string({ description: "directory for the node processes' CPU profiles (node --cpu-prof), one folder per policy and handoff" }),
    json: jsonFlag('print the whole result (every round, CPU by process role, l7 routes) as one JSON document'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchCluster)
    // The first Ctrl-C stops and prints what was measured; a second one quits at once (the
    // exit hooks still stop every server and remove the temp dir).
    const interrupt = interruptible('the configurations measured so far follow', ['SIGINT', 'SIGTERM'])
    try {
      const result = await runClusterBench({
        policies: parsePolicyList(flags.policies),
        fronts: parseChoices<Front>(flags.front, '--front', ['haproxy', 'shared']),
        handoffs: parseChoices<Handoff>(flags.handoff, '--handoff', ['relay', 'fd']),
        connections: parseChoices<ConnectionMode>(flags.connection, '--connection', ['keep-alive', 'close']),
        duration: flags.duration,
        rounds: flags.rounds,
        files: flags.files,
        cpuProfDir: flags['cpu-prof'],
        params: parseParamFlag(flags.param),
        dispatcherIn: flags['dispatcher-in'] as 'own' | 'node0',
        haproxyThreads: flags['haproxy-threads'],
        floor: flags.floor,
        signal: interrupt.signal,
        log: (line) => process.stderr.write(`${line}\n`),
      })
      this.log(flags.json ? JSON.stringify(result, null, 2) : formatClusterBench(result))
    } finally {
      interrupt.dispose()
    }
  }
}
