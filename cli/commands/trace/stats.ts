import { Flags } from '@oclif/core'
import { writeFileAtomic } from '../../../service/core/atomic-write.js'
import { TRACE_FORMATS, computeTraceStats, epaDateFrom, formatStatsTable, statsJson, statsPlotSpec } from '../../../service/trace/index.js'
import type { TraceFormat } from '../../../service/trace/types.js'
import { L7Command } from '../../command.js'
import { inputPathArg, jsonFlag } from '../../flags.js'

export default class TraceStats extends L7Command {
  static override description =
    'Describe a trace in one streaming pass: requests, parsed and skipped lines, methods, status classes, unique targets, ' +
    'bytes and working set, the share of the top 1% and 10% of targets, one-timers, the Zipf exponent (least squares on the ' +
    'log-log rank-frequency curve at log-spaced ranks with at least 2 requests), target sizes, requests per second.'

  static override examples = [
    '<%= config.bin %> trace stats traces/epa-http_1995-08-30.log.gz',
    '<%= config.bin %> trace stats traces/apache_combined_semicomplete.com_2015-05-17_20.log.gz --json',
    '<%= config.bin %> trace stats traces/surge-sample/trace.l7 --plot popularity.svg',
    '<%= config.bin %> trace stats traces/epa-http-sample.log --format epa --epa-year 1995 --epa-month 8 --epa-utc-offset -0400',
  ]

  static override args = {
    file: inputPathArg('trace file (l7, CLF, Combined, EPA; gzip ok) or SURGE directory'),
  }

  static override flags = {
    format: Flags.string({ description: 'trace format (default: detected from the first lines)', options: [...TRACE_FORMATS] }),
    json: jsonFlag('print the statistics as JSON'),
    plot: Flags.string({ description: 'write the rank-frequency and size plots to this SVG file' }),
    strict: Flags.boolean({ description: 'stop at the first bad line (default: count and skip)', default: false }),
    'epa-year': Flags.integer({ description: 'EPA logs: the year (they have none)', default: 1995 }),
    'epa-month': Flags.integer({ description: 'EPA logs: the month, 1-12', default: 8 }),
    'epa-utc-offset': Flags.string({ description: 'EPA logs: the zone, e.g. -0400', default: '-0400' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceStats)
    const { stats, curves } = await computeTraceStats(args.file, {
      format: flags.format as TraceFormat | undefined,
      strict: flags.strict,
      epa: epaDateFrom({ year: flags['epa-year'], month: flags['epa-month'], utcOffset: flags['epa-utc-offset'] }),
    })
    if (flags.plot) {
      // Vega loads in about half a second: only when a plot is asked for
      const { renderSvg } = await import('../../../service/report/plot.js')
      await writeFileAtomic(flags.plot, await renderSvg(statsPlotSpec(stats, curves)))
    }
    this.log(flags.json ? statsJson(stats) : formatStatsTable(stats))
  }
}
