/**
 * The agile tier: seasonality-aware scoring. Each series keeps a history of up to 3 × maxPeriod points
 * (NaN where a point was missing, so phases stay aligned across gaps), and every so often detects its period
 * from the autocorrelation of the linearly detrended history: the smallest local ACF peak within 90 % of the
 * best one, at least `minAcf`, with the ACF dipping by ≥ 0.1 before it (so a slowly drifting series, whose
 * ACF just decays, has no period), repeating at least 3 times in the history. A series is not scored until
 * it has a period or a full history without one: scored by plain statistics meanwhile, a seasonal series
 * would alarm on its own pattern.
 *
 * With a period P, the expected value of a new point is the median of the same phase in the last ≤ 3
 * periods (each aligned to the latest points, see seasonalExpected), and the residual x − expected goes through the basic tier's robust statistics (median/MAD +
 * EWMA of residuals): the residual median absorbs level changes between periods and the residual MAD is the
 * noise around the pattern. A broken pattern (a missing daily peak, a shifted phase) is a large residual even
 * when every value is within the series' usual range, which is what the basic tier cannot see.
 * Without a period (too little history, no seasonality) the series is scored by the basic tier.
 */
import { BasicState, type StatOutput } from './robust-stats.js'

export interface SeasonalSettings {
  minPeriod: number
  maxPeriod: number
  minAcf: number
  window: number
  alpha: number
  /** Residual points needed after a period is found before residual scoring takes over from basic. */
  warmup: number
}

/** Periods compared against (same phase in the last K periods). */
const PAST_PERIODS = 3
/** Pairs an autocorrelation needs to mean anything (its noise is ~1/√pairs; 0.3 must stand out of it). */
const MIN_PAIRS = 64
/** Phase alignment: offsets tried either side of k·P, and points compared to choose one. */
const ALIGN = 3
const MATCH = 8

export class AgileState {
  readonly plain: BasicState
  private resid: BasicState
  private readonly hist: Float64Array
  private head = 0
  private count = 0
  private sinceDetect = 0
  /** Points pushed since the last reset (gaps not counted). */
  private pushed = 0
  private periodPoints = 0
  private readonly neighbours = new Float64Array(PAST_PERIODS)
  /** score() computes the seasonal expectation; push() of the same point reuses it. */
  private cached = NaN
  private cacheValid = false

  /** `plain` (the basic statistics of the raw values) may be shared with the caller; agile pushes into it. */
  constructor(
    private readonly s: SeasonalSettings,
    plain?: BasicState,
  ) {
    this.plain = plain ?? new BasicState(s.window, s.alpha)
    this.resid = new BasicState(s.window, s.alpha)
    this.hist = new Float64Array(PAST_PERIODS * s.maxPeriod)
  }

  /**
   * Whether the series can be scored: with a period once the residual statistics have warmed up, or without
   * one once 3 × maxPeriod points (a full history) have shown there is none. Before that, a seasonal series scored by the
   * plain statistics would alarm on its own pattern.
   */
  get ready(): boolean {
    if (this.periodPoints > 0) return this.resid.size >= this.s.warmup
    return this.pushed >= PAST_PERIODS * this.s.maxPeriod
  }

  /** The detected period in points (0: none yet). */
  get period(): number {
    return this.periodPoints
  }

  reset(): void {
    this.plain.reset()
    this.resid.reset()
    this.head = 0
    this.count = 0
    this.sinceDetect = 0
    this.pushed = 0
    this.periodPoints = 0
    this.cacheValid = false
  }

  /** Missing points keep the history's phase: each one is a NaN slot. */
  pushMissing(n: number): void {
    this.cacheValid = false
    for (let i = 0; i < n; i++) this.append(NaN)
  }

  /**
   * Scores x (before it is added) into `out`; returns true when the seasonal model scored it, false when the
   * caller should use the plain (basic) statistics instead.
   */
  score(x: number, out: StatOutput): boolean {
    const expected = this.seasonalExpected()
    this.cached = expected
    this.cacheValid = true
    if (Number.isNaN(expected) || this.resid.size < this.s.warmup) return false
    this.resid.score(x - expected, out)
    out.expected += expected
    return true
  }

  push(x: number): void {
    const expected = this.cacheValid ? this.cached : this.seasonalExpected()
    this.cacheValid = false
    if (!Number.isNaN(expected)) this.resid.push(x - expected)
    this.plain.push(x)
    this.append(x)
    this.sinceDetect++
    this.pushed++
    // While the history fills and no period is known, look often (a period P shows once 2P points are in);
    // afterwards twice per longest period is enough to follow a change.
    const every = this.periodPoints === 0 && this.count < this.hist.length ? 16 : Math.max(16, this.s.maxPeriod >> 1)
    if (this.sinceDetect >= every && this.count >= 2 * this.s.minPeriod + 2) {
      this.sinceDetect = 0
      const p = detectPeriod(this.ordered(), this.s)
      // The ACF peak of a real period is broad: re-detection wobbling by a point or two is the same period,
      // and restarting the residual statistics for it would only blind the series for a warm-up.
      const same = p > 0 && this.periodPoints > 0 && Math.abs(p - this.periodPoints) <= Math.max(1, Math.round(0.02 * this.periodPoints))
      if (p !== this.periodPoints && !same) {
        this.periodPoints = p
        this.resid = new BasicState(this.s.window, this.s.alpha)
      }
    }
  }

