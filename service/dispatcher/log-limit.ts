// A log event that anyone on the network can trigger (a refused or unregistered control
// connection) must not let them fill the disk: the first one is logged in full, the rest are
// counted and summarised once per interval, with their reasons.
import type { LogFn } from './dispatcher.js'

export class RateLimitedLog {
  private timer: NodeJS.Timeout | null = null
  private suppressed = 0
  private readonly reasons = new Map<string, number>()

  constructor(
    private readonly log: LogFn,
    private readonly event: string,
    private readonly intervalMs = 10_000,
  ) {}

  /** Logs `fields` when no other line of this event was logged in the current interval; else counts `reason`. */
  note(level: 'info' | 'warn' | 'error', reason: string, fields: Record<string, unknown>): void {
    if (this.timer === null) {
      this.log(level, this.event, { reason, ...fields })
      this.arm()
      return
    }
    this.suppressed++
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1)
  }

  /** Logs what is still counted (on shutdown) and stops the timer. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.summarise()
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = null
      // Keep the window open while events keep coming, so a flood gives one line per interval.
      if (this.summarise()) this.arm()
    }, this.intervalMs)
    this.timer.unref()
  }

  private summarise(): boolean {
    if (this.suppressed === 0) return false
    this.log('warn', `${this.event}-summary`, { suppressed: this.suppressed, reasons: Object.fromEntries(this.reasons), intervalMs: this.intervalMs })
    this.suppressed = 0
    this.reasons.clear()
    return true
  }
}
