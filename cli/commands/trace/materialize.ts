import { stat } from 'node:fs/promises'
import { Flags } from '@oclif/core'
import { withAtomicDir } from '../../../service/core/atomic-write.js'
import { materialize, readFileSet } from '../../../service/surge/index.js'
import { ProblemReporter, TRACE_FORMATS, epaDateFrom, formatMaterializeLog, materializeLog } from '../../../service/trace/index.js'
import type { TraceFormat } from '../../../service/trace/types.js'
import { L7Command } from '../../command.js'
import { inputPathArg, jsonFlag, parseNumber } from '../../flags.js'

export default class TraceMaterialize extends L7Command {
  static override description =
    'Create a document root on disk. From an access log (or any trace file): every path the log requests, as large as ' +
    'its largest 200 response (paths without one: --default-size), query strings dropped as the node drops them; what ' +
    'cannot be a file is reported. From a workload directory: DOCROOT/<i>.txt for every line i of DIR/mout.txt, with the ' +
    'exact size (times --scale) and text content determined by the workload\'s seed and the file index (SURGE\'s own ' +
    'directories: seed 0). Written to a temporary directory and renamed into place. Serve it with `l7 cluster --docroot`.'

  static override examples = [
    '<%= config.bin %> trace materialize traces/epa-http_1995-08-30.log.gz --docroot epa-www',
    '<%= config.bin %> trace materialize traces/surge-sample --docroot www',
    '<%= config.bin %> trace materialize traces/surge-sample --docroot www-small --scale 0.1 --json',
  ]

  static override args = {
    input: inputPathArg('an access log or trace file (gzip ok), or a workload directory (from `l7 trace generate`, or holding SURGE\'s mout.txt)'),
  }

  static override flags = {
    docroot: Flags.string({ description: 'document root to write (created; from a log it must not exist or be empty)', required: true }),
    scale: Flags.string({ description: 'shrink (or grow) every non-empty file by this factor, at least 1 byte', default: '1' }),
    format: Flags.string({ description: 'log: its format (default: detected)', options: TRACE_FORMATS.filter((format) => format !== 'surge') }),
    'default-size': Flags.integer({ description: 'log: bytes of a path the log never served with a 200 and a size (default: the median 200 size)', min: 0 }),
    'content-seed': Flags.integer({ description: 'log: seed of the files\' content', default: 0, min: 0 }),
    json: jsonFlag('print {"files":n,"bytes":n,"docroot":...} as JSON (from a log: also what could not be placed)'),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceMaterialize)
    const scale = parseNumber(flags.scale, '--scale', { above: 0 })
    if ((await stat(args.input)).isDirectory()) {
      const { files, seed } = await readFileSet(args.input)
      // Into a temporary directory renamed into place: an error leaves no half-written docroot.
      const written = await withAtomicDir(flags.docroot, (dir) => materialize(files, seed, { docroot: dir, scale }))
      if (flags.json) this.log(JSON.stringify({ files: written.files, bytes: written.bytes, docroot: flags.docroot }))
      else this.log(`${written.files} files, ${written.bytes.toLocaleString('en-US')} bytes in ${flags.docroot}`)
      return
    }
    const problems = new ProblemReporter((line) => this.warn(line))
    const result = await materializeLog(args.input, {
      docroot: flags.docroot,
      scale,
      seed: flags['content-seed'],
      defaultSize: flags['default-size'],
      format: flags.format as TraceFormat | undefined,
      epa: epaDateFrom({}),
      onProblem: problems.onProblem,
    })
    const summary = problems.summary()
    if (summary) this.warn(summary)
    this.log(flags.json ? JSON.stringify(result) : formatMaterializeLog(result))
  }
}
