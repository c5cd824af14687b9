// An emulated disk for cache misses: each read costs a seek plus size / bandwidth, and the
// disk serves one read at a time in arrival order (a FIFO queue), so that a node whose
// working set does not fit its cache slows down as a 2005 node with 128 MB did.

import { InvalidArgumentError } from '../core/errors.js'

export interface DiskModel {
  seekMs: number
  mbps: number
}

/** Parses `seek=8ms,mbps=20` (seek in ms or us, bandwidth in megabytes per second). */
export function parseDiskModel(text: string): DiskModel {
  const model: DiskModel = { seekMs: 8, mbps: 20 }
  for (const part of text.split(',')) {
    const m = /^\s*(seek|mbps)\s*=\s*([0-9.]+)\s*(ms|us)?\s*$/.exec(part)
    if (!m) throw new InvalidArgumentError(`--disk: cannot read "${part}" (expected seek=8ms,mbps=20)`)
    const value = Number(m[2])
    if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError(`--disk: bad number in "${part}"`)
    if (m[1] === 'seek') model.seekMs = m[3] === 'us' ? value / 1000 : value
    else {
      if (value <= 0) throw new InvalidArgumentError('--disk: mbps must be > 0')
      model.mbps = value
    }
  }
  return model
}

export class EmulatedDisk {
  /** When the disk is next free (ms, performance.now() clock). */
  private freeAt = 0
  reads = 0
  busyMs = 0

  constructor(readonly model: DiskModel) {}

  /** Costs of one read of `bytes`, in ms. */
  cost(bytes: number): number {
    return this.model.seekMs + (bytes / (this.model.mbps * 1e6)) * 1000
  }

  /** Resolves when a read of `bytes` would have finished, queued behind earlier reads. */
  read(bytes: number): Promise<void> {
    const now = performance.now()
    const cost = this.cost(bytes)
    this.freeAt = Math.max(now, this.freeAt) + cost
    this.reads++
    this.busyMs += cost
    const wait = this.freeAt - now
    return new Promise((resolve) => setTimeout(resolve, wait))
  }
}
