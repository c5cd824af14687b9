import { Flags } from '@oclif/core'
import { withAtomicDir } from '../../../service/core/atomic-write.js'
import { materialize, readFileSet } from '../../../service/surge/index.js'
import { L7Command } from '../../command.js'
import { inputPathArg, jsonFlag, parseNumber } from '../../flags.js'

export default class TraceMaterialize extends L7Command {
  static override description =
    'Create a workload\'s files on disk: DOCROOT/<i>.txt for every line i of DIR/mout.txt, with the exact size (times --scale) ' +
    'and text content determined by the workload\'s seed and the file index. Works on directories from SURGE itself too (seed 0).'

  static override examples = [
    '<%= config.bin %> trace materialize traces/surge-sample --docroot www',
    '<%= config.bin %> trace materialize workload --docroot www-small --scale 0.1 --json',
  ]

  static override args = {
    dir: inputPathArg('workload directory (from `l7 trace generate`, or holding SURGE\'s mout.txt)'),
  }

  static override flags = {
    docroot: Flags.string({ description: 'document root to write the files into (created)', required: true }),
    scale: Flags.string({ description: 'shrink (or grow) every file by this factor, at least 1 byte', default: '1' }),
    json: jsonFlag('print {"files":n,"bytes":n,"docroot":...} as JSON'),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceMaterialize)
    const { files, seed } = await readFileSet(args.dir)
    const scale = parseNumber(flags.scale, '--scale', { above: 0 })
    // Into a temporary directory renamed into place: an error leaves no half-written docroot.
    const written = await withAtomicDir(flags.docroot, (dir) => materialize(files, seed, { docroot: dir, scale }))
    if (flags.json) this.log(JSON.stringify({ files: written.files, bytes: written.bytes, docroot: flags.docroot }))
    else this.log(`${written.files} files, ${written.bytes.toLocaleString('en-US')} bytes in ${flags.docroot}`)
  }
}
