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
      if (first >= last) break
      let child = first
      let best = times[first]
      const end = first + 4 < last ? first + 4 : last
      for (let c = first + 1; c < end; c++) {
        if (times[c] < best) {
          best = times[c]
          child = c
        }
      }
      if (best >= time) break
      times[i] = times[child]
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
