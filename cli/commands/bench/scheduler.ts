import { Flags } from '@oclif/core'
import { calibrate, checkOptions, FULL_OPTIONS, formatTable, goalLines, QUICK_OPTIONS, ratios, runSchedulerBench, type Impl, type SchedulerBenchOptions } from '../../../bench/scheduler.js'
import type { PolicyName } from '../../../service/policy/types.js'
import { L7Command } from '../../command.js'
import { commaList, jsonFlag, parseNumber, parseNumberList, parsePolicyList } from '../../flags.js'

export default class BenchScheduler extends L7Command {
  static override description =
    'Nanoseconds per decision of every distribution policy: the Wasm core against the TypeScript reference, ' +
    'measured in the same run, over batch sizes, node counts and Zipf-distributed target sets (median of ' +
    'repeated runs, done records included so that loads stay realistic). Prints wasm/ts per configuration.'

  static override examples = [
    '<%= config.bin %> bench scheduler --quick',
    '<%= config.bin %> bench scheduler --quick --json',
    '<%= config.bin %> bench scheduler --policies lard,ds --batch 256 --nodes 16 --targets 100000,1000000',
  ]

  static override flags = {
    quick: Flags.boolean({ description: 'a subset that runs in under 20 s (batch 1 and 256, 16 nodes, 2,000 and 100,000 targets)', default: false }),
    json: jsonFlag('print {"results":[...],"ratios":[...],"calibrationNs":n} instead of a table'),
    policies: Flags.string({ description: 'comma-separated policies (default: all)' }),
    impl: Flags.string({ description: 'comma-separated implementations: wasm, ts (default: both)' }),
    batch: Flags.string({ description: 'comma-separated batch sizes (default: 1,16,256,4096)' }),
    nodes: Flags.string({ description: 'comma-separated node counts (default: 16,64)' }),
    targets: Flags.string({ description: 'comma-separated target counts (default: 2000,1000000)' }),
    decisions: Flags.integer({ description: 'decisions per measured run (batch 1: a quarter)', min: 1 }),
    repeats: Flags.integer({ description: 'measured runs per configuration (median reported)', min: 1 }),
    zipf: Flags.string({ description: 'Zipf exponent of target popularity', default: '1' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchScheduler)
    const base = flags.quick ? QUICK_OPTIONS : FULL_OPTIONS
    // Lists are checked by checkOptions (policies and implementations known, counts in range).
    const options: SchedulerBenchOptions = {
      ...base,
      policies: flags.policies === undefined ? base.policies : (parsePolicyList(flags.policies) as PolicyName[]),
      impls: flags.impl === undefined ? base.impls : (commaList(flags.impl) as Impl[]),
      batches: flags.batch === undefined ? base.batches : parseNumberList(flags.batch, '--batch'),
      nodes: flags.nodes === undefined ? base.nodes : parseNumberList(flags.nodes, '--nodes'),
      targets: flags.targets === undefined ? base.targets : parseNumberList(flags.targets, '--targets'),
      decisions: flags.decisions ?? base.decisions,
      repeats: flags.repeats ?? base.repeats,
      zipfAlpha: parseNumber(flags.zipf, '--zipf', { min: 0 }),
    }
    checkOptions(options)
    const progress = !flags.json && process.stderr.isTTY
    const calibrationNs = calibrate()
    const results = runSchedulerBench(options, (r) => {
      if (progress) process.stderr.write(`\r\x1b[2K${r.policy} ${r.impl} batch ${r.batch} nodes ${r.nodes} targets ${r.targets}: ${r.nsPerDecision.toFixed(1)} ns`)
    })
    if (progress) process.stderr.write('\r\x1b[2K')
    if (flags.json) {
      this.log(JSON.stringify({ results, ratios: ratios(results), calibrationNs: Math.round(calibrationNs * 100) / 100 }))
      return
    }
    this.log(formatTable(results))
    for (const line of goalLines(results)) this.log(line)
    this.log(
      'ns = CPU time per decision, median of runs, including writing the columns and the done records. ' +
        `This machine ran a multiply-add loop at ${calibrationNs.toFixed(2)} ns per iteration (an idle modern core: about 0.5); ` +
        'on a shared machine figures are noisy.',
    )
  }
}
