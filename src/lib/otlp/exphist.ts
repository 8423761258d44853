/**
 * Exponential histogram → explicit-bounds histogram, so every histogram lands in the same columns (bucket_bounds,
 * bucket_counts) and queries treat them alike. At scale s the base is 2^(2^-s); positive bucket i holds values in
 * (base^i, base^(i+1)], negative bucket i holds (−base^(i+1), −base^i], and the zero bucket holds
 * [−zeroThreshold, zeroThreshold]. Walking from the most negative bucket to the most positive gives explicit buckets
 * whose upper bounds are −base^i (negatives), zeroThreshold (zero bucket) and base^(i+1) (positives); the last
 * bucket's bound is dropped because the explicit format's last bucket is open (+∞). The conversion is exact: no
 * counts move between buckets. Bounds that coincide (zeroThreshold ≥ the first positive bound, or huge indexes that
 * overflow to ∞) are merged so bounds stay strictly increasing, as the explicit format requires.
 */
import type { OtlpExponentialHistogramDataPoint } from './types.js'

/** Scales the OTLP spec allows. */
export const MIN_SCALE = -10
export const MAX_SCALE = 20
/** More buckets than this is not a histogram an SDK produces (their default is 160): refused, to bound the work. */
export const MAX_EXP_BUCKETS = 16384

export function expHistogramProblem(p: OtlpExponentialHistogramDataPoint): string | undefined {
  if (p.scale < MIN_SCALE || p.scale > MAX_SCALE) return `exponential histogram scale ${p.scale} is outside ${MIN_SCALE}..${MAX_SCALE}`
  if (p.positive.bucketCounts.length + p.negative.bucketCounts.length > MAX_EXP_BUCKETS) {
    return `exponential histogram has more than ${MAX_EXP_BUCKETS} buckets`
  }
  if (!(p.zeroThreshold >= 0)) return 'exponential histogram zeroThreshold must be ≥ 0'
  return undefined
}

export function exponentialToExplicit(p: OtlpExponentialHistogramDataPoint): { bounds: number[]; counts: string[] } {
  // base^i computed as 2^(i·2^-s): one exact power per bucket, no accumulated rounding.
  const pow = (i: number): number => 2 ** (i * 2 ** -p.scale)
  const uppers: number[] = []
  const counts: bigint[] = []
  const push = (upper: number, count: bigint): void => {
    const last = uppers.length - 1
    if (last >= 0 && !(upper > uppers[last]!)) counts[last]! += count
    else {
      uppers.push(upper)
      counts.push(count)
    }
  }
  const neg = p.negative
  for (let k = neg.bucketCounts.length - 1; k >= 0; k--) push(-pow(neg.offset + k), BigInt(neg.bucketCounts[k]!))
  push(p.zeroThreshold, BigInt(p.zeroCount))
  const pos = p.positive
  for (let k = 0; k < pos.bucketCounts.length; k++) push(pow(pos.offset + k + 1), BigInt(pos.bucketCounts[k]!))
  // The last bucket is the open (bound, +∞) one: drop its bound.
  uppers.pop()
  return { bounds: uppers, counts: counts.map((c) => c.toString()) }
}
