import { Command, Flags } from '@oclif/core'
import { startCluster } from '../../service/cluster/cluster.js'
import { watchClusterStatus } from '../../service/cluster/status.js'
import { diskFlag, parseDiskFlag } from '../flags.js'
import { POLICY_NAMES, type PolicyName } from '../../service/policy/types.js'

export default class Cluster extends Command {
  static override description =
    'Start a dispatcher and N nodes on this machine, each its own process, serving a document root ' +
    '(or a generated SURGE-like file set). Prints exactly one line `ready {json}` on stdout when all are up, ' +
    'then a live status line on a TTY. Ctrl-C or SIGTERM stops every child.'

  static override examples = [
    '<%= config.bin %> cluster',
    '<%= config.bin %> cluster --nodes 4 --policy ds --files 2000 --cache-mb 8 --disk seek=8ms,mbps=20',
    '<%= config.bin %> cluster --nodes 3 --docroot ./www --port 0 --handoff fd',
  ]

  static override flags = {
    nodes: Flags.integer({ description: 'number of nodes', default: 4, min: 1, max: 64 }),
    policy: Flags.string({ description: 'distribution policy the dispatcher runs', default: 'ds', options: [...POLICY_NAMES] }),
    docroot: Flags.directory({ description: 'document root to serve (default: generate --files files in a temp dir)', exists: true }),
    files: Flags.integer({ description: 'files to generate when no --docroot is given', default: 2000, min: 1 }),
    seed: Flags.integer({ description: 'seed of the generated file set (default: the seed paper preset hong-noh-2005)' }),
    port: Flags.integer({ description: 'dispatcher port; nodes use port+1..port+N; 0 = all ephemeral', default: 8080, min: 0, max: 65535 }),
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    'cache-mb': Flags.integer({ description: 'content cache per node, MiB', default: 32, min: 0 }),
    disk: diskFlag,
    handoff: Flags.string({ description: 'handoff mechanism: relay over keep-alive pools, or fd (pass the client socket)', default: 'relay', options: ['relay', 'fd'] }),
    token: Flags.string({ description: 'cluster token (default: random)', env: 'L7_TOKEN' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Cluster)
    const cluster = await startCluster({
      nodes: flags.nodes,
      policy: flags.policy as PolicyName,
      docroot: flags.docroot,
      files: flags.files,
      seed: flags.seed,
      port: flags.port,
      host: flags.host,
      cacheBytes: flags['cache-mb'] * 1024 * 1024,
      disk: parseDiskFlag(flags.disk),
      handoff: flags.handoff as 'relay' | 'fd',
      token: flags.token,
    })
    process.stdout.write(`ready ${JSON.stringify(cluster.readyInfo())}\n`)
    const tty = process.stdout.isTTY === true
    const status = tty ? watchClusterStatus(cluster, (line) => process.stdout.write(`\r\x1b[2K${line}`)) : null
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    status?.stop()
    if (tty) process.stdout.write('\n')
    await cluster.close()
  }
}
