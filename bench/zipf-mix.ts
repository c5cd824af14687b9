// The request mix of `l7 bench cluster`: every file of a document root, ranked in a seeded
// random order (so popularity is independent of names and sizes), requested with Zipf(alpha)
// popularity, as a fixed sequence written into a wrk Lua script. Both sides replay the same
// sequence from its start, so each run of either side asks for exactly the same files.

import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { mulberry32 } from '../service/core/random.js'
import { ZipfSampler } from '../service/policy/workload.js'
import { WRK_REPORT_LUA } from './peers/wrk.js'

export interface DocFile {
  /** Request target, percent-encoded: /dir/name. */
  path: string
  size: number
}

/** Every regular file under `docroot`, sorted by path (numbers in names in numeric order). */
export async function listDocroot(docroot: string): Promise<DocFile[]> {
  const files: DocFile[] = []
  async function walk(dir: string, prefix: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const target = `${prefix}/${encodeURIComponent(entry.name)}`
      if (entry.isDirectory()) await walk(join(dir, entry.name), target)
      else if (entry.isFile()) files.push({ path: target, size: (await stat(join(dir, entry.name))).size })
    }
  }
  await walk(docroot, '')
  return files.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }))
}

export interface ZipfMix {
  /** Files in popularity order: ranked[0] is the most requested. */
  ranked: DocFile[]
  /** Indexes into `ranked`, in request order. */
  sequence: number[]
}

/** `length` requests over `files` with P(rank r) proportional to 1/r^alpha; the same for the same seed. */
export function zipfMix(files: readonly DocFile[], options: { alpha: number; length: number; seed: number }): ZipfMix {
  if (files.length === 0) throw new Error('the document root has no files to request')
  const random = mulberry32(options.seed)
  // Fisher-Yates with the same generator: which file is popular does not follow its name.
  const ranked = [...files]
  for (let i = ranked.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[ranked[i], ranked[j]] = [ranked[j], ranked[i]]
  }
  const sampler = new ZipfSampler(ranked.length, options.alpha, random)
  const sequence = Array.from({ length: options.length }, () => sampler.next())
  return { ranked, sequence }
}

/**
 * A wrk script replaying the mix: request strings are built once in init() (with wrk's headers,
 * so `-H 'Connection: close'` applies), then request() only indexes; done() reports the figures.
 * Paths and sequence travel as plain strings, parsed in init(), to stay clear of Lua's limits on
 * constants in one function.
 */
export function wrkMixScript(mix: ZipfMix): string {
  return `-- written by l7 bench cluster: a Zipf mix of ${mix.ranked.length} files, ${mix.sequence.length} requests, cycled
local paths_text = [[
${mix.ranked.map((f) => f.path).join('\n')}
]]
local sequence_text = "${mix.sequence.map((i) => i + 1).join(' ')}"
local requests = {}
local sequence = {}
local n = 0
local at = 0

function init(args)
  local files = {}
  for p in paths_text:gmatch("[^\\n]+") do
    files[#files + 1] = wrk.format("GET", p)
  end
  for i in sequence_text:gmatch("%d+") do
    requests[#requests + 1] = files[tonumber(i)]
  end
  n = #requests
end

function request()
  at = at % n + 1
  return requests[at]
end
${WRK_REPORT_LUA}`
}
