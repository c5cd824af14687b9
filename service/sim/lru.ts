// A node's buffer cache in the model: byte-bounded LRU over integer file ids, a doubly
// linked list in typed arrays (no allocation per access).

export class LruCache {
  readonly capacityBytes: number
  private readonly sizes: ArrayLike<number>
  private readonly prev: Int32Array
  private readonly next: Int32Array
  private readonly present: Uint8Array
  private head = -1
  private tail = -1
  private used = 0

  constructor(capacityBytes: number, sizes: ArrayLike<number>) {
    this.capacityBytes = capacityBytes
    this.sizes = sizes
    this.prev = new Int32Array(sizes.length)
    this.next = new Int32Array(sizes.length)
    this.present = new Uint8Array(sizes.length)
  }

  get bytesUsed(): number {
    return this.used
  }

  has(file: number): boolean {
    return this.present[file] === 1
  }

  /** A read of `file`: true on a hit (and the file becomes most recently used). */
  access(file: number): boolean {
    if (this.present[file] === 0) return false
    if (this.head !== file) {
      this.unlink(file)
      this.linkFront(file)
    }
    return true
  }

  /** The file was read from disk: cache it, evicting least recently used files to fit. */
  insert(file: number): void {
    if (this.present[file] === 1) {
      this.access(file)
      return
    }
    const size = this.sizes[file]
    if (size > this.capacityBytes) return
    while (this.used + size > this.capacityBytes) {
      const victim = this.tail
      this.unlink(victim)
      this.present[victim] = 0
      this.used -= this.sizes[victim]
    }
    this.present[file] = 1
    this.used += size
    this.linkFront(file)
  }

  private unlink(file: number): void {
    const p = this.prev[file]
    const n = this.next[file]
    if (p === -1) this.head = n
    else this.next[p] = n
    if (n === -1) this.tail = p
    else this.prev[n] = p
  }

  private linkFront(file: number): void {
    this.prev[file] = -1
    this.next[file] = this.head
    if (this.head !== -1) this.prev[this.head] = file
    this.head = file
    if (this.tail === -1) this.tail = file
  }
}
