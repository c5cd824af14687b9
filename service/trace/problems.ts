// What commands print about bad trace lines: the first few verbatim, then a count, so a log
// with a million bad lines neither floods the terminal nor hides how many there were.
import { InvalidArgumentError } from '../core/errors.js'
import type { EpaDate } from './access-log.js'
import { EPA_DEFAULT_DATE } from './access-log.js'
import type { TraceProblem } from './types.js'

export const PROBLEMS_SHOWN = 5

export class ProblemReporter {
  count = 0
  constructor(
    private readonly write: (line: string) => void,
    private readonly shown = PROBLEMS_SHOWN,
  ) {}

  readonly onProblem = (p: TraceProblem): void => {
    this.count++
    if (this.count <= this.shown) this.write(`skipped line ${p.line}: ${p.message}`)
  }

  /** The closing count, or undefined when nothing was skipped. */
  summary(): string | undefined {
    if (this.count === 0) return undefined
    const more = this.count > this.shown ? ` (${this.count - this.shown} more not shown)` : ''
    return `${this.count} bad line${this.count === 1 ? '' : 's'} skipped${more}`
  }
}

/** `-0400` or `+0530` (or minutes, `-240`) -> minutes east of UTC. */
export function parseUtcOffset(text: string): number {
  const hhmm = /^([+-])(\d\d):?(\d\d)$/.exec(text)
  if (hhmm) return (hhmm[1] === '-' ? -1 : 1) * (Number(hhmm[2]) * 60 + Number(hhmm[3]))
  if (/^[+-]?\d+$/.test(text)) return Number(text)
  throw new InvalidArgumentError(`UTC offset ${JSON.stringify(text)}: expected +HHMM or -HHMM (e.g. -0400)`)
}

/** The EPA log's missing year, month and zone, from command-line values (defaults: Aug 1995, -0400). */
export function epaDateFrom(values: { year?: number; month?: number; utcOffset?: string }): EpaDate {
  const month = values.month ?? EPA_DEFAULT_DATE.month
  if (!(Number.isInteger(month) && month >= 1 && month <= 12)) throw new InvalidArgumentError(`EPA month must be 1..12, got ${month}`)
  return {
    year: values.year ?? EPA_DEFAULT_DATE.year,
    month,
    utcOffsetMinutes: values.utcOffset === undefined ? EPA_DEFAULT_DATE.utcOffsetMinutes : parseUtcOffset(values.utcOffset),
  }
}
