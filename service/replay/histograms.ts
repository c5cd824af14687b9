// HdrHistogram in its WebAssembly mode: values are microseconds, 3 significant digits, up to
// an hour. Wasm histograms live outside the JS heap: whoever builds one must destroy() it.
import * as hdr from 'hdr-histogram-js'
import type { LatencySummary } from './types.js'

export type Histogram = hdr.Histogram

const HIGHEST_US = 3_600_000_000
let wasmReady: Promise<void> | undefined

export function initHistograms(): Promise<void> {
  wasmReady ??= hdr.initWebAssembly()
  return wasmReady
}

/** Call after `initHistograms()` resolved. */
export function newHistogram(): Histogram {
  return hdr.build({
    useWebAssembly: true,
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  })
}

/** Records a duration given in ms (clamped into the histogram's range). */
export function recordMs(histogram: Histogram, ms: number): void {
  const us = Math.round(ms * 1000)
  histogram.recordValue(us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us)
}

export function summarizeMs(histogram: Histogram): LatencySummary {
  const count = histogram.totalCount
  if (count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 }
  const ms = (us: number): number => Math.round(us) / 1000
  // A percentile is the top of its bucket (3 significant digits), which can lie above the
  // largest value recorded: no percentile is reported above the max.
  const max = histogram.maxValue
  const at = (percentile: number): number => ms(Math.min(histogram.getValueAtPercentile(percentile), max))
  return {
    count,
    mean: ms(histogram.mean),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    p9999: at(99.99),
    max: ms(max),
  }
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram)
}

/**
 * The percentile distribution text of HdrHistogram (`.hgrm`, what the HdrHistogram plotter
 * reads) for a histogram encoded by `encodeHistogram`, values in milliseconds.
 */
export async function hgrmFromEncoded(encoded: string): Promise<string> {
  await initHistograms()
  const histogram = hdr.decodeFromCompressedBase64(encoded, 32, true)
  try {
    return histogram.outputPercentileDistribution(5, 1000)
  } finally {
    histogram.destroy()
  }
}

/** Merges encoded histograms (runs of several generators) into one encoded histogram. */
export async function mergeEncoded(encoded: string[]): Promise<string> {
  await initHistograms()
  const total = newHistogram()
  try {
    for (const one of encoded) {
      const part = hdr.decodeFromCompressedBase64(one, 32, true)
      total.add(part)
      part.destroy()
    }
    return encodeHistogram(total)
  } finally {
    total.destroy()
  }
}

export interface PercentilePoint {
  percentile: number
  valueMs: number
}

/** The points of the percentile curve (as in the .hgrm file), for plots. */
export function percentileCurve(hgrm: string): PercentilePoint[] {
  const points: PercentilePoint[] = []
  for (const line of hgrm.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length !== 4) continue
    const valueMs = Number(cols[0])
    const percentile = Number(cols[1])
    if (!Number.isFinite(valueMs) || !Number.isFinite(percentile) || percentile >= 1) continue
    points.push({ percentile, valueMs })
  }
  return points
}
