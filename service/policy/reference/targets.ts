// The target table of the reference: open addressing over a power-of-two array of slots.
// A target lives in one of PROBE_WINDOW consecutive slots starting at its home slot
// (fmix32(hash) & mask). When all of them are taken by other targets, the one used least
// recently (smallest lastUsedUs; the first in probe order on a tie) is evicted and its slot
// reused: the table never grows and never fails. assembly/targets.ts does exactly this.
import { fmix32 } from '../hash.js'
import { PROBE_WINDOW, powerOfTwoAtLeast } from '../params.js'

export interface TargetEntry {
  readonly hash: number
  lastUsedUs: number
}

export class TargetTable<E extends TargetEntry> {
  private readonly slots: (E | undefined)[]
  private readonly mask: number
  size = 0
  evictions = 0

  constructor(
    capacity: number,
    private readonly create: (hash: number) => E,
    private readonly onEvict: (entry: E) => void = () => {},
  ) {
    const slots = powerOfTwoAtLeast(capacity)
    this.slots = new Array<E | undefined>(slots).fill(undefined)
    this.mask = slots - 1
  }

  get capacity(): number {
    return this.slots.length
  }

  get(hash: number): E | undefined {
    const home = fmix32(hash) & this.mask
    for (let k = 0; k < PROBE_WINDOW; k++) {
      const entry = this.slots[(home + k) & this.mask]
      if (entry === undefined) return undefined // slots are never emptied: the target is not further on
      if (entry.hash === hash) return entry
    }
    return undefined
  }

  /** The entry for hash, created (evicting a cold one if need be) when absent; marks it used at timeUs. */
  getOrInsert(hash: number, timeUs: number): E {
    const home = fmix32(hash) & this.mask
    let coldest = -1
    for (let k = 0; k < PROBE_WINDOW; k++) {
      const slot = (home + k) & this.mask
      const entry = this.slots[slot]
      if (entry === undefined) {
        return this.put(slot, hash, timeUs)
      }
      if (entry.hash === hash) {
        entry.lastUsedUs = timeUs
        return entry
      }
      if (coldest < 0 || entry.lastUsedUs < this.slots[coldest]!.lastUsedUs) coldest = slot
    }
    this.onEvict(this.slots[coldest]!)
    this.evictions++
    this.size--
    return this.put(coldest, hash, timeUs)
  }

  private put(slot: number, hash: number, timeUs: number): E {
    const entry = this.create(hash)
    entry.lastUsedUs = timeUs
    this.slots[slot] = entry
    this.size++
    return entry
  }

  *entries(): IterableIterator<E> {
    for (const entry of this.slots) if (entry !== undefined) yield entry
  }
}
