/**
 * Latency histograms: HDR (High Dynamic Range) histograms record every sample in constant memory with bounded
 * relative error, and two of them add exactly, which is what lets worker processes record independently and the
 * coordinator merge their compressed encodings at the end (as wrk2 and HdrHistogram's interval logs do).
 *
 * Values are recorded in integer microseconds from 1 µs to one hour; anything longer is clamped (and still counted).
 */
import * as hdr from 'hdr-histogram-js'
import type { JsHistogram } from 'hdr-histogram-js'

export type Histogram = hdr.Histogram

/** One hour in microseconds: the largest latency a histogram tracks. */
export const MAX_TRACKABLE_US = 3_600_000_000

/**
 * Totals use 3 significant digits (0.1% error). Per-second histograms use 2 digits: in a worker as plain 32-bit
 * counts (recorded into on every response, so speed matters; one lives a second), in the coordinator's timeline in
 * the packed layout, so an hour-long soak keeps its whole timeline in a few megabytes.
 */
export function createHistogram(precision: 'total' | 'worker-interval' | 'interval' = 'total'): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_US,
    numberOfSignificantValueDigits: precision === 'total' ? 3 : 2,
    bitBucketSize: precision === 'interval' ? 'packed' : 32,
    autoResize: false,
    useWebAssembly: false,
  })
}

/** Records a latency given in milliseconds (fractional) as whole microseconds, clamped to the trackable range. */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000)
  h.recordValue(us < 1 ? 1 : us > MAX_TRACKABLE_US ? MAX_TRACKABLE_US : us)
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h)
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false)
}

/** Adds every encoded histogram into `into` (created if absent) and returns it. */
export function mergeEncoded(encoded: readonly string[], into: Histogram = createHistogram()): Histogram {
  for (const e of encoded) {
    const h = decodeHistogram(e)
    into.add(h)
    h.destroy()
  }
  return into
}

/** Latency percentiles in milliseconds; null when nothing was recorded (a percentile of nothing is not 0). */
export interface LatencySummary {
  count: number
  min: number | null
  mean: number | null
  p50: number | null
  p90: number | null
  p95: number | null
  p99: number | null
  p999: number | null
  max: number | null
}

export function summarize(h: Histogram): LatencySummary {
  const n = h.totalCount
  const ms = (us: number): number | null => (n === 0 ? null : us / 1000)
  return {
    count: n,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  }
}

export interface HistogramBucket {
  /** Upper edge of the bucket, milliseconds. */
  leMs: number
  count: number
}

/**
 * The latency distribution as `buckets` log-spaced bars between the smallest and largest sample, for the report's
 * histogram chart (the full HDR encoding is in the JSON result for anyone who wants every value).
 */
export function logBuckets(h: Histogram, buckets = 40): HistogramBucket[] {
  if (h.totalCount === 0) return []
  const lo = Math.max(1, h.minNonZeroValue)
  const hi = Math.max(lo + 1, h.maxValue)
  const ratio = Math.pow(hi / lo, 1 / buckets)
  const edges = Array.from({ length: buckets }, (_, i) => (i === buckets - 1 ? hi : lo * Math.pow(ratio, i + 1)))
  const counts = new Array<number>(buckets).fill(0)
  const it = (h as unknown as JsHistogram).recordedValuesIterator
  it.reset()
  let b = 0
  while (it.hasNext()) {
    const v = it.next()
    while (b < buckets - 1 && v.valueIteratedTo > edges[b]!) b++
    counts[b]! += v.countAtValueIteratedTo
  }
  return edges.map((e, i) => ({ leMs: e / 1000, count: counts[i]! }))
}
