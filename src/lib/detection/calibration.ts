/**
 * One score scale for every tier. Each detector produces a raw statistic of its own (a robust z, a seasonal
 * residual z, a spectral-residual saliency ratio); calibration maps it to the fraction of *normal* points that
 * score lower, fitted on the project's labelled generator's anomaly-free series. So a score of 0.999 means "a
 * normal point reaches this one time in a thousand" whichever tier produced it, and one threshold works for all.
 *
 * A table is a list of knots (raw value at quantile q). Between knots, −log10(1 − q) is interpolated linearly
 * in the raw value; beyond the last knot the last slope continues (an exponential tail), so scores keep rising
 * with the raw statistic instead of saturating at the last fitted quantile.
 */

export interface CalibrationTable {
  /** Which detector's statistic this table maps. */
  detector: string
  /** Ascending raw values at QUANTILES. */
  raw: readonly number[]
  /** Normal points the table was fitted on. */
  fittedOn: number
}

/** The quantiles tables are fitted at. The last one needs ≥ ~1e5 normal points to be meaningful. */
export const QUANTILES: readonly number[] = [0.5, 0.9, 0.99, 0.999, 0.9999]
const TAIL = QUANTILES.map((q) => -Math.log10(1 - q))

/** Scores are capped just below 1 so that "higher raw → higher score" still holds in the far tail. */
const MAX_TAIL = 12

export class Calibration {
  private readonly raw: readonly number[]

  constructor(readonly table: CalibrationTable) {
    if (table.raw.length !== QUANTILES.length) throw new RangeError(`calibration ${table.detector}: need ${QUANTILES.length} knots`)
    for (let i = 1; i < table.raw.length; i++) {
      if (!(table.raw[i]! > table.raw[i - 1]!)) throw new RangeError(`calibration ${table.detector}: knots must increase`)
    }
    this.raw = table.raw
  }

  /** Raw statistic → calibrated score in [0, 1). NaN or negative raw values score 0. */
  score(raw: number): number {
    if (!(raw > 0)) return 0
    const r = this.raw
    const first = r[0]!
    if (raw <= first) return QUANTILES[0]! * (raw / first)
    const t = this.tailOf(raw)
    return 1 - 10 ** -Math.min(t, MAX_TAIL)
  }

  /** Calibrated score → the raw statistic that reaches it (the band edges use this). */
  rawFor(score: number): number {
    const r = this.raw
    if (score <= QUANTILES[0]!) return (Math.max(0, score) / QUANTILES[0]!) * r[0]!
    const t = -Math.log10(1 - Math.min(score, 1 - 1e-12))
    for (let i = 1; i < r.length; i++) {
      if (t <= TAIL[i]!) return lerp(TAIL[i - 1]!, TAIL[i]!, r[i - 1]!, r[i]!, t)
    }
    const n = r.length - 1
    return lerp(TAIL[n - 1]!, TAIL[n]!, r[n - 1]!, r[n]!, t)
  }

  private tailOf(raw: number): number {
    const r = this.raw
    for (let i = 1; i < r.length; i++) {
      if (raw <= r[i]!) return lerp(r[i - 1]!, r[i]!, TAIL[i - 1]!, TAIL[i]!, raw)
    }
    const n = r.length - 1
    return lerp(r[n - 1]!, r[n]!, TAIL[n - 1]!, TAIL[n]!, raw)
  }
}

/** Linear map of x from [x0, x1] onto [y0, y1] (extrapolates outside). */
function lerp(x0: number, x1: number, y0: number, y1: number, x: number): number {
  return y0 + ((x - x0) * (y1 - y0)) / (x1 - x0)
}

/** Fits a table from raw statistics of normal points (models/calibrate.ts runs it; the tests re-check it). */
export function fitCalibration(detector: string, rawStats: ArrayLike<number>): CalibrationTable {
  const sorted = Float64Array.from(rawStats).filter((v) => Number.isFinite(v)).sort()
  if (sorted.length < 1000) throw new RangeError(`calibration ${detector}: ${sorted.length} points are too few to fit`)
  const raw = QUANTILES.map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!)
  // Ties (discrete statistics) would break strict monotonicity; nudge them apart by a hair.
  for (let i = 1; i < raw.length; i++) if (raw[i]! <= raw[i - 1]!) raw[i] = raw[i - 1]! * (1 + 1e-6) + 1e-12
  return { detector, raw, fittedOn: sorted.length }
}
