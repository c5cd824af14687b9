import { Command, Flags } from '@oclif/core'
import { formatClusterBench, runClusterBench, type ConnectionMode, type Handoff } from '../../../bench/cluster.js'
import { InvalidArgumentError, L7Error, MissingDependencyError } from '../../../service/core/errors.js'
import { commaList, parsePolicyList, parseSeconds } from '../../flags.js'

/** A comma list whose every item is one of `allowed` (the flag is named in the error). */
function parseChoices<T extends string>(text: string, flag: string, allowed: readonly T[]): T[] {
  const items = commaList(text)
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new InvalidArgumentError(`${flag}: unknown value "${item}" (one of ${allowed.join(', ')})`)
  }
  return items as T[]
}

export default class BenchCluster extends Command {
  static override description =
    'Requests/s and server CPU per request of `l7 cluster --nodes 4` behind HAProxy in TCP round robin against ' +
    'HAProxy (balance uri, consistent hashing, bounded loads) in front of 4 nginx, on the same SURGE files and the ' +
    'same Zipf(1) request mix (wrk), in alternating rounds, for each policy, handoff mechanism and connection mode. ' +
    'Prints l7/peer ratios and the load average. Needs haproxy, nginx and wrk.'

  static override examples = [
    '$ <%= config.bin %> bench cluster',
    '$ <%= config.bin %> bench cluster --policies ds --handoff relay --connection keep-alive --duration 3s --rounds 5',
    '$ <%= config.bin %> bench cluster --policies ds --handoff fd --cpu-prof prof   # node CPU profiles in prof/ds-fd/',
    '$ <%= config.bin %> bench cluster --json > cluster.json',
  ]

  static override flags = {
    policies: Flags.string({ description: 'policies the cluster runs, comma-separated', default: 'ds,lard,chbl' }),
    handoff: Flags.string({ description: 'handoff mechanisms, comma-separated (relay, fd)', default: 'relay,fd' }),
    connection: Flags.string({ description: 'client connection modes, comma-separated (keep-alive, close)', default: 'keep-alive,close' }),
    duration: Flags.string({ description: 'length of each measured wrk run, whole seconds (the default keeps the whole matrix under 3 minutes)', default: '1s' }),
    rounds: Flags.integer({ description: 'rounds per configuration, each a peer run and an l7 run (alternating which goes first); medians are reported', default: 3, min: 1, max: 15 }),
    files: Flags.integer({ description: 'files in the generated SURGE document root (the cluster default)', default: 2000, min: 1, max: 100_000 }),
    'cpu-prof': Flags.string({ description: 'directory for the node processes\' CPU profiles (node --cpu-prof), one folder per policy and handoff' }),
    json: Flags.boolean({ description: 'print the whole result (every round, CPU by process, routes) as JSON' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchCluster)
    const abort = new AbortController()
    const interrupt = () => abort.abort()
    process.once('SIGINT', interrupt)
    process.once('SIGTERM', interrupt)
    try {
      const result = await runClusterBench({
        policies: parsePolicyList(flags.policies),
        handoffs: parseChoices<Handoff>(flags.handoff, '--handoff', ['relay', 'fd']),
        connections: parseChoices<ConnectionMode>(flags.connection, '--connection', ['keep-alive', 'close']),
        duration: parseSeconds(flags.duration, '--duration'),
        rounds: flags.rounds,
        files: flags.files,
        cpuProfDir: flags['cpu-prof'],
        signal: abort.signal,
        log: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
      })
      this.log(flags.json ? JSON.stringify(result, null, 2) : formatClusterBench(result))
    } catch (err) {
      if (abort.signal.aborted) this.error('interrupted: every server and temp dir this run started was removed', { exit: 130 })
      if (err instanceof MissingDependencyError) this.error(err.message, { exit: 3 })
      if (err instanceof L7Error) this.error(err.message, { exit: 2 })
      throw err
    } finally {
      process.off('SIGINT', interrupt)
      process.off('SIGTERM', interrupt)
    }
  }
}