  private append(x: number): void {
    const H = this.hist.length
    this.hist[(this.head + this.count) % H] = x
    if (this.count < H) this.count++
    else this.head = (this.head + 1) % H
  }

  /** Value `back` points before the next one (back = 1 is the latest), or NaN. */
  private at(back: number): number {
    if (back < 1 || back > this.count) return NaN
    const H = this.hist.length
    return this.hist[(this.head + this.count - back) % H]!
  }

  /**
   * Median over the last ≤ 3 periods of the value at the same phase. Each past period is aligned first: of
   * the offsets −ALIGN…+ALIGN around k·P, the one whose preceding MATCH points best match the latest MATCH
   * points wins. A period estimate one point off (the ACF peak is broad: 95 vs 96 cannot be told apart from
   * 3 noisy periods) would otherwise compare steep slopes point-for-point with a growing lag.
   */
  private seasonalExpected(): number {
    const P = this.periodPoints
    if (P === 0) return NaN
    let n = 0
    const v = this.neighbours
    for (let k = 1; k <= PAST_PERIODS; k++) {
      let best = Infinity
      let value = NaN
      for (let d = -ALIGN; d <= ALIGN; d++) {
        const at = k * P + d
        const x = this.at(at)
        if (Number.isNaN(x)) continue
        let err = 0
        let used = 0
        for (let j = 1; j <= MATCH; j++) {
          const a = this.at(j)
          const b = this.at(at + j)
          if (Number.isNaN(a) || Number.isNaN(b)) continue
          err += (a - b) * (a - b)
          used++
        }
        const e = used > 0 ? err / used : Infinity
        if (e < best || (used === 0 && Number.isNaN(value) && d === 0)) {
          best = e
          value = x
        }
      }
      if (!Number.isNaN(value)) v[n++] = value
    }
    // One past period is too little to tell the pattern from its noise.
    if (n < 2) return NaN
    return medianInPlace(v, n)
  }

  private ordered(): Float64Array {
    const out = new Float64Array(this.count)
    for (let i = 0; i < this.count; i++) out[i] = this.hist[(this.head + i) % this.hist.length]!
    return out
  }
}

/** Period (points) of a series with NaN gaps, or 0 when it has none; see the file comment. */
export function detectPeriod(values: Float64Array, s: Pick<SeasonalSettings, 'minPeriod' | 'maxPeriod' | 'minAcf'>): number {
  const n = values.length
  const x = detrend(values)
  let variance = 0
  let valid = 0
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(x[i]!)) {
      variance += x[i]! * x[i]!
      valid++
    }
  }
  if (valid < 2 * s.minPeriod || variance === 0) return 0
  variance /= valid
  // A candidate must repeat at least three times in the history, over at least MIN_PAIRS pairs: with less,
  // a fragment of a slow pattern (or AR noise) shows spurious ACF peaks.
  const maxLag = Math.min(s.maxPeriod, Math.floor(n / 3), n - MIN_PAIRS)
  if (maxLag < s.minPeriod) return 0
  const acf = new Float64Array(maxLag + 2)
  for (let lag = 1; lag <= maxLag + 1 && lag < n; lag++) {
    let sum = 0
    let pairs = 0
    for (let i = lag; i < n; i++) {
      const a = x[i]!
      const b = x[i - lag]!
      if (!Number.isNaN(a) && !Number.isNaN(b)) {
        sum += a * b
        pairs++
      }
    }
    acf[lag] = pairs > 0 ? sum / pairs / variance : 0
  }
  let best = 0
  const peaks: number[] = []
  let lowest = acf[1]!
  for (let lag = 2; lag <= maxLag; lag++) {
    lowest = Math.min(lowest, acf[lag - 1]!)
    const r = acf[lag]!
    const isPeak = r >= acf[lag - 1]! && r >= acf[lag + 1]! && r >= s.minAcf && r - lowest >= 0.1
    if (isPeak && lag >= s.minPeriod) {
      peaks.push(lag)
      best = Math.max(best, r)
    }
  }
  for (const lag of peaks) if (acf[lag]! >= 0.9 * best) return lag
  return 0
}

/** Least-squares line removed (NaN kept as NaN), so drifts do not look like long periods. */
function detrend(v: Float64Array): Float64Array {
  let sx = 0
  let sy = 0
  let sxx = 0
  let sxy = 0
  let n = 0
  for (let i = 0; i < v.length; i++) {
    const y = v[i]!
    if (Number.isNaN(y)) continue
    sx += i
    sy += y
    sxx += i * i
    sxy += i * y
    n++
  }
  const denom = n * sxx - sx * sx
  const slope = denom !== 0 ? (n * sxy - sx * sy) / denom : 0
  const icept = n > 0 ? (sy - slope * sx) / n : 0
  return v.map((y, i) => y - (icept + slope * i))
}

/** Median of v[0..n) (reorders them). n ≤ 9 here, so insertion sort. */
function medianInPlace(v: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) {
    const x = v[i]!
    let j = i - 1
    while (j >= 0 && v[j]! > x) {
      v[j + 1] = v[j]!
      j--
    }
    v[j + 1] = x
  }
  return n % 2 === 1 ? v[n >> 1]! : (v[(n >> 1) - 1]! + v[n >> 1]!) / 2
}
