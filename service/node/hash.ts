// Hashing the request target straight from the raw request bytes. The policy core owns the
// hash (its Wasm RequestHasher and the TypeScript hashPath agree bit for bit, and both agree
// with hashKey(path) that the dispatcher's reference and the replay tools use); this file
// only picks the implementation for the node.

import { hashPathTs } from '../policy/index.js'

/** Hash of the target path held in buf[start, end) (no query). */
export type TargetHasher = (buf: Buffer, start: number, end: number) => number

export async function createTargetHasher(): Promise<TargetHasher> {
  return (buf, start, end) => hashPathTs(buf, start, end)
}
