// The node's "buffer cache": whole files in memory, bounded in bytes, evicted LRU.
// LRU rather than GreedyDual-Size because the seed's nodes relied on the OS buffer cache,
// which is LRU-like, and the simulator models byte-bounded LRU: the same policy keeps real
// runs and simulated ones comparable. Recency is a doubly linked list through the entries, so
// a hit moves pointers and leaves the Map alone (a delete+set per hit cost about 2 us of a
// 20 us request: the Map's table filled with deleted slots and was rebuilt over and over).
// Misses go through the document root's realpath check and, when configured, the emulated
// disk; concurrent misses for one file share a single read.

import { readFile, stat } from 'node:fs/promises'
import mime from 'mime-types'
import { resolveInside } from './paths.js'
import type { EmulatedDisk } from './disk.js'

export interface CachedFile {
  body: Buffer
  contentType: string
}

export interface CacheStats {
  hits: number
  misses: number
  bytes: number
  capacityBytes: number
  files: number
  evictions: number
}

/** A file (from memory or not), a directory (the caller redirects to its `/` form), or nothing. */
export type Lookup = { file: CachedFile; hit: boolean } | { directory: true } | null

const DIRECTORY = Symbol('directory')

/** A cached file in the recency list: `older` towards the next to evict, `newer` towards the last used. */
interface Entry {
  rel: string
  file: CachedFile
  older: Entry | null
  newer: Entry | null
}

export class ContentCache {
  private readonly entries = new Map<string, Entry>()
  /** The least and the most recently used entries (null when empty). */
  private oldest: Entry | null = null
  private newest: Entry | null = null
  private readonly loading = new Map<string, Promise<CachedFile | typeof DIRECTORY | null>>()
  private bytes = 0
  hits = 0
  misses = 0
  evictions = 0

  constructor(
    private readonly realRoot: string,
    readonly capacityBytes: number,
    private readonly disk: EmulatedDisk | null = null,
  ) {}

  /** The cached file without I/O, counting a hit; undefined if not cached. */
  peek(rel: string): CachedFile | undefined {
    const entry = this.entries.get(rel)
    if (!entry) return undefined
    this.hits++
    if (entry !== this.newest) {
      this.unlink(entry)
      this.append(entry)
    }
    return entry.file
  }

  /** Files from the least to the most recently used (specs). */
  recency(): string[] {
    const order: string[] = []
    for (let e = this.oldest; e; e = e.newer) order.push(e.rel)
    return order
  }

  private unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer
    else this.oldest = entry.newer
    if (entry.newer) entry.newer.older = entry.older
    else this.newest = entry.older
    entry.older = entry.newer = null
  }

  private append(entry: Entry): void {
    entry.older = this.newest
    entry.newer = null
    if (this.newest) this.newest.newer = entry
    else this.oldest = entry
    this.newest = entry
  }

  private remove(entry: Entry): void {
    this.unlink(entry)
    this.entries.delete(entry.rel)
    this.bytes -= entry.file.body.length
  }

  /** The file for a root-relative path, from memory or from disk; null if missing or outside the root. */
  async get(rel: string): Promise<Lookup> {
    const cached = this.peek(rel)
    if (cached) return { file: cached, hit: true }
    let pending = this.loading.get(rel)
    if (!pending) {
      this.misses++
      pending = this.load(rel).finally(() => this.loading.delete(rel))
      this.loading.set(rel, pending)
    }
    const file = await pending
    if (file === DIRECTORY) return { directory: true }
    return file ? { file, hit: false } : null
  }

  private async load(rel: string): Promise<CachedFile | typeof DIRECTORY | null> {
    const real = await resolveInside(this.realRoot, rel)
    if (!real) return null
    const info = await stat(real).catch(() => null)
    if (info?.isDirectory()) return DIRECTORY
    if (!info || !info.isFile()) return null
    if (this.disk) await this.disk.read(info.size)
    const body = await readFile(real).catch(() => null)
    if (!body) return null
    const file = { body, contentType: mime.contentType(rel.slice(rel.lastIndexOf('/') + 1)) || 'application/octet-stream' }
    this.insert(rel, file)
    return file
  }

  private insert(rel: string, file: CachedFile): void {
    const size = file.body.length
    // A file larger than the whole cache is served but never cached (it would evict everything).
    if (size > this.capacityBytes) return
    const old = this.entries.get(rel)
    if (old) this.remove(old)
    while (this.bytes + size > this.capacityBytes && this.oldest) {
      this.remove(this.oldest)
      this.evictions++
    }
    const entry: Entry = { rel, file, older: null, newer: null }
    this.entries.set(rel, entry)
    this.append(entry)
    this.bytes += size
  }

  /** The emulated disk's reads and busy time; null without one. */
  diskStats(): { reads: number; busySeconds: number } | null {
    return this.disk ? { reads: this.disk.reads, busySeconds: this.disk.busyMs / 1000 } : null
  }

  stats(): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.bytes,
      capacityBytes: this.capacityBytes,
      files: this.entries.size,
      evictions: this.evictions,
    }
  }
}
