/**
 * Per-series detection state and the synchronous part of scoring one point: validation (NaN/∞ values,
 * out-of-order or duplicate timestamps), gap handling, warm-up, and the statistical tiers. The robust tier's
 * window is kept here too; the engine batches it through the model.
 *
 * Gaps: the sampling interval is learnt per series (a smoothed typical step). A gap of k missing points
 * leaves NaN slots in the seasonal history (phases stay aligned) and k interpolated values in the model
 * window (the spectral transform needs evenly spaced samples); a gap longer than `maxGapPoints` means the
 * old state says little about the new data, so the series starts over (warm-up again, nothing scored).
 */
import type { RowSource } from './batcher.js'
import { BasicState } from './robust-stats.js'
import { AgileState, type SeasonalSettings } from './seasonal.js'
import { Hysteresis } from './hysteresis.js'
import type { StaticRule } from './routing.js'
import type { MetricPoint, TierName } from './types.js'
import { SR } from './onnx/spectral-residual.js'

/** Real points after a filled gap before the model scores again (its local saliency window plus the point). */
const MODEL_CLEAN_POINTS = SR.local + 1

export interface SeriesSettings {
  warmup: number
  window: number
  alpha: number
  maxGapPoints: number
  seasonal: Omit<SeasonalSettings, 'window' | 'alpha' | 'warmup'>
  /** Points in the robust model's window. */
  modelWindow: number
}

/** Factory of basic statistics, injectable so tests can make the statistical tier fail. */
export type BasicFactory = (window: number, alpha: number) => BasicState

export const defaultBasicFactory: BasicFactory = (window, alpha) => new BasicState(window, alpha)

export class SeriesState implements RowSource {
  readonly basic: BasicState
  readonly agile: AgileState | undefined
  readonly hysteresis = new Hysteresis()
  /**
   * Robust tier window: the last modelWindow values as float32 (the model's input type), oldest first, always
   * at [0, W): a push shifts it by one (a 252-byte memmove), so the window goes into a batch with one set()
   * and no view, cheaper than a ring's wrap-around or a per-point subarray. Until W values were pushed the
   * first W − ringCount slots are stale (the window is not scored before it is full).
   */
  private readonly modelRing: Float32Array | undefined
  private readonly modelW: number
  private ringCount = 0
  private pendingMissing = 0
  /** Real points pushed since the model window last got interpolated points. */
  private sinceFill = Infinity
  lastMs = -Infinity
  intervalMs = 0
  /** Valid points since the state was (re)started. */
  seen = 0
  /** Engine tick of this series' last move to the back of the LRU order. */
  movedAt = 0
  /** Previous cumulative reading (value, or sum and count), for rates and interval means. */
  private prevValue = NaN
  private prevSum = NaN
  private prevCount = NaN
  private prevMs = NaN

  constructor(
    readonly tenant: string,
    readonly series: string,
    readonly tier: TierName,
    readonly rules: StaticRule[],
    private readonly s: SeriesSettings,
    basicFactory: BasicFactory,
  ) {
    this.basic = basicFactory(s.window, s.alpha)
    this.agile =
      tier === 'agile'
        ? new AgileState({ ...s.seasonal, window: s.window, alpha: s.alpha, warmup: s.warmup }, this.basic)
        : undefined
    this.modelW = s.modelWindow
    this.modelRing = tier === 'robust' ? new Float32Array(s.modelWindow) : undefined
  }

  reset(): void {
    this.basic.reset()
    this.agile?.reset()
    this.hysteresis.reset()
    this.ringCount = 0
    this.pendingMissing = 0
    this.sinceFill = Infinity
    this.seen = 0
    this.intervalMs = 0
    this.prevValue = NaN
    this.prevSum = NaN
    this.prevCount = NaN
  }

