import { Command, Flags } from '@oclif/core'
import { InvalidArgumentError, MissingDependencyError } from '../../service/core/errors.js'
import { startDispatcher } from '../../service/dispatcher/dispatcher.js'
import { POLICY_NAMES, type PolicyName, type PolicyParams, type RateEstimator } from '../../service/policy/types.js'

/** "1s", "250ms", "500us" or a bare number of microseconds -> microseconds. */
export function parseMicroseconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|ms|us)?$/.exec(text.trim())
  if (!match) throw new InvalidArgumentError(`expected a duration like 1s, 250ms or 500us, got "${text}"`)
  const scale = match[2] === 's' ? 1e6 : match[2] === 'ms' ? 1e3 : 1
  return Number(match[1]) * scale
}

export default class Dispatch extends Command {
  static override description =
    'Run the dispatcher: nodes register over the binary control protocol (WebSocket /control) and ask it which ' +
    'node serves each request; /healthz, /metrics (Prometheus) and /state (JSON) on the same port. Prints one ' +
    '`ready {json}` line on stdout when listening; logs JSON lines on stderr; stops cleanly on SIGINT/SIGTERM.'

  static override examples = [
    'L7_TOKEN=secret <%= config.bin %> dispatch --policy ds',
    '<%= config.bin %> dispatch --policy lard --port 7070 --token secret --t-low 25 --t-high 65',
    '<%= config.bin %> dispatch --policy ds --token secret --hot-threshold 200 --unit-time 1s --rate-estimator ewma',
    '<%= config.bin %> dispatch --policy chbl --port 0 --token secret --impl ts',
  ]

  static override flags = {
    policy: Flags.string({ description: 'distribution policy', options: [...POLICY_NAMES], default: 'ds' }),
    port: Flags.integer({ description: 'TCP port (0 = any free port; see the ready line)', default: 7070, min: 0, max: 65535 }),
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    token: Flags.string({ description: 'cluster token nodes must present', env: 'L7_TOKEN' }),
    impl: Flags.string({ description: 'scheduler: the Wasm core or the TypeScript reference', options: ['wasm', 'ts'], default: 'wasm' }),
    'allow-fallback': Flags.boolean({ description: 'run on the slow pure-JS uWS fallback if the native build does not load' }),
    'heartbeat-ms': Flags.integer({ description: 'heartbeat interval; a node silent for 3 intervals is marked down', default: 1000, min: 10 }),
    'max-buffered': Flags.integer({ description: 'bytes of unsent replies after which a slow node is disconnected', default: 8 * 1024 * 1024, min: 1024 }),
    // Policy parameters (service/policy/types.ts PolicyParams); unset = the documented default.
    'max-nodes': Flags.integer({ description: 'node ids are 0..max-nodes-1', min: 1 }),
    'target-capacity': Flags.integer({ description: 'target table capacity', min: 1 }),
    'batch-capacity': Flags.integer({ description: 'largest batch the scheduler decides in one call', min: 1 }),
    't-low': Flags.integer({ description: 'LARD T_low', min: 0 }),
    't-high': Flags.integer({ description: 'LARD T_high', min: 1 }),
    'shrink-seconds': Flags.string({ description: 'LARD/R: drop a member of a set unchanged this long (seconds)' }),
    'max-load': Flags.integer({ description: 'lard-cost/DS MAX_LOAD', min: 1 }),
    'hit-cost': Flags.string({ description: 'lard-cost hit cost' }),
    'miss-cost': Flags.string({ description: 'lard-cost miss cost' }),
    'bal-cost': Flags.string({ description: 'lard-cost balance cost' }),
    'inval-cost': Flags.string({ description: 'lard-cost invalid (overloaded) cost' }),
    'hot-threshold': Flags.string({ description: 'DS: requests per second that make a target hot' }),
    'unit-time': Flags.string({ description: 'DS: unit time of the rate estimate (1s, 250ms, 500us)' }),
    'rate-estimator': Flags.string({ description: 'DS: rate estimator', options: ['ewma', 'window', 'literal'] }),
    'balance-factor': Flags.integer({ description: 'CHBL: capacity factor, percent (HAProxy hash-balance-factor)', min: 101 }),
    'ring-points': Flags.integer({ description: 'CHBL: ring points per unit of weight', min: 1 }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Dispatch)
    if (!flags.token) this.error('a cluster token is required: --token or the L7_TOKEN environment variable', { exit: 2 })
    const params: Partial<PolicyParams> = {}
    const number = (flag: string, value: string | undefined, key: keyof PolicyParams) => {
      if (value === undefined) return
      const n = Number(value)
      if (!Number.isFinite(n)) this.error(`--${flag}: expected a number, got "${value}"`, { exit: 2 })
      ;(params as Record<string, number>)[key] = n
    }
    const integers: [number | undefined, keyof PolicyParams][] = [
      [flags['max-nodes'], 'maxNodes'],
      [flags['target-capacity'], 'targetCapacity'],
      [flags['batch-capacity'], 'batchCapacity'],
      [flags['t-low'], 'tLow'],
      [flags['t-high'], 'tHigh'],
      [flags['max-load'], 'maxLoad'],
      [flags['balance-factor'], 'balanceFactorPercent'],
      [flags['ring-points'], 'ringPointsPerNode'],
    ]
    for (const [value, key] of integers) if (value !== undefined) (params as Record<string, number>)[key] = value
    number('shrink-seconds', flags['shrink-seconds'], 'shrinkSeconds')
    number('hit-cost', flags['hit-cost'], 'hitCost')
    number('miss-cost', flags['miss-cost'], 'missCost')
    number('bal-cost', flags['bal-cost'], 'balCost')
    number('inval-cost', flags['inval-cost'], 'invalCost')
    number('hot-threshold', flags['hot-threshold'], 'hotThreshold')
    if (flags['unit-time'] !== undefined) {
      try {
        params.unitTimeUs = parseMicroseconds(flags['unit-time'])
      } catch (err) {
        this.error(`--unit-time: ${(err as Error).message}`, { exit: 2 })
      }
    }
    if (flags['rate-estimator']) params.rateEstimator = flags['rate-estimator'] as RateEstimator

    let dispatcher
    try {
      dispatcher = await startDispatcher({
        policy: flags.policy as PolicyName,
        params,
        impl: flags.impl as 'wasm' | 'ts',
        port: flags.port,
        host: flags.host,
        token: flags.token,
        allowFallback: flags['allow-fallback'],
        heartbeatIntervalMs: flags['heartbeat-ms'],
        maxBufferedBytes: flags['max-buffered'],
      })
    } catch (err) {
      if (err instanceof MissingDependencyError) this.error(err.message, { exit: 3 })
      if (err instanceof InvalidArgumentError) this.error(err.message, { exit: 2 })
      throw err
    }
    const d = dispatcher
    const urlHost = d.host === '0.0.0.0' ? '127.0.0.1' : d.host
    this.log(
      `ready ${JSON.stringify({
        url: `ws://${urlHost}:${d.port}/control`,
        host: d.host,
        port: d.port,
        policy: d.scheduler.policy,
        impl: d.scheduler.impl,
        native: d.native,
        params: d.scheduler.params,
      })}`,
    )
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'stopping', signal }) + '\n')
        d.close().then(resolve, resolve)
      }
      process.once('SIGINT', () => stop('SIGINT'))
      process.once('SIGTERM', () => stop('SIGTERM'))
    })
  }
}
