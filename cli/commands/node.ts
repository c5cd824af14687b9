import { Command, Flags } from '@oclif/core'
import { parseListen } from '../../service/node/address.js'
import { startNode } from '../../service/node/node.js'
import { createNodeLink } from '../../service/node/control-link.js'
import { diskFlag, parseDiskFlag } from '../flags.js'

export default class Node extends Command {
  static override description =
    'Run one cluster node: HTTP/1.0 and 1.1 front end over a document root with an in-memory cache, ' +
    'routing each request through the dispatcher (or locally when none is given), handing off to peers. ' +
    'Prints one line `ready {json}` when it listens.'

  static override examples = [
    '<%= config.bin %> node --id 3 --dispatcher ws://127.0.0.1:7070 --listen 0.0.0.0:8083 --docroot ./www --token secret',
    '<%= config.bin %> node --id 0 --listen 8080 --docroot ./www --cache-mb 64 --disk seek=8ms,mbps=20',
  ]

  static override flags = {
    id: Flags.integer({ description: 'node id (0..63), unique in the cluster', required: true, min: 0, max: 63 }),
    dispatcher: Flags.string({ description: 'dispatcher URL (ws://host:port); without it the node serves everything locally (policy local)' }),
    listen: Flags.string({ description: 'host:port for clients', default: '127.0.0.1:8080' }),
    advertise: Flags.string({ description: 'host:port peers and the dispatcher use to reach this node (default: the --listen address)' }),
    admin: Flags.integer({ description: 'admin port for /metrics and /healthz (0 = ephemeral)', default: 0, min: 0, max: 65535 }),
    docroot: Flags.directory({ description: 'document root to serve', required: true, exists: true }),
    'cache-mb': Flags.integer({ description: 'content cache size, MiB', default: 32, min: 0 }),
    disk: diskFlag,
    token: Flags.string({ description: 'cluster token (registration, handoff credentials)', env: 'L7_TOKEN', default: '' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Node)
    const listen = parseListen(flags.listen)
    if (flags.dispatcher && !flags.token) this.error('--token (or L7_TOKEN) is required with --dispatcher', { exit: 2 })
    const node = await startNode({
      id: flags.id,
      docroot: flags.docroot,
      host: listen.host,
      port: listen.port,
      advertise: flags.advertise,
      adminPort: flags.admin,
      cacheBytes: flags['cache-mb'] * 1024 * 1024,
      disk: parseDiskFlag(flags.disk),
      token: flags.token,
      link: flags.dispatcher ? createNodeLink({ url: flags.dispatcher, token: flags.token }) : undefined,
    })
    this.log(`ready ${JSON.stringify({ id: node.id, url: node.url, admin: node.adminPort === null ? null : `http://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${node.adminPort}` })}`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await node.close()
  }
}
