/**
 * The basic tier: robust streaming statistics per series, O(window) per point with no allocation.
 *
 * State: the last `window` values in arrival order (ring) and the same values kept sorted (so the median is
 * an index), plus an EWMA of the values. For a new value x, scored against the state *before* it:
 *   point z = |x − median| / scale, scale = 1.4826·MAD (≈ σ for Gaussian noise, unmoved by outliers);
 *   level z = |EWMA_after_x − median| / (scale · √(α/(2−α)))  — the EWMA's own noise is √(α/(2−α))·σ, so
 *             a sustained small shift (1–2σ, invisible point by point) stands out after a few points
 *             (values enter the EWMA clamped to median ± 3·scale, so one spike does not linger in it);
 *   raw = max(point z, level z), calibrated to a score (calibration.ts).
 * The median lags a level shift by window/2 points, which is how long a shift keeps scoring before it
 * becomes the new normal (the hysteresis turns that run into one anomaly).
 *
 * Why not mean/stddev: one spike inflates both for the whole window and masks the next anomaly.
 */

export interface StatOutput {
  /** Raw statistic (≥ 0) for calibration. */
  raw: number
  /** Expected value (the robust centre) and the scale the band is built from. */
  expected: number
  scale: number
}

/** When the window has no spread at all (MAD 0, every value equal), this much of |median| is the scale. */
const REL_SCALE_FLOOR = 1e-6
const ABS_SCALE_FLOOR = 1e-9
/** Scales either side of the median beyond which a value enters the EWMA clamped. */
const EWMA_CLAMP = 3

export class BasicState {
  /**
   * The window kept sorted in [0, window) and in arrival order (a ring) in [window, 2·window): one array, so a
   * point's scoring and update touch one block of memory (with many series, each point's state is a cache miss).
   */
  private readonly values: Float64Array
  private head = 0
  private count = 0
  private ewma = 0
  private readonly ewmaNoise: number
  private clampLo = -Infinity
  private clampHi = Infinity

  constructor(
    private readonly window: number,
    private readonly alpha: number,
  ) {
    this.values = new Float64Array(2 * window)
    this.ewmaNoise = Math.sqrt(alpha / (2 - alpha))
  }

  /** Values in the window (≤ window). */
  get size(): number {
    return this.count
  }

  reset(): void {
    this.head = 0
    this.count = 0
    this.ewma = 0
    this.clampLo = -Infinity
    this.clampHi = Infinity
  }

  /** Scores x against the current window (call before push). Requires size ≥ 1. */
  score(x: number, out: StatOutput): void {
    const med = this.median()
    const scale = this.scale(med)
    const ewmaAfter = this.alpha * x + (1 - this.alpha) * this.ewma
    const pointZ = Math.abs(x - med) / scale
    const levelZ = Math.abs(ewmaAfter - med) / (scale * this.ewmaNoise)
    out.raw = pointZ > levelZ ? pointZ : levelZ
    out.expected = med
    out.scale = scale
    this.clampLo = med - EWMA_CLAMP * scale
    this.clampHi = med + EWMA_CLAMP * scale
  }

  push(x: number): void {
    const W = this.window
    const s = this.values
    // The EWMA takes x clamped to median ± 3 scales (as of the score just computed): a lone spike would
    // otherwise drag it far enough to keep the next several ordinary points "anomalous".
    const e = x < this.clampLo ? this.clampLo : x > this.clampHi ? this.clampHi : x
    this.clampLo = -Infinity
    this.clampHi = Infinity
    this.ewma = this.count === 0 ? x : this.alpha * e + (1 - this.alpha) * this.ewma
    if (this.count < W) {
      let i = this.count
      while (i > 0 && s[i - 1]! > x) {
        s[i] = s[i - 1]!
        i--
      }
      s[i] = x
      s[W + ((this.head + this.count) % W)] = x
      this.count++
      return
    }
    const old = s[W + this.head]!
    s[W + this.head] = x
    this.head = (this.head + 1) % W
    // Replace `old` by `x` in the sorted copy: find old, then slide x into place from there.
    let i = lowerBound(s, old, W)
    if (x > old) {
      while (i < W - 1 && s[i + 1]! < x) {
        s[i] = s[i + 1]!
        i++
      }
    } else {
      while (i > 0 && s[i - 1]! > x) {
        s[i] = s[i - 1]!
        i--
      }
    }
    s[i] = x
  }

  median(): number {
    const n = this.count
    const s = this.values
    const mid = n >> 1
    return n % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  }

  /** 1.4826·MAD, or (no spread in the middle half) 1.2533·mean absolute deviation, or a tiny floor. */
  scale(med: number): number {
    const mad = this.mad(med)
    if (mad > 0) return 1.4826 * mad
    let sum = 0
    for (let i = 0; i < this.count; i++) sum += Math.abs(this.values[i]! - med)
    const meanAbs = this.count > 0 ? sum / this.count : 0
    return meanAbs > 0 ? 1.2533 * meanAbs : REL_SCALE_FLOOR * Math.abs(med) + ABS_SCALE_FLOOR
  }

  /**
   * Median absolute deviation without sorting: deviations below the median grow leftwards and those above
   * grow rightwards, so merging the two runs from the middle yields them in order; stop at the middle rank.
   */
  private mad(med: number): number {
    const n = this.count
    const s = this.values
    let right = lowerBound(s, med, n)
    let left = right - 1
    const last = ((n - 1) >> 1) + (n % 2 === 0 ? 1 : 0)
    let prev = 0
    let cur = 0
    // Take the smaller deviation of the two runs; a run that is used up never wins. (Written without an
    // Infinity stand-in for a used-up run on purpose: V8 then boxes every deviation, ~0.6 KB of garbage a call.)
    for (let rank = 0; rank <= last; rank++) {
      prev = cur
      if (right >= n || (left >= 0 && med - s[left]! <= s[right]! - med)) {
        cur = med - s[left]!
        left--
      } else {
        cur = s[right]! - med
        right++
      }
    }
    return n % 2 === 1 ? cur : (prev + cur) / 2
  }
}

/** First index in s[0..n) with s[i] ≥ x. */
function lowerBound(s: Float64Array, x: number, n: number): number {
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (s[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
