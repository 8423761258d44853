/**
 * The robust tier's path to the model: windows are offered to the dynamic batcher, each batch runs behind the
 * ml_inference circuit breaker, and each window's result is written into its point's result when its batch
 * settles. A window whose batch fails, or that the breaker or the batcher refuses, keeps the statistical score
 * the engine already gave it (the fallback costs nothing extra and no point goes unscored); the reason is
 * counted through the engine's hooks.
 */
import { performance } from 'node:perf_hooks'
import { CircuitOpenError } from '../errors.js'
import type { CircuitBreaker } from '../resilience/breaker.js'
import type { Clock } from '../resilience/clock.js'
import { BatchRejectedError, DynamicBatcher, type RejectReason } from './batcher.js'
import type { Calibration } from './calibration.js'
import type { EngineHooks, FallbackReason, RobustSettings } from './engine.js'
import type { RobustModel } from './onnx/session.js'
import type { PointResult } from './types.js'

/** Counts a chunk's windows still waiting for their batch; resolves when every one has settled. */
export class ChunkWait {
  private left = 0
  private resolve: (() => void) | undefined

  add(): void {
    this.left++
  }

  /** A window that was refused at the door (it will never settle). */
  cancel(): void {
    this.left--
  }

  settled(): void {
    if (--this.left === 0) this.resolve?.()
  }

  done(): Promise<void> {
    return this.left === 0 ? Promise.resolve() : new Promise((r) => (this.resolve = r))
  }
}

/** One window: row `row` of `slab` (a chunk's windows, contiguous [rows, W]) for the point result `result`. */
class WindowRequest {
  constructor(
    private readonly scorer: ModelScorer,
    readonly wait: ChunkWait,
    readonly slab: Float32Array,
    readonly row: number,
    readonly result: PointResult,
    readonly deadlineMs: number,
  ) {}

  done(err: Error | undefined, raw?: number): void {
    this.scorer.apply(this.result, err, raw)
    this.wait.settled()
  }
}

export interface ModelScorerOptions {
  robust: RobustSettings
  window: number
  calibration: Calibration
  clock: Clock
  hooks: EngineHooks
  breaker?: CircuitBreaker
}

export class ModelScorer {
  private readonly batcher: DynamicBatcher<WindowRequest, number>

  constructor(
    private readonly model: RobustModel,
    private readonly o: ModelScorerOptions,
  ) {
    this.batcher = new DynamicBatcher<WindowRequest, number>({
      maxBatch: o.robust.maxBatch,
      maxWaitMs: o.robust.maxWaitMs,
      capacity: o.robust.capacity,
      maxInFlight: o.robust.maxInFlight,
      clock: o.clock,
      run: (items) => this.run(items),
      onReject: (reason, n) => o.hooks.rejected?.(reason, n),
      onBatch: (size) => o.hooks.batch?.(size),
    })
  }

  get queueLength(): number {
    return this.batcher.length
  }

  /** Queues a window; returns the reason when it is refused (its point keeps its statistical score). */
  offer(wait: ChunkWait, slab: Float32Array, row: number, result: PointResult, deadlineMs: number): RejectReason | undefined {
    wait.add()
    const refused = this.batcher.offer(new WindowRequest(this, wait, slab, row, result, deadlineMs))
    if (refused) wait.cancel()
    return refused
  }

  /** Runs what is queued now (offline scoring: no more windows are coming for this chunk). */
  flush(): void {
    this.batcher.flush()
  }

  close(): Promise<void> {
    return this.batcher.close()
  }

  /** A window's outcome: the robust score, or (failure) the statistical score stays and the reason is counted. */
  apply(r: PointResult, err: Error | undefined, raw: number | undefined): void {
    if (err || raw === undefined || !Number.isFinite(raw)) {
      const reason: FallbackReason =
        err instanceof BatchRejectedError ? err.reason : err instanceof CircuitOpenError ? 'breaker_open' : 'inference_error'
      this.o.hooks.fallback?.(reason, 1)
      return
    }
    r.raw = raw
    r.score = this.o.calibration.score(raw)
    r.tier = 'robust'
    r.detector = 'spectral-residual'
  }

  private async run(items: WindowRequest[]): Promise<Float32Array> {
    const W = this.o.window
    const first = items[0]!
    let contiguous = true
    for (let i = 1; i < items.length && contiguous; i++) contiguous = items[i]!.slab === first.slab && items[i]!.row === first.row + i
    let buf: Float32Array
    if (contiguous) {
      // The usual case: consecutive windows of one staged chunk are already one [batch, W] block.
      buf = first.slab.subarray(first.row * W, (first.row + items.length) * W)
    } else {
      buf = new Float32Array(items.length * W)
      for (let i = 0; i < items.length; i++) {
        const it = items[i]!
        buf.set(it.slab.subarray(it.row * W, it.row * W + W), i * W)
      }
    }
    const call = (): Promise<Float32Array> => this.model.run(buf, items.length)
    const t0 = performance.now()
    const scores = this.o.breaker ? await this.o.breaker.execute(call) : await call()
    this.o.hooks.inference?.((performance.now() - t0) / 1000, items.length)
    return scores
  }
}
