import { Flags } from '@oclif/core'
import { withAtomicDir } from '../../../service/core/atomic-write.js'
import { InvalidArgumentError } from '../../../service/core/errors.js'
import { DEFAULT_SURGE_PARAMS, SURGE_PRESETS, generateSurge, writeWorkloadDir, type SurgeParams } from '../../../service/surge/index.js'

import { L7Command } from '../../command.js'
import { jsonFlag, surgeSeedFlag } from '../../flags.js'

const D = DEFAULT_SURGE_PARAMS

export default class TraceGenerate extends L7Command {
  static override description =
    'Generate a SURGE workload (Barford & Crovella 1998), deterministic for a seed: a file set (lognormal body, Pareto tail), ' +
    'objects (a base file and its embedded files, or a loner), Zipf popularity, a request sequence with temporal locality ' +
    '(LRU stack distance) and user equivalents with Pareto think times. Writes DIR/workload.json (the file-set description and ' +
    'parameters), SURGE\'s own mout.txt, objout.txt and name.txt, and DIR/trace.l7 (the timed requests of --users UEs).'

  static override examples = [
    '<%= config.bin %> trace generate --out workload',
    '<%= config.bin %> trace generate --preset hong-noh-2005 --requests 200000 --users 2000 --out seed-workload',
    '<%= config.bin %> trace generate --files 5000 --objects 1500 --requests 1000000 --users 500 --surge-seed 7 --zipf 0.8 --out big',
    '<%= config.bin %> trace generate --files 200 --requests 5000 --no-locality --active-off --out small --json',
  ]

