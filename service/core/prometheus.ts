// Prometheus text exposition (format 0.0.4), written the same way by every component that
// serves /metrics (the dispatcher, the node): families with # HELP / # TYPE, samples, and
// histograms built from per-bucket counts.

export type MetricType = 'counter' | 'gauge'

/** A label value as the format wants it: backslash, newline and double quote escaped. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

export class PrometheusText {
  private readonly lines: string[] = []

  /**
   * One counter or gauge family. `samples` pairs a label set as written inside the braces
   * (`node="3",route="local"`, or '' for none) with its value. `help` may be left out.
   */
  family(name: string, type: MetricType, help: string | undefined, samples: Iterable<readonly [string, number]>): this {
    this.header(name, type, help)
    for (const [labels, value] of samples) this.lines.push(`${name}${braces(labels)} ${value}`)
    return this
  }

  /**
   * One histogram. `counts[i]` holds the observations in bucket i alone (not cumulative) for
   * the upper bounds `bounds[i]`; anything above the last bound is only in `count`.
   */
  histogram(name: string, help: string | undefined, labels: string, bounds: readonly number[], counts: ArrayLike<number>, count: number, sum: number): this {
    this.header(name, 'histogram', help)
    const prefix = labels === '' ? '' : `${labels},`
    let cumulative = 0
    for (let i = 0; i < bounds.length; i++) {
      cumulative += counts[i]
      this.lines.push(`${name}_bucket{${prefix}le="${bounds[i]}"} ${cumulative}`)
    }
    this.lines.push(`${name}_bucket{${prefix}le="+Inf"} ${count}`)
    this.lines.push(`${name}_sum${braces(labels)} ${sum}`)
    this.lines.push(`${name}_count${braces(labels)} ${count}`)
    return this
  }

  toString(): string {
    return this.lines.join('\n') + '\n'
  }

  private header(name: string, type: MetricType | 'histogram', help: string | undefined): void {
    if (help !== undefined) this.lines.push(`# HELP ${name} ${help}`)
    this.lines.push(`# TYPE ${name} ${type}`)
  }
}

function braces(labels: string): string {
  return labels === '' ? '' : `{${labels}}`
}
