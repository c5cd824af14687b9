import { Flags } from '@oclif/core'
import { L7Command } from '../command.js'
import { InvalidArgumentError, L7Error } from '../../service/core/errors.js'
import { DEFAULT_FAULTS, FAULTS, formatFaults, runFaults, type FaultName } from '../../service/testbed/faults.js'
import type { PolicyName } from '../../service/policy/types.js'
import { cleanupLeftovers, testbedUnavailable } from '../../service/testbed/network.js'
import { installSignalTeardown, removeStaleWorkDirs, startTestbed } from '../../service/testbed/testbed.js'
import { cacheMbFlag, commaList, diskFlag, durationFlag, jsonFlag, paramFlag, parseCacheMb, parseDiskFlag, parseNumber, parseParamFlag, policyFlag } from '../flags.js'

export default class Testbed extends L7Command {
  static override description =
    'Run the cluster as separate hosts on this machine: a Linux network namespace per node, one for the dispatcher, ' +
    'one per client machine and one for a layer-4 front (HAProxy, mode tcp, round robin, health checks), joined to a ' +
    'bridge by links shaped with tc. `l7 dispatch`, `l7 node` (relay handoff) and HAProxy run inside them by their own ' +
    '10.77.0.x addresses, with no route out. Prints `ready {json}` (namespaces, addresses) and runs until Ctrl-C, ' +
    'then removes every namespace, link and process. Needs root and iproute2 (ip, tc). Run `l7 replay` on a client ' +
    'machine with `ip netns exec <client netns> npx l7 replay ...` against the front.'

  static override examples = [
    '$ <%= config.bin %> testbed --nodes 4 --policy lard',
    '$ <%= config.bin %> testbed --nodes 2 --clients 1 --link-mbps 100 --scale 10 --disk seek=10ms,mbps=20',
    '$ <%= config.bin %> testbed --faults link-cut,node-kill,dispatcher-kill --scale 10 --disk seek=10ms,mbps=20',
    '$ <%= config.bin %> testbed --cleanup',
  ]

  static override flags = {
    nodes: Flags.integer({ description: 'node hosts', default: 4, min: 1, max: 64 }),
    clients: Flags.integer({ description: 'client machines', default: 4, min: 1, max: 64 }),
    policy: policyFlag(),
    param: paramFlag,
    'link-mbps': Flags.string({ description: 'each host\'s link, Mbit/s each way, before --scale', default: '100' }),
    delay: durationFlag({ description: 'one-way delay added on each side of every link, e.g. 1ms (needs the kernel\'s netem)', default: '0', zero: true }),
    scale: Flags.string({ description: 'slow links and emulated disks together by this factor (rates / scale, seeks * scale)', default: '1' }),
    'cache-mb': cacheMbFlag(32),
    disk: diskFlag,
    files: Flags.integer({ description: 'files of the seed\'s SURGE set to generate (without --docroot)', default: 2000, min: 1 }),
    docroot: Flags.directory({ description: 'serve this directory instead of a generated file set', exists: true }),
    front: Flags.boolean({ description: 'start the HAProxy front', default: true, allowNo: true }),
    faults: Flags.string({
      description: `run these faults one after the other, each on a fresh test bed under closed-loop users, print what clients saw, and exit (${FAULTS.join(', ')})`,
    }),
    users: Flags.integer({ description: 'with --faults: SURGE users over all client machines', default: DEFAULT_FAULTS.users, min: 1 }),
    cleanup: Flags.boolean({ description: 'remove the namespaces (and processes in them) and the work directories that crashed test beds left, then exit', default: false }),
    json: jsonFlag('print the ready line as a bare JSON object ({"event":"ready",...})'),
    all: Flags.boolean({ description: 'with --cleanup: remove live test beds too', default: false, dependsOn: ['cleanup'] }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Testbed)
    const unavailable = testbedUnavailable()
    // Exit 2 (issue 14): the machine cannot run a test bed at all, like a usage error.
    if (unavailable) this.error(unavailable, { exit: 2 })
    if (flags.cleanup) {
      const removed = cleanupLeftovers(flags.all)
      const dirs = removeStaleWorkDirs(flags.all)
      if (removed.length === 0 && dirs.length === 0) this.log('nothing to clean up')
      if (removed.length > 0) this.log(`removed ${removed.length} namespaces: ${removed.join(' ')}`)
      if (dirs.length > 0) this.log(`removed ${dirs.length} work directories: ${dirs.join(' ')}`)
      return
    }
    if (flags.faults !== undefined) {
      const faults = commaList(flags.faults)
      for (const f of faults) if (!(FAULTS as readonly string[]).includes(f)) throw new InvalidArgumentError(`--faults: unknown fault "${f}" (one of ${FAULTS.join(', ')})`)
      const options = {
        ...DEFAULT_FAULTS,
        faults: faults as FaultName[],
        policy: flags.policy as PolicyName,
        nodes: flags.nodes,
        clients: flags.clients,
        users: flags.users,
        linkMbps: parseNumber(flags['link-mbps'], '--link-mbps', { above: 0 }),
        scale: parseNumber(flags.scale, '--scale', { min: 1 }),
        cacheMb: parseCacheMb(flags['cache-mb']),
        disk: parseDiskFlag(flags.disk),
        onProgress: (line: string) => process.stderr.write(`${line}\n`),
      }
      const removeSignals = installSignalTeardown(async () => {})
      try {
        const outcomes = await runFaults(options)
        this.log(flags.json ? JSON.stringify({ options: { ...options, onProgress: undefined }, outcomes }, null, 2) : formatFaults(outcomes, options))
      } finally {
        removeSignals()
      }
      return
    }
    let bed: Awaited<ReturnType<typeof startTestbed>> | null = null
    let closing: Promise<void> | null = null
    const close = () => (closing ??= bed ? bed.close() : Promise.resolve())
    const removeSignals = installSignalTeardown(close)
    try {
      bed = await startTestbed({
        nodes: flags.nodes,
        clients: flags.clients,
        policy: flags.policy as PolicyName,
        params: parseParamFlag(flags.param),
        linkMbps: parseNumber(flags['link-mbps'], '--link-mbps', { above: 0 }),
        scale: parseNumber(flags.scale, '--scale', { min: 1 }),
        delayMs: flags.delay * 1000,
        cacheMb: parseCacheMb(flags['cache-mb']),
        disk: parseDiskFlag(flags.disk),
        files: flags.files,
        docroot: flags.docroot,
        front: flags.front,
      })
      this.log(flags.json ? JSON.stringify({ event: 'ready', ...bed.info() }) : `ready ${JSON.stringify(bed.info())}`)
      // Runs until a signal (installSignalTeardown tears down and exits) or a process of the bed dies.
      const died = await Promise.race([bed.dispatcher.process!.exited.then(() => 'the dispatcher'), ...bed.nodes.map((n) => n.process.exited.then(() => `node ${n.id}`))])
      if (!closing) throw new L7Error('L7_TESTBED_DIED', `${died} exited: ${[bed.dispatcher.process!, ...bed.nodes.map((n) => n.process)].map((p) => p.stderrTail()).filter(Boolean).join('; ') || 'no message'}`)
      await closing
    } finally {
      await close()
      removeSignals()
    }
  }
}
