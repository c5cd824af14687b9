// Loads uWebSockets.js and says whether it is the native build. The package we use
// (an npm alias of @trufflesuite/uws-js-unofficial) silently falls back to a slow pure-JS
// implementation when its binary does not load; we load the binary ourselves so that the
// fallback is never used without the caller knowing.
import { createRequire } from 'node:module'
import { MissingDependencyError } from './errors.js'

const require = createRequire(import.meta.url)

export type Uws = typeof import('uWebSockets.js')

export interface LoadedUws {
  uws: Uws
  native: boolean
  /** Why the native build could not be used (empty when native). */
  reason: string
}

let cached: LoadedUws | undefined

export function loadUws(options: { allowFallback?: boolean } = {}): LoadedUws {
  if (!cached) {
    const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`
    try {
      cached = { uws: require(binary) as Uws, native: true, reason: '' }
    } catch (err) {
      const reason = `native uWebSockets.js (${binary}) does not load on Node ${process.version}: ${(err as Error).message}`
      cached = { uws: require('uWebSockets.js/dist/index.js') as Uws, native: false, reason }
    }
  }
  if (!cached.native && !options.allowFallback) {
    throw new MissingDependencyError(`${cached.reason}; refusing the slow ws fallback (pass --allow-fallback to use it anyway)`)
  }
  return cached
}
