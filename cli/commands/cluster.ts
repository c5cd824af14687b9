import { Flags } from '@oclif/core'
import { startCluster } from '../../service/cluster/cluster.js'
import { watchClusterStatus } from '../../service/cluster/status.js'
import { cacheMbFlag, diskFlag, durationFlag, jsonFlag, listenFlag, paramFlag, parseCacheMb, parseDiskFlag, parseParamFlag, policyFlag, surgeSeedFlag } from '../flags.js'
import type { PolicyName } from '../../service/policy/types.js'
import { L7Command } from '../command.js'

export default class Cluster extends L7Command {
  static override description =
    'Start a dispatcher and N nodes on this machine, each its own process, serving a document root ' +
    '(or a generated SURGE-like file set, kept in $L7_CACHE_DIR, $XDG_CACHE_HOME/l7 or ~/.cache/l7 and reused). ' +
    'With --front, every node also accepts clients on one shared address (the kernel gives each connection to one node). ' +
    'Prints exactly one line `ready {json}` on stdout once every node has registered with the cluster\'s dispatcher ' +
    '(or exits 1 saying which did not): the front and node URLs, admin URLs (/metrics, /healthz; the dispatcher\'s /metrics and /state), ' +
    'and the cluster token (give your own with --token or L7_TOKEN), so that a replacement dispatcher or node can join. ' +
    'Then a live status line on a TTY. A child that dies is logged (which, signal or exit code) and, with --restart ' +
    'on-failure, started again on the same ports with backoff. Ctrl-C or SIGTERM stops every child.'

  static override examples = [
    '<%= config.bin %> cluster',
    '<%= config.bin %> cluster --nodes 4 --policy ds --param hotThreshold=100 --files 2000 --cache-mb 8 --disk seek=8ms,mbps=20',
    '<%= config.bin %> cluster --nodes 3 --docroot www --listen 0 --handoff fd --json',
    '<%= config.bin %> cluster --nodes 4 --listen 0 --front 127.0.0.1:0 --json',
    '<%= config.bin %> cluster --nodes 4 --listen 0 --front 127.0.0.1:0 --dispatcher-in node0',
    '<%= config.bin %> cluster --nodes 2 --files 200 --listen 0 --admin 0 --restart no --assign-deadline 300ms',
  ]

  static override flags = {
    nodes: Flags.integer({ description: 'number of nodes', default: 4, min: 1, max: 64 }),
    policy: policyFlag({ description: 'distribution policy the dispatcher runs' }),
    param: paramFlag,
    docroot: Flags.directory({ description: 'document root to serve (default: --files generated files, cached across runs)', exists: true }),
    files: Flags.integer({ description: 'files to generate when no --docroot is given', default: 2000, min: 1 }),
    'surge-seed': surgeSeedFlag("seed of the generated file set (default: the seed paper's preset, hong-noh-2005)"),
    listen: listenFlag('127.0.0.1:8080', 'the dispatcher\'s address, host:port; nodes listen on port+1..port+N (port 0: every port free, see the ready line)'),
    front: Flags.string({
      description: 'one client address for the whole cluster, host:port: every node also accepts on it (a listening socket the nodes share, as a layer-4 switch would spread connections, with no proxy in between; port 0: any free port, see the ready line)',
      helpValue: '<host:port>',
    }),
    'cache-mb': cacheMbFlag(32),
    disk: diskFlag,
    'dispatcher-in': Flags.string({
      description: "where the dispatcher runs: own (its own process) or node0 (inside node 0's process, as a back-end may host it: one process fewer on the machine; node 0 and the dispatcher then fail and restart together)",
      default: 'own',
      options: ['own', 'node0'],
    }),
    handoff: Flags.string({ description: 'handoff mechanism: relay (the request over a persistent connection to the peer), or fd (the client socket passed straight to the sibling node process, over a Unix socket per pair of nodes)', default: 'relay', options: ['relay', 'fd'] }),
    token: Flags.string({ description: 'cluster token (default: random)', env: 'L7_TOKEN' }),
    restart: Flags.string({ description: 'restart a child that dies with a signal or a non-zero exit code (backoff 250ms doubling to 10s), or not', default: 'on-failure', options: ['on-failure', 'no'] }),
    admin: Flags.integer({ description: "admin ports: the dispatcher's admin listener (loopback) on this port, node i's on port+1+i (default 0: ephemeral ports)", default: 0, min: 0, max: 65535 }),
    'assign-deadline': durationFlag({ description: "longest a node waits for the dispatcher's answer before it calls the link suspect and decides by its fallback (the deadline follows the round trip, at least 100ms)", default: '500ms' }),
    json: jsonFlag('print the ready line as a bare JSON object ({"event":"ready",...}), and no live status line'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Cluster)
    const cluster = await startCluster({
      nodes: flags.nodes,
      policy: flags.policy as PolicyName,
      docroot: flags.docroot,
      files: flags.files,
      params: parseParamFlag(flags.param),
      seed: flags['surge-seed'],
      port: flags.listen.port,
      host: flags.listen.host,
      front: flags.front,
      cacheBytes: parseCacheMb(flags['cache-mb']) * 1024 * 1024,
      disk: parseDiskFlag(flags.disk),
      handoff: flags.handoff as 'relay' | 'fd',
      dispatcherIn: flags['dispatcher-in'] as 'own' | 'node0',
      token: flags.token,
      restart: flags.restart as 'on-failure' | 'no',
      adminPort: flags.admin,
      assignDeadlineMinMs: Math.min(100, flags['assign-deadline'] * 1000),
      assignDeadlineMaxMs: flags['assign-deadline'] * 1000,
    })
    // Listen for the stop signals before the ready line: a reader may signal as soon as it sees it.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    const ready = cluster.readyInfo()
    process.stdout.write(flags.json ? `${JSON.stringify({ event: 'ready', ...ready })}\n` : `ready ${JSON.stringify(ready)}\n`)
    const tty = process.stdout.isTTY === true && !flags.json
    const status = tty ? watchClusterStatus(cluster, (line) => process.stdout.write(`\r\x1b[2K${line}`)) : null
    await stopped
    status?.stop()
    if (tty) process.stdout.write('\n')
    await cluster.close()
  }
}
