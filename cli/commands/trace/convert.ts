import { Args, Command, Flags } from '@oclif/core'
import { InvalidArgumentError, L7Error } from '../../../service/core/errors.js'
import { ProblemReporter, TRACE_FORMATS, convertTrace, epaDateFrom, parseUtcOffset } from '../../../service/trace/index.js'
import type { TraceFormat } from '../../../service/trace/types.js'

export default class TraceConvert extends Command {
  static override description =
    'Convert a trace between formats, streaming: l7 (ours), CLF, Combined, EPA, SURGE (a directory: mout.txt, objout.txt, ' +
    'name.txt; each distinct URL becomes a loner file, urls.txt keeps the original URLs). Writing .gz compresses. ' +
    'Bad input lines are reported (the first few, then a count) and skipped, or stop the run with --strict.'

  static override examples = [
    '<%= config.bin %> trace convert traces/epa-http_1995-08-30.log.gz epa.l7',
    '<%= config.bin %> trace convert access.log.gz access.l7.gz --from combined',
    '<%= config.bin %> trace convert workload/trace.l7 workload.log --to clf --start 2026-01-01T00:00:00Z',
    '<%= config.bin %> trace convert access.log surge-dir --to surge',
  ]

  static override args = {
    input: Args.string({ description: 'trace file (gzip ok) or SURGE directory', required: true }),
    output: Args.string({ description: 'output file (a directory for --to surge)', required: true }),
  }

  static override flags = {
    from: Flags.string({ description: 'input format (default: detected)', options: [...TRACE_FORMATS] }),
    to: Flags.string({ description: 'output format', options: [...TRACE_FORMATS], default: 'l7' }),
    strict: Flags.boolean({ description: 'stop at the first bad line (default: report and skip)', default: false }),
    start: Flags.string({ description: 'CLF/Combined/EPA output: the wall-clock time of trace time 0 (ISO 8601)' }),
    'utc-offset': Flags.string({ description: 'CLF/Combined output: the zone written, e.g. -0400', default: '+0000' }),
    'epa-year': Flags.integer({ description: 'EPA input and output: the year', default: 1995 }),
    'epa-month': Flags.integer({ description: 'EPA input and output: the month, 1-12', default: 8 }),
    'epa-utc-offset': Flags.string({ description: 'EPA input and output: the zone', default: '-0400' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceConvert)
    const problems = new ProblemReporter((line) => this.warn(line))
    try {
      let startMs: number | undefined
      if (flags.start !== undefined) {
        startMs = Date.parse(flags.start)
        if (Number.isNaN(startMs)) throw new InvalidArgumentError(`--start ${JSON.stringify(flags.start)} is not an ISO 8601 time`)
      }
      const epaDate = epaDateFrom({ year: flags['epa-year'], month: flags['epa-month'], utcOffset: flags['epa-utc-offset'] })
      const count = await convertTrace(args.input, args.output, {
        format: flags.from as TraceFormat | undefined,
        to: flags.to as TraceFormat,
        strict: flags.strict,
        epa: epaDate,
        onProblem: problems.onProblem,
        write: { startMs, utcOffsetMinutes: parseUtcOffset(flags['utc-offset']), epaDate },
      })
      const summary = problems.summary()
      if (summary) this.warn(summary)
      this.log(`${count} requests written to ${args.output} (${flags.to})`)
    } catch (err) {
      if (err instanceof L7Error || (err as NodeJS.ErrnoException).code === 'ENOENT') this.error((err as Error).message, { exit: 2 })
      throw err
    }
  }
}
