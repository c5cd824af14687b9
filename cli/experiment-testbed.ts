// `l7 experiment --testbed`: the experiment's flags read for the test bed (service/experiment/
// testbed.ts), kept out of cli/commands/experiment.ts so that its one branch stays small. Flags
// the user did not set take the test bed's own defaults (users swept past the knee, 1 MiB caches,
// links and disks 10 times slower), not the loopback experiment's.

import { DEFAULT_TESTBED_EXPERIMENT, runTestbedExperiment } from '../service/experiment/testbed.js'
import { formatTestbedTable } from '../service/experiment/testbed-report.js'
import { installSignalTeardown } from '../service/testbed/testbed.js'
import { testbedUnavailable } from '../service/testbed/network.js'
import { parseCacheMb, parseDiskFlag, parseNumber, parseNumberList, parsePolicyList } from './flags.js'
import { resolveReading } from '../service/sim/readings.js'

export interface TestbedFlags {
  nodes: number
  policies: string
  /** Seconds (durationFlag). */
  duration: number
  warmup: number
  'cache-mb': string
  disk: string
  param?: string
  reading: string
  simulate: boolean
  json: boolean
  clients: number
  'link-mbps': string
  scale: string
  sweep?: string
}

/** Runs the experiment on the test bed and returns what to print; `given(flag)`: set by the user. */
export async function runTestbedExperimentCommand(flags: TestbedFlags, given: (flag: string) => boolean): Promise<string> {
  const unavailable = testbedUnavailable()
  // Exit 2, as `l7 testbed` (issue 14): this machine cannot run a test bed at all.
  if (unavailable) throw Object.assign(new Error(unavailable), { oclif: { exit: 2 } })
  const d = DEFAULT_TESTBED_EXPERIMENT
  const removeSignals = installSignalTeardown(async () => {})
  try {
    const report = await runTestbedExperiment({
      policies: parsePolicyList(flags.policies),
      nodes: flags.nodes,
      clients: flags.clients,
      users: flags.sweep === undefined ? [...d.users] : parseNumberList(flags.sweep, '--sweep', { integer: true, min: 1 }),
      durationS: given('duration') ? flags.duration : d.durationS,
      warmupS: given('warmup') ? flags.warmup : d.warmupS,
      cacheMb: given('cache-mb') ? parseCacheMb(flags['cache-mb']) : d.cacheMb,
      disk: given('disk') ? parseDiskFlag(flags.disk) : d.disk,
      linkMbps: parseNumber(flags['link-mbps'], '--link-mbps', { above: 0 }),
      scale: parseNumber(flags.scale, '--scale', { min: 1 }),
      reading: resolveReading(flags.reading, flags.param ?? ''),
      simulate: flags.simulate,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    })
    return flags.json ? JSON.stringify(report, null, 2) : formatTestbedTable(report)
  } finally {
    removeSignals()
  }
}
