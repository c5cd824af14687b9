import { Args, Command, Flags } from '@oclif/core'
import { L7Error } from '../../../service/core/errors.js'
import { materialize, readFileSet } from '../../../service/surge/index.js'

export default class TraceMaterialize extends Command {
  static override description =
    'Create a workload\'s files on disk: DOCROOT/<i>.txt for every line i of DIR/mout.txt, with the exact size (times --scale) ' +
    'and text content determined by the workload\'s seed and the file index. Works on directories from SURGE itself too (seed 0).'

  static override examples = [
    '<%= config.bin %> trace materialize workload --docroot /srv/l7',
    '<%= config.bin %> trace materialize seed-workload --docroot /tmp/docroot --scale 0.1',
  ]

  static override args = {
    dir: Args.string({ description: 'workload directory (from `l7 trace generate`, or holding SURGE\'s mout.txt)', required: true }),
  }

  static override flags = {
    docroot: Flags.string({ description: 'document root to write the files into (created)', required: true }),
    scale: Flags.string({ description: 'shrink (or grow) every file by this factor, at least 1 byte', default: '1' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceMaterialize)
    try {
      const { files, seed } = await readFileSet(args.dir)
      const written = await materialize(files, seed, { docroot: flags.docroot, scale: Number(flags.scale) })
      this.log(`${written.files} files, ${written.bytes.toLocaleString('en-US')} bytes in ${flags.docroot}`)
    } catch (err) {
      if (err instanceof L7Error || (err as NodeJS.ErrnoException).code === 'ENOENT') this.error((err as Error).message, { exit: 2 })
      throw err
    }
  }
}
