import { Flags } from '@oclif/core'
import { InvalidArgumentError } from '../../service/core/errors.js'
import { startNode } from '../../service/node/node.js'
import { createNodeLink } from '../../service/node/control-link.js'
import { L7Command } from '../command.js'
import { cacheMbFlag, diskFlag, jsonFlag, listenFlag, parseCacheMb, parseDiskFlag } from '../flags.js'

export default class Node extends L7Command {
  static override description =
    'Run one cluster node: HTTP/1.0 and 1.1 front end over a document root with an in-memory cache, ' +
    'routing each request through the dispatcher (or locally when none is given), handing off to peers. ' +
    'Prints one line `ready {json}` when it listens.'

  static override examples = [
    '<%= config.bin %> node --id 3 --dispatcher ws://127.0.0.1:7070 --listen 0.0.0.0:9083 --docroot www --token secret',
    '<%= config.bin %> node --id 0 --listen 9080 --docroot www --cache-mb 64 --disk seek=8ms,mbps=20 --json',
  ]

  static override flags = {
    id: Flags.integer({ description: 'node id (0..63), unique in the cluster', required: true, min: 0, max: 63 }),
    dispatcher: Flags.string({ description: 'dispatcher URL (ws://host:port); without it the node serves everything locally (policy local)' }),
    listen: listenFlag('127.0.0.1:9080', 'address for clients, host:port (port 0: any free port, see the ready line)'),
    advertise: Flags.string({ description: 'host:port peers and the dispatcher use to reach this node (default: the --listen address)' }),
    admin: Flags.integer({ description: 'admin port for /metrics and /healthz (0 = ephemeral)', default: 0, min: 0, max: 65535 }),
    docroot: Flags.directory({ description: 'document root to serve', required: true, exists: true }),
    'cache-mb': cacheMbFlag(32, 'content cache, MiB'),
    disk: diskFlag,
    token: Flags.string({ description: 'cluster token (registration, handoff credentials); required with --dispatcher', env: 'L7_TOKEN' }),
    json: jsonFlag('print the ready line as a bare JSON object ({"event":"ready",...})'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Node)
    const listen = flags.listen
    if (flags.dispatcher && !flags.token) throw new InvalidArgumentError('--token (or L7_TOKEN) is required with --dispatcher: the token the dispatcher printed or was given')
    const node = await startNode({
      id: flags.id,
      docroot: flags.docroot,
      host: listen.host,
      port: listen.port,
      advertise: flags.advertise,
      adminPort: flags.admin,
      cacheBytes: parseCacheMb(flags['cache-mb']) * 1024 * 1024,
      disk: parseDiskFlag(flags.disk),
      token: flags.token ?? '',
      link: flags.dispatcher ? createNodeLink({ url: flags.dispatcher, token: flags.token ?? '' }) : undefined,
    })
    // Listening for the signals before the ready line: a reader may signal as soon as it reads it.
    const stopped = new Promise<void>((resolve) => {
      process.on('SIGINT', () => resolve())
      process.on('SIGTERM', () => resolve())
    })
    const ready = { id: node.id, url: node.url, admin: node.adminPort === null ? null : `http://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${node.adminPort}` }
    this.log(flags.json ? JSON.stringify({ event: 'ready', ...ready }) : `ready ${JSON.stringify(ready)}`)
    await stopped
    await node.close()
  }
}
