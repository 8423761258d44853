/**
 * The detection engine: metric points in, calibrated per-point results and anomaly events out. The agent
 * feeds it bus batches; `aiops detector eval` and the benchmarks feed it files and generated series, so
 * what is evaluated is exactly what runs.
 *
 * For each chunk of points: every point is validated and scored synchronously by its series' statistical
 * tier (basic, or agile); robust series additionally queue their model window in the dynamic batcher. The
 * model runs behind the ml_inference circuit breaker; a window whose batch fails, is refused by the breaker
 * or the batcher, or waits past its deadline keeps the statistical score it already has (the fallback costs nothing extra
 * and no point goes unscored). If the statistical tier itself throws, the static rules score the point.
 * Results then go through each series' hysteresis in arrival order, producing open/update/close events.
 */
import { type Clock, systemClock } from '../resilience/clock.js'
import type { CircuitBreaker } from '../resilience/breaker.js'
import type { RejectReason } from './batcher.js'
import { Calibration, type CalibrationTable } from './calibration.js'
import { CALIBRATION_TABLES } from './calibration-tables.js'
import { Degradation } from './degradation.js'
import type { HysteresisSettings } from './hysteresis.js'
import { ChunkWait, ModelScorer } from './model-scorer.js'
import type { RobustModel } from './onnx/session.js'
import { rulesFor, tierFor, type StaticRule, type TierRoute } from './routing.js'
import { rulesResult, type Scorers, statisticalResult } from './scoring.js'
import { defaultBasicFactory, type BasicFactory, SeriesState, type SeriesSettings, seriesKey } from './series-state.js'
import type { AnomalyRecord, MetricPoint, PointResult, SkipReason, TierName } from './types.js'

export interface RobustSettings {
  maxBatch: number
  maxWaitMs: number
  capacity: number
  deadlineMs: number
  maxInFlight: number
}

export interface EngineSettings extends SeriesSettings {
  defaultTier: TierName
  routes: TierRoute[]
  rules: StaticRule[]
  maxSeries: number
  hysteresis: HysteresisSettings
  robust: RobustSettings
}

export type FallbackReason = 'breaker_open' | 'inference_error' | RejectReason

export interface EngineHooks {
  point?(outcome: 'scored' | SkipReason, n: number): void
  gapReset?(): void
  evicted?(n: number): void
  fallback?(reason: FallbackReason, n: number): void
  batch?(size: number): void
  rejected?(reason: RejectReason, n: number): void
  inference?(seconds: number, size: number): void
}

export interface EngineOptions {
  /** The robust tier's model; without it robust series are scored statistically (degradation level 1). */
  model?: RobustModel
  /** Why there is no model (shown in /readyz) when the robust tier is configured. */
  modelUnavailable?: string
  breaker?: CircuitBreaker
  clock?: Clock
  hooks?: EngineHooks
  /** Run queued model windows at the end of each chunk instead of waiting maxWaitMs (offline scoring). */
  offline?: boolean
  basicFactory?: BasicFactory
  degradation?: Degradation
  /** Calibration tables other than the shipped ones (models/calibrate.ts fits them this way). */
  calibration?: Partial<Record<TierName, CalibrationTable>>
}

export interface ProcessOutput {
  events: AnomalyRecord[]
  /** Per-point results, in input order, when asked for (eval). */
  results: PointResult[]
}

/** Points staged at once: bounds the memory of model windows waiting for their batch. */
const CHUNK = 1024
/** Chunks staged ahead of the one whose model results are awaited. */
const PIPELINE = 2

interface StagedChunk {
  results: PointResult[]
  states: SeriesState[]
  times: number[]
  wait: ChunkWait
}

export class DetectionEngine {
  readonly degradation: Degradation
  private readonly table = new Map<string, SeriesState>()
  private readonly modelScorer: ModelScorer | undefined
  private readonly scorers: Scorers
  private readonly clock: Clock
  private readonly hooks: EngineHooks
  private readonly basicFactory: BasicFactory
  private readonly window: number
  private readonly moveEvery: number
  private tick = 0

