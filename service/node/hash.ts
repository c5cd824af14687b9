// Hashing the request target straight from the raw request bytes, in Wasm (the policy core's
// RequestHasher: no string is made). Its TypeScript twin hashPath agrees bit for bit, and
// both agree with hashKey(path) that the reference policies and the replay tools use.

import { hashPathTs, RequestHasher } from '../policy/index.js'
import { MAX_REQUEST_LINE } from './http.js'

/** Hash of the target path held in buf[start, end) (no query). */
export type TargetHasher = (buf: Buffer, start: number, end: number) => number

export async function createTargetHasher(impl: 'wasm' | 'ts' = 'wasm'): Promise<TargetHasher> {
  if (impl === 'wasm') {
    try {
      const hasher = new RequestHasher(MAX_REQUEST_LINE)
      return (buf, start, end) => hasher.hashPath(buf, start, end)
    } catch {
      // The Wasm build is missing: the TypeScript twin gives the same hashes.
    }
  }
  return (buf, start, end) => hashPathTs(buf, start, end)
}
