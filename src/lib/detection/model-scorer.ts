/**
 * The robust tier's path to the model: windows are offered to the dynamic batcher (written straight into the
 * batch's input tensor), each batch runs behind the ml_inference circuit breaker, and each window's result is
 * written into its point's result when its batch settles. A window whose batch fails, or that the breaker or
 * the batcher refuses, is scored statistically instead: the engine computed its statistics already, only the
 * calibrated score was left for here (no point goes unscored); the reason is counted through the engine's hooks.
 */
import { performance } from 'node:perf_hooks'
import { CircuitOpenError } from '../errors.js'
import type { CircuitBreaker } from '../resilience/breaker.js'
import type { Clock } from '../resilience/clock.js'
import { BatchRejectedError, DynamicBatcher, type RejectReason, type RowSource } from './batcher.js'
import type { EngineHooks, FallbackReason, RobustSettings } from './engine.js'
import type { RobustModel } from './onnx/session.js'
import { type Scorers, statisticalScore } from './scoring.js'
import type { PointResult } from './types.js'

export interface ModelScorerOptions {
  robust: RobustSettings
  window: number
  scorers: Scorers
  clock: Clock
  hooks: EngineHooks
  breaker?: CircuitBreaker
}

export class ModelScorer {
  private readonly batcher: DynamicBatcher<PointResult>

  constructor(
    private readonly model: RobustModel,
    private readonly o: ModelScorerOptions,
  ) {
    this.batcher = new DynamicBatcher<PointResult>({
      maxBatch: o.robust.maxBatch,
      maxWaitMs: o.robust.maxWaitMs,
      capacity: o.robust.capacity,
      maxInFlight: o.robust.maxInFlight,
      width: o.window,
      clock: o.clock,
      run: (input, rows) => this.run(input, rows),
      settle: (targets, n, scores, err) => this.settle(targets, n, scores, err),
      onReject: (reason, n) => o.hooks.rejected?.(reason, n),
      onBatch: (size) => o.hooks.batch?.(size),
    })
  }

  get queueLength(): number {
    return this.batcher.length
  }

  /** Windows offered and accepted so far (`drained` waits for them). */
  get accepted(): number {
    return this.batcher.acceptedRows
  }

  /**
   * Queues the model window of `source` for the point result `r`; returns the reason when it is refused (the
   * caller then completes the statistical score).
   */
  offer(r: PointResult, source: RowSource, deadlineMs: number): RejectReason | undefined {
    return this.batcher.offer(r, source, deadlineMs)
  }

  /** Resolves when the first `upTo` accepted windows have their score (model or fallback). */
  drained(upTo: number): Promise<void> {
    return this.batcher.drained(upTo)
  }

  /** Runs what is queued now (offline scoring: no more windows are coming for this chunk). */
  flush(): void {
    this.batcher.flush()
  }

  close(): Promise<void> {
    return this.batcher.close()
  }

  /** A batch's outcome: robust scores, or (failure) the statistical score, with the reason counted. */
  private settle(targets: readonly PointResult[], n: number, scores: ArrayLike<number> | undefined, err: Error | undefined): void {
    const s = this.o.scorers
    if (!scores) {
      for (let i = 0; i < n; i++) statisticalScore(targets[i]!, s)
      const reason: FallbackReason =
        err instanceof BatchRejectedError ? err.reason : err instanceof CircuitOpenError ? 'breaker_open' : 'inference_error'
      this.o.hooks.fallback?.(reason, n)
      return
    }
    let bad = 0
    for (let i = 0; i < n; i++) {
      const r = targets[i]!
      const raw = scores[i]!
      if (!Number.isFinite(raw)) {
        statisticalScore(r, s)
        bad++
        continue
      }
      r.raw = raw
      r.score = s.robust.score(raw)
      r.tier = 'robust'
      r.detector = 'spectral-residual'
    }
    if (bad > 0) this.o.hooks.fallback?.('inference_error', bad)
  }

  private run(input: Float32Array, rows: number): Promise<ArrayLike<number>> {
    const t0 = performance.now()
    // (No named closure here: under tsx, a named arrow costs a defineProperty per batch.)
    const run = this.o.breaker ? this.o.breaker.execute(() => this.model.run(input, rows)) : this.model.run(input, rows)
    const inference = this.o.hooks.inference
    return inference
      ? run.then((scores) => {
          inference((performance.now() - t0) / 1000, rows)
          return scores
        })
      : run
  }
}