  constructor(
    private readonly s: EngineSettings,
    private readonly o: EngineOptions = {},
  ) {
    this.clock = o.clock ?? systemClock
    this.hooks = o.hooks ?? {}
    this.basicFactory = o.basicFactory ?? defaultBasicFactory
    this.degradation = o.degradation ?? new Degradation()
    this.window = s.modelWindow
    this.moveEvery = Math.floor(s.maxSeries / 4)
    const cal = (t: TierName): Calibration => new Calibration(o.calibration?.[t] ?? CALIBRATION_TABLES[t])
    this.scorers = { basic: cal('basic'), agile: cal('agile'), robust: cal('robust'), openScore: s.hysteresis.openScore }
    const model = o.model
    if (model) {
      this.modelScorer = new ModelScorer(model, {
        robust: s.robust,
        window: s.modelWindow,
        calibration: this.scorers.robust,
        clock: this.clock,
        hooks: this.hooks,
        ...(o.breaker ? { breaker: o.breaker } : {}),
      })
    }
    if (this.mlNeeded) {
      const breaker = o.breaker
      this.degradation.addProbe(() => {
        if (!model) return ['ml_unavailable', o.modelUnavailable ?? 'no model loaded']
        const state = breaker?.state
        return state && state !== 'closed' ? ['ml_unavailable', `ml_inference breaker ${state}`] : undefined
      })
    }
  }

  /** Whether any series can be configured for the robust tier (the model matters for the level). */
  get mlNeeded(): boolean {
    return this.s.defaultTier === 'robust' || this.s.routes.some((r) => r.tier === 'robust')
  }

  get seriesCount(): number {
    return this.table.size
  }

  /** Model windows waiting for a batch (the KEDA scaling signal). */
  get queueLength(): number {
    return this.modelScorer?.queueLength ?? 0
  }

  async process(points: readonly MetricPoint[], opts: { keepResults?: boolean } = {}): Promise<ProcessOutput> {
    const out: ProcessOutput = { events: [], results: [] }
    const keep = opts.keepResults === true
    // Two chunks in flight: the next one is staged (statistics, windows copied) while the model scores the
    // previous one. Hysteresis still runs chunk by chunk, in order, so each series sees its points in order.
    const staged: StagedChunk[] = []
    for (let start = 0; start < points.length; start += CHUNK) {
      staged.push(this.stageChunk(points, start, Math.min(points.length, start + CHUNK)))
      if (staged.length >= PIPELINE) await this.finishChunk(staged.shift()!, out, keep)
    }
    while (staged.length > 0) await this.finishChunk(staged.shift()!, out, keep)
    return out
  }

  /** Stops the batcher after running what it holds. */
  async close(): Promise<void> {
    await this.modelScorer?.close()
  }

  private stageChunk(points: readonly MetricPoint[], from: number, to: number): StagedChunk {
    const chunk: StagedChunk = { results: [], states: [], times: [], wait: new ChunkWait() }
    let slab: Float32Array | undefined
    let rows = 0
    let statFailed: Error | undefined
    let statOk = false
    const breakerOpen = this.o.breaker?.state === 'open'
    const now = this.clock.now()
    for (let i = from; i < to; i++) {
      const p = points[i]!
      const st = this.stateFor(p)
      const tsMs = Number(p.tsNs) / 1e6
      const r = this.stage(p, st, tsMs)
      chunk.results.push(r)
      chunk.states.push(st)
      chunk.times.push(tsMs)
      if (r.skipped) continue
      try {
        statisticalResult(r, st, r.value, this.scorers)
        statOk = true
      } catch (err) {
        statFailed = err as Error
        rulesResult(r, st.rules, r.value)
      }
      try {
        st.push(r.value)
      } catch (err) {
        statFailed = err as Error
      }
      // A robust series is scored by the model when it can be; the score above is its fallback.
      if (st.tier !== 'robust' || !st.modelReady || !this.modelScorer) continue
      if (breakerOpen) {
        this.hooks.fallback?.('breaker_open', 1)
        continue
      }
      slab ??= new Float32Array((to - i) * this.window)
      st.copyModelWindow(slab, rows * this.window)
      const refused = this.modelScorer.offer(chunk.wait, slab, rows++, r, now + this.s.robust.deadlineMs)
      if (refused) this.hooks.fallback?.(refused, 1)
    }
    if (statFailed) this.degradation.raise('statistical_failed', statFailed.message)
    else if (statOk) this.degradation.clear('statistical_failed')
    if (rows > 0 && this.o.offline) this.modelScorer?.flush()
    return chunk
  }

