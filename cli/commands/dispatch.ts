import { randomBytes } from 'node:crypto'
import { Flags } from '@oclif/core'
import { InvalidArgumentError } from '../../service/core/errors.js'
import { startDispatcher } from '../../service/dispatcher/dispatcher.js'
import type { PolicyName } from '../../service/policy/types.js'
import { L7Command } from '../command.js'
import { durationFlag, jsonFlag, listenFlag, paramFlag, parseParamFlag, policyFlag } from '../flags.js'

/** Addresses only this machine can reach: there a generated token is safe to print. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/

export default class Dispatch extends L7Command {
  static override description =
    'Run the dispatcher: nodes register over the binary control protocol (WebSocket /control) and ask it which ' +
    'node serves each request; /healthz on the same port, and /metrics (Prometheus) and /state (JSON) there with ' +
    'the token (Authorization: Bearer <token>), or without it on an admin listener bound to loopback (--admin). Prints one ' +
    '`ready {json}` line on stdout when listening; logs JSON lines on stderr; stops cleanly on SIGINT/SIGTERM. ' +
    'Nodes must present the cluster token (--token or L7_TOKEN); on a loopback address without one, a random ' +
    'token is generated and printed once, in the ready line.'

  static override examples = [
    '<%= config.bin %> dispatch --policy ds',
    '<%= config.bin %> dispatch --policy lard --listen 127.0.0.1:7070 --token secret --param tLow=25,tHigh=65',
    '<%= config.bin %> dispatch --policy ds --token secret --param hotThreshold=200,unitTimeUs=1000000,rateEstimator=ewma',
    '<%= config.bin %> dispatch --policy chbl --listen 0 --token secret --impl ts --json',
    '<%= config.bin %> dispatch --policy ds --listen 0 --admin 0',
  ]

  static override flags = {
    policy: policyFlag(),
    param: paramFlag,
    listen: listenFlag('127.0.0.1:7070'),
    token: Flags.string({ description: 'cluster token nodes must present (default on loopback: a random one, printed in the ready line)', env: 'L7_TOKEN' }),
    impl: Flags.string({ description: 'scheduler: the Wasm core or the TypeScript reference', options: ['wasm', 'ts'], default: 'wasm' }),
    'allow-fallback': Flags.boolean({ description: 'run on the slow pure-JS uWS fallback if the native build does not load', default: false }),
    heartbeat: durationFlag({ description: 'heartbeat interval; a node silent for 3 intervals is marked down', default: '1s' }),
    'max-buffered-bytes': Flags.integer({ description: 'bytes of unsent replies after which a slow node is disconnected', default: 8 * 1024 * 1024, min: 1024 }),
    admin: Flags.integer({ description: 'admin listener port on 127.0.0.1: /metrics, /state and /healthz without the token (0 = ephemeral; default: none)', min: 0, max: 65535 }),
    json: jsonFlag('print the ready line as a bare JSON object ({"event":"ready",...})'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Dispatch)
    const { host, port } = flags.listen
    let token = flags.token
    const generated = !token
    if (!token) {
      if (!LOOPBACK.test(host)) throw new InvalidArgumentError(`a cluster token is required when listening on ${host}: give --token or set L7_TOKEN`)
      token = randomBytes(16).toString('hex')
    }
    const params = parseParamFlag(flags.param)

    const d = await startDispatcher({
      policy: flags.policy as PolicyName,
      params,
      impl: flags.impl as 'wasm' | 'ts',
      port,
      host,
      token,
      allowFallback: flags['allow-fallback'],
      heartbeatIntervalMs: flags.heartbeat * 1000,
      maxBufferedBytes: flags['max-buffered-bytes'],
      adminPort: flags.admin,
    })
    const urlHost = d.host === '0.0.0.0' ? '127.0.0.1' : d.host
    const ready = {
      url: `ws://${urlHost}:${d.port}/control`,
      host: d.host,
      port: d.port,
      policy: d.scheduler.policy,
      impl: d.scheduler.impl,
      native: d.native,
      params: d.scheduler.params,
      ...(d.adminPort !== null ? { admin: `http://127.0.0.1:${d.adminPort}` } : {}),
      // Printed once, here, when we made it up: nodes need it to register.
      ...(generated ? { token } : {}),
    }
    // Listen for the stop signals before the ready line: a reader may signal as soon as it sees it.
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'stopping', signal }) + '\n')
        d.close().then(resolve, resolve)
      }
      process.once('SIGINT', () => stop('SIGINT'))
      process.once('SIGTERM', () => stop('SIGTERM'))
    })
    this.log(flags.json ? JSON.stringify({ event: 'ready', ...ready }) : `ready ${JSON.stringify(ready)}`)
    await stopped
  }
}