  /**
   * Checks the timestamp and handles a gap before the point is scored. Returns false for a stale point
   * (not after the last one: a replay or out-of-order delivery), which must not be scored again.
   */
  advance(tsMs: number): 'ok' | 'stale' | 'reset' {
    if (!(tsMs > this.lastMs)) return 'stale'
    let outcome: 'ok' | 'reset' = 'ok'
    if (this.lastMs !== -Infinity) {
      const delta = tsMs - this.lastMs
      if (this.intervalMs === 0) this.intervalMs = delta
      const missing = Math.round(delta / this.intervalMs) - 1
      if (missing > this.s.maxGapPoints) {
        this.reset()
        outcome = 'reset'
      } else if (missing > 0) {
        this.agile?.pushMissing(missing)
        if (this.ringCount > 0) this.pendingMissing = missing
      } else if (delta < 1.5 * this.intervalMs) {
        this.intervalMs = 0.9 * this.intervalMs + 0.1 * delta
      }
    }
    this.lastMs = tsMs
    return outcome
  }

  /**
   * The value to score for a point of a cumulative metric (see MetricPoint.derive), or undefined for the first
   * reading (nothing to difference yet) and for an interval with no observations. Call after advance().
   */
  derive(p: MetricPoint, tsMs: number): number | undefined {
    const prevMs = this.prevMs
    this.prevMs = tsMs
    if (p.derive === 'rate') {
      const prev = this.prevValue
      this.prevValue = p.value
      if (Number.isNaN(prev)) return undefined
      const delta = p.value >= prev ? p.value - prev : p.value
      return delta / Math.max(1e-3, (tsMs - prevMs) / 1000)
    }
    const sum = p.sum ?? NaN
    const count = p.count ?? NaN
    const [ps, pc] = [this.prevSum, this.prevCount]
    this.prevSum = sum
    this.prevCount = count
    if (Number.isNaN(pc) || !Number.isFinite(sum) || !Number.isFinite(count)) return undefined
    const reset = count < pc
    const dc = reset ? count : count - pc
    const ds = reset ? sum : sum - ps
    return dc > 0 ? ds / dc : undefined
  }

  /** Adds an accepted value to every structure this series keeps. */
  push(x: number): void {
    if (this.agile) this.agile.push(x)
    else this.basic.push(x)
    if (this.modelRing) {
      // Points missing before x: interpolated between the last value and x, so the gap neither reads as a
      // flat stretch nor as a jump to the spectral transform.
      if (this.pendingMissing > 0) {
        const last = this.lastModelValue()
        const k = this.pendingMissing
        for (let i = 1; i <= k; i++) this.pushModel(last + ((x - last) * i) / (k + 1))
        this.pendingMissing = 0
        this.sinceFill = 0
      }
      this.pushModel(x)
      this.sinceFill++
    }
    this.seen++
  }

  /** Whether the model window will be scorable once the next (real) point is pushed (see modelReady). */
  get modelWarm(): boolean {
    return this.modelRing !== undefined && this.pendingMissing === 0 && this.ringCount + 1 >= this.modelW && this.sinceFill + 1 > MODEL_CLEAN_POINTS
  }

  /** Whether the series has enough history to be scored (the agile tier needs its period, or proof of none). */
  get warm(): boolean {
    return this.seen >= this.s.warmup && (this.agile === undefined || this.agile.ready)
  }

  /**
   * Whether the model window can be scored: full, and with no interpolated gap among the points the model's
   * last-point score is judged against (SR.local + 1): a smooth filled stretch there has almost no saliency,
   * which would make every ordinary point after it look salient by comparison. Until then the statistical
   * score stands.
   */
  get modelReady(): boolean {
    return this.modelRing !== undefined && this.ringCount === this.modelW && this.sinceFill > MODEL_CLEAN_POINTS
  }

  /** The model window (oldest first), written into `dst` at `offset`: the batcher's row source. */
  writeRow(dst: Float32Array, offset: number): void {
    dst.set(this.modelRing!, offset)
  }

  private pushModel(x: number): void {
    const ring = this.modelRing!
    ring.copyWithin(0, 1)
    ring[this.modelW - 1] = x
    if (this.ringCount < this.modelW) this.ringCount++
  }

  private lastModelValue(): number {
    return this.modelRing![this.modelW - 1]!
  }
}