  private async finishChunk(chunk: StagedChunk, out: ProcessOutput, keep: boolean): Promise<void> {
    await chunk.wait.done()
    const level = this.degradation.level
    for (let j = 0; j < chunk.results.length; j++) {
      const r = chunk.results[j]!
      if (keep) out.results.push(r)
      if (r.skipped) continue
      const ev = chunk.states[j]!.hysteresis.step(r, chunk.times[j]!, this.s.hysteresis, level)
      if (ev) out.events.push(ev)
    }
  }

  private stage(p: MetricPoint, st: SeriesState, tsMs: number): PointResult {
    const r: PointResult = {
      point: p,
      value: p.value,
      score: 0,
      raw: 0,
      tier: st.tier,
      configuredTier: st.tier,
      detector: '',
      expected: NaN,
      lower: NaN,
      upper: NaN,
    }
    if (!Number.isFinite(p.value) || !Number.isFinite(tsMs)) return this.skip(r, 'invalid')
    const adv = st.advance(tsMs)
    if (adv === 'stale') return this.skip(r, 'stale')
    if (adv === 'reset') this.hooks.gapReset?.()
    if (p.derive) {
      const v = st.derive(p, tsMs)
      if (v === undefined || !Number.isFinite(v)) return this.skip(r, 'warmup')
      r.value = v
    }
    // With a model to score it, a robust series also waits for a full, gap-free model window: scored by the
    // plain statistics meanwhile, a seasonal series would alarm on its own pattern.
    if (!st.warm || (st.tier === 'robust' && this.modelScorer && !st.modelWarm)) {
      st.push(r.value)
      return this.skip(r, 'warmup')
    }
    this.hooks.point?.('scored', 1)
    return r
  }

  private skip(r: PointResult, why: SkipReason): PointResult {
    r.skipped = why
    this.hooks.point?.(why, 1)
    return r
  }

  private stateFor(p: MetricPoint): SeriesState {
    const key = seriesKey(p)
    const t = this.table
    const tick = ++this.tick
    let st = t.get(key)
    if (st) {
      // Re-inserting moves the series to the end of the Map's order, so the first entry is the least recently
      // seen. Moving on every point costs a delete + insert; moving only when the last move is older than a
      // quarter of the cap keeps the order exact to within that quarter at a fraction of the cost.
      if (tick - st.movedAt > this.moveEvery) {
        t.delete(key)
        t.set(key, st)
        st.movedAt = tick
      }
      return st
    }
    const tier = tierFor(this.s.routes, this.s.defaultTier, p.tenant, p.metric)
    st = new SeriesState(p.tenant, p.series, tier, rulesFor(this.s.rules, p.tenant, p.metric), this.s, this.basicFactory)
    st.movedAt = tick
    t.set(key, st)
    if (t.size > this.s.maxSeries) {
      let evicted = 0
      for (const k of t.keys()) {
        if (t.size <= this.s.maxSeries) break
        t.delete(k)
        evicted++
      }
      this.hooks.evicted?.(evicted)
    }
    return st
  }
}
