// Hashing the request target from the raw request bytes. The policy core owns the hash
// (its Wasm RequestHasher and the TS hashKey must agree with the dispatcher's reference);
// this file only adapts it to the node.
// TEMPORARY until service/policy/index.ts lands: FNV-1a 32 over the path bytes.

export type TargetHasher = (buf: Buffer, start: number, end: number) => number

export async function createTargetHasher(): Promise<TargetHasher> {
  return (buf, start, end) => {
    let h = 0x811c9dc5
    for (let i = start; i < end; i++) {
      h ^= buf[i]
      h = Math.imul(h, 0x01000193)
    }
    return h >>> 0
  }
}