  static override flags = {
    out: Flags.string({ description: 'output directory (created)', required: true }),
    preset: Flags.string({ description: 'start from a named file set (hong-noh-2005: the seed paper\'s 2000 files, ~50 MB)', options: Object.keys(SURGE_PRESETS) }),
    'surge-seed': surgeSeedFlag(`seed of every random choice (default ${D.seed}, or the preset's)`),
    files: Flags.integer({ description: `files in the file set (default ${D.files})`, min: 1 }),
    objects: Flags.integer({ description: 'objects (default: each object a loner with probability --loner-fraction until the files run out)', min: 1 }),
    requests: Flags.integer({ description: `object requests in the sequence (name.txt lines; each fetches all the object's files) (default ${D.requests})`, min: 1 }),
    users: Flags.integer({ description: 'user equivalents in trace.l7', default: 100, min: 1 }),
    'loner-fraction': Flags.string({ description: `share of objects that are loners, without --objects (default ${D.lonerFraction})` }),
    zipf: Flags.string({ description: `Zipf exponent of object popularity (default ${D.zipfAlpha})` }),
    'size-mu': Flags.string({ description: `file sizes, lognormal body: mean of ln bytes (default ${D.sizeBody.mu})` }),
    'size-sigma': Flags.string({ description: `file sizes, lognormal body: sd of ln bytes (default ${D.sizeBody.sigma})` }),
    'tail-k': Flags.string({ description: `file sizes, Pareto tail: k in bytes (default ${D.sizeTail.k})` }),
    'tail-alpha': Flags.string({ description: `file sizes, Pareto tail: alpha (default ${D.sizeTail.alpha})` }),
    'tail-fraction': Flags.string({ description: 'share of files in the tail (default: the body\'s own mass above tail-k, 3.2%)' }),
    'embedded-k': Flags.string({ description: `embedded files per compound object, Pareto k (default ${D.embedded.k})` }),
    'embedded-alpha': Flags.string({ description: `embedded files per compound object, Pareto alpha (default ${D.embedded.alpha})` }),
    'embedded-max': Flags.integer({ description: `embedded files per compound object, at most (default ${D.embedded.max})`, min: 1 }),
    'stack-mu': Flags.string({ description: `LRU stack distance, lognormal mu (default ${D.stackDistance!.mu})` }),
    'stack-sigma': Flags.string({ description: `LRU stack distance, lognormal sigma (default ${D.stackDistance!.sigma})` }),
    'no-locality': Flags.boolean({ description: 'random order instead of the LRU stack-distance model', default: false }),
    'off-k': Flags.string({ description: `think time (inactive OFF), Pareto k in seconds (default ${D.inactiveOff.k})` }),
    'off-alpha': Flags.string({ description: `think time (inactive OFF), Pareto alpha (default ${D.inactiveOff.alpha})` }),
    'active-off': Flags.boolean({ description: 'gaps between an object\'s files (Weibull scale 1.46 s, shape 0.382; off in SURGE\'s code)', default: false }),
    json: jsonFlag('print the summary as JSON'),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(TraceGenerate)
    const num = (name: string, text: string | undefined): number | undefined => {
      if (text === undefined) return undefined
      const value = Number(text)
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`--${name} ${JSON.stringify(text)} is not a number`)
      return value
    }
    const base: Partial<SurgeParams> = { ...(flags.preset ? SURGE_PRESETS[flags.preset] : {}) }
    const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value)
    const body = base.sizeBody ?? D.sizeBody
    const tail = base.sizeTail ?? D.sizeTail
    const embedded = base.embedded ?? D.embedded
    const stack = base.stackDistance ?? D.stackDistance!
    const off = base.inactiveOff ?? D.inactiveOff
    const params: Partial<SurgeParams> = {
      ...base,
      seed: pick(flags['surge-seed'], base.seed),
      files: pick(flags.files, base.files),
      objects: pick(flags.objects, base.objects),
      requests: pick(flags.requests, base.requests),
      lonerFraction: pick(num('loner-fraction', flags['loner-fraction']), base.lonerFraction),
      zipfAlpha: pick(num('zipf', flags.zipf), base.zipfAlpha),
      sizeBody: { mu: pick(num('size-mu', flags['size-mu']), body.mu), sigma: pick(num('size-sigma', flags['size-sigma']), body.sigma) },
      sizeTail: { k: pick(num('tail-k', flags['tail-k']), tail.k), alpha: pick(num('tail-alpha', flags['tail-alpha']), tail.alpha) },
      tailFraction: pick(num('tail-fraction', flags['tail-fraction']), base.tailFraction),
      embedded: {
        k: pick(num('embedded-k', flags['embedded-k']), embedded.k),
        alpha: pick(num('embedded-alpha', flags['embedded-alpha']), embedded.alpha),
        max: pick(flags['embedded-max'], embedded.max),
      },
      stackDistance: flags['no-locality']
        ? null
        : { mu: pick(num('stack-mu', flags['stack-mu']), stack.mu), sigma: pick(num('stack-sigma', flags['stack-sigma']), stack.sigma) },
      inactiveOff: { k: pick(num('off-k', flags['off-k']), off.k), alpha: pick(num('off-alpha', flags['off-alpha']), off.alpha) },
      activeOff: flags['active-off'] ? { scale: 1.46, shape: 0.382 } : null,
    }
    // Into a temporary directory renamed into place: an error leaves no half-written workload.
    const summary = await withAtomicDir(flags.out, (dir) => writeWorkloadDir(dir, generateSurge(params), { users: flags.users }))
    if (flags.json) {
      this.log(JSON.stringify(summary, null, 2))
      return
    }
    this.log(`${flags.out}: workload.json, mout.txt, objout.txt, name.txt, trace.l7 (seed ${summary.params.seed})`)
    this.log(`files    ${summary.files} (${summary.bytes.total.toLocaleString('en-US')} bytes, ${summary.bytes.smallest} B to ${summary.bytes.largest.toLocaleString('en-US')} B)`)
    this.log(`objects  ${summary.objects} (${summary.loners} loners)`)
    this.log(`requests ${summary.requests.objects.toLocaleString('en-US')} objects, ${summary.requests.files.toLocaleString('en-US')} files, ${summary.users} users`)
  }
}
