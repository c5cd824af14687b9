// The simulator's future-event list: a 4-ary min-heap on time (shallower than a binary
// one: fewer cache misses per pop) over parallel typed arrays,
// so that scheduling an event allocates nothing. An event is an integer payload (the model
// packs an event kind and an id into it). Ties pop in an order fixed by the push sequence,
// which keeps a run deterministic.

export class EventQueue {
  private times: Float64Array
  private payloads: Int32Array
  private count = 0

  constructor(initialCapacity = 1024) {
    this.times = new Float64Array(Math.max(16, initialCapacity))
    this.payloads = new Int32Array(this.times.length)
  }

  get size(): number {
    return this.count
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.count > 0 ? this.times[0] : Infinity
  }

  push(time: number, payload: number): void {
    if (this.count === this.times.length) this.grow()
    const times = this.times
    const payloads = this.payloads
    let i = this.count++
    while (i > 0) {
      const parent = (i - 1) >> 2
      if (times[parent] <= time) break
      times[i] = times[parent]
      payloads[i] = payloads[parent]
      i = parent
    }
    times[i] = time
    payloads[i] = payload
  }

  /** Removes the earliest event and returns its payload (read its time with peekTime first). */
  pop(): number {
    const times = this.times
    const payloads = this.payloads
    const top = payloads[0]
    const last = --this.count
    if (last === 0) return top
    const time = times[last]
    const payload = payloads[last]
    let i = 0
    for (;;) {
      const first = 4 * i + 1
      let child: number
      if (first + 4 <= last) {
        // All four children: pick the earliest without branches (a comparison used as 0/1
        // compiles to a flag, not a jump), because which child wins is unpredictable and a
        // mispredicted jump per level was most of a pop. Ties go to the lower index, exactly
        // as the scan below, so the heap's layout (and the order of simultaneous events) is
        // the same as a plain scan gives.
        const a = first + +(times[first + 1] < times[first])
        const b = first + 2 + +(times[first + 3] < times[first + 2])
        child = a + (b - a) * +(times[b] < times[a])
      } else {
        if (first >= last) break
        child = first
        for (let c = first + 1; c < last; c++) if (times[c] < times[child]) child = c
      }
      const best = times[child]
      if (best >= time) break
      times[i] = best
      payloads[i] = payloads[child]
      i = child
    }
    times[i] = time
    payloads[i] = payload
    return top
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2)
    const payloads = new Int32Array(times.length)
    times.set(this.times)
    payloads.set(this.payloads)
    this.times = times
    this.payloads = payloads
  }
}
