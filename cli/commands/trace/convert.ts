import { Args, Flags } from '@oclif/core'
import { withAtomicDir, withAtomicFile } from '../../../service/core/atomic-write.js'
import { InvalidArgumentError } from '../../../service/core/errors.js'
import { ProblemReporter, TRACE_FORMATS, convertTrace, epaDateFrom, parseUtcOffset } from '../../../service/trace/index.js'
import type { TraceFormat } from '../../../service/trace/types.js'
import { L7Command } from '../../command.js'
import { inputPathArg, jsonFlag } from '../../flags.js'

export default class TraceConvert extends L7Command {
  static override description =
    'Convert a trace between formats, streaming: l7 (ours), CLF, Combined, EPA, SURGE (a directory: mout.txt, objout.txt, ' +
    'name.txt; each distinct URL becomes a loner file, urls.txt keeps the original URLs). Writing .gz compresses. ' +
    'Bad input lines are reported (the first few, then a count) and skipped, or stop the run with --strict; ' +
    'the output appears whole or not at all.'

  static override examples = [
    '<%= config.bin %> trace convert traces/epa-http_1995-08-30.log.gz epa.l7',
    '<%= config.bin %> trace convert traces/apache_combined_semicomplete.com_2015-05-17_20.log.gz access.l7.gz --from combined',
    '<%= config.bin %> trace convert traces/surge-sample/trace.l7 workload.log --to clf --start 2026-01-01T00:00:00Z',
    '<%= config.bin %> trace convert traces/semicomplete-sample.log surge-dir --to surge',
  ]

  static override args = {
    input: inputPathArg('trace file (gzip ok) or SURGE directory'),
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
    json: jsonFlag('print {"requests":n,"output":...,"format":...} as JSON'),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceConvert)
    const problems = new ProblemReporter((line) => this.warn(line))
    let startMs: number | undefined
    if (flags.start !== undefined) {
      startMs = Date.parse(flags.start)
      if (Number.isNaN(startMs)) throw new InvalidArgumentError(`--start ${JSON.stringify(flags.start)} is not an ISO 8601 time`)
    }
    const epaDate = epaDateFrom({ year: flags['epa-year'], month: flags['epa-month'], utcOffset: flags['epa-utc-offset'] })
    // Written to a temporary path beside the output and renamed at the end: a bad line under
    // --strict, or any other error, leaves no partial output.
    const convert = (path: string) =>
      convertTrace(args.input, path, {
        format: flags.from as TraceFormat | undefined,
        to: flags.to as TraceFormat,
        strict: flags.strict,
        epa: epaDate,
        onProblem: problems.onProblem,
        write: { startMs, utcOffsetMinutes: parseUtcOffset(flags['utc-offset']), epaDate },
      })
    const count = flags.to === 'surge' ? await withAtomicDir(args.output, convert) : await withAtomicFile(args.output, convert)
    const summary = problems.summary()
    if (summary) this.warn(summary)
    if (flags.json) this.log(JSON.stringify({ requests: count, output: args.output, format: flags.to }))
    else this.log(`${count} requests written to ${args.output} (${flags.to})`)
  }
}
