/**
 * The detector agent (`aiops agent detector`, and in `aiops up`): a consumer group over `bus.topics.metrics`
 * (instances share partitions, so detectors scale out by partition), the detection engine, and the anomaly
 * publisher. See docs/detector.md.
 *
 * start: parse settings (bad tiers/rules entries fail here, naming the field), load the ONNX model when a
 * series can be configured for the robust tier (missing/corrupt → statistical, degradation level 1, one log
 * line), join the group. Each bus batch: decode → score → publish → return (the bus commits). A replayed
 * batch (redelivery after a bus error or rebalance) is not rescored: every series remembers its last
 * timestamp and skips points at or before it, so a bus outage ends without an alert storm.
 * stop: leave the group (the batch in flight finishes and commits), run what the batcher holds, flush the
 * outboxes, release the model.
 */
import type { ConsumerHandle, ConsumedBatch, HealthResult } from '../../lib/bus/types.js'
import { Degradation } from '../../lib/detection/degradation.js'
import { DetectionEngine, type EngineOptions } from '../../lib/detection/engine.js'
import { loadRobustModel, type RobustModel } from '../../lib/detection/onnx/session.js'
import { ANOMALIES_TABLE } from '../../lib/detection/records.js'
import { engineSettingsFrom, modelPathFrom } from '../../lib/detection/settings.js'
import { DEGRADATION_NAMES } from '../../lib/detection/types.js'
import { breakerDefaults, CircuitBreaker, type Clock, systemClock } from '../../lib/resilience/index.js'
import type { Agent, AgentContext } from '../types.js'
import { decodePoints } from './decode.js'
import { detectorMetrics, type DetectorMetrics } from './metrics.js'
import { AnomalyPublisher } from './publisher.js'

export interface DetectorAgentOptions {
  clock?: Clock
  /** Wraps the loaded model: tests inject inference failures around the real ORT session this way. */
  wrapModel?: (model: RobustModel) => RobustModel
  /** Extra engine options (tests: a failing statistical tier). */
  engine?: Pick<EngineOptions, 'basicFactory'>
}

/** How often outboxes are retried while a destination is down. */
const OUTBOX_RETRY_MS = 5_000

export class DetectorAgent implements Agent {
  readonly name = 'detector'
  private readonly clock: Clock
  private engine: DetectionEngine | undefined
  private publisher: AnomalyPublisher | undefined
  private consumer: ConsumerHandle | undefined
  private model: RobustModel | undefined
  private metrics: DetectorMetrics | undefined
  private readonly degradation: Degradation
  private readonly stopTimer = new AbortController()
  private outboxLoop: Promise<void> | undefined
  private stopping: Promise<void> | undefined
  private ctx: AgentContext | undefined
  private started = false

  constructor(private readonly opts: DetectorAgentOptions = {}) {
    this.clock = opts.clock ?? systemClock
    this.degradation = new Degradation((level, from, reasons) => {
      // Before start finishes, the level is part of start's own log lines (one line per cause, not two).
      const log = this.started ? this.ctx?.logger : undefined
      const fields = { level, from, state: DEGRADATION_NAMES[level], reasons }
      if (level > from) log?.warn('detector degraded', fields)
      else log?.info('detector recovered', fields)
    })
  }

  /** The degradation tracker (level and reasons), for /readyz and tests. */
  get degradationState(): Degradation {
    return this.degradation
  }

  async start(ctx: AgentContext): Promise<void> {
    this.ctx = ctx
    const d = ctx.config.detector
    const settings = engineSettingsFrom(d)
    const log = ctx.logger
    const mlNeeded = settings.defaultTier === 'robust' || settings.routes.some((r) => r.tier === 'robust')
    let modelUnavailable: string | undefined
    if (mlNeeded) {
      const loaded = await loadRobustModel({ path: modelPathFrom(d), device: d.robust.device, threads: d.robust.threads, logger: log })
      if (loaded.ok) {
        this.model = this.opts.wrapModel ? this.opts.wrapModel(loaded.model) : loaded.model
        log.info('robust tier model loaded', { model: modelPathFrom(d), device: loaded.model.device })
      } else {
        modelUnavailable = loaded.reason
        log.warn(`robust tier unavailable, scoring its series statistically: ${loaded.reason}`, { degradation: 1 })
      }
    }
    const breaker = new CircuitBreaker('ml_inference', breakerDefaults.ml_inference, {
      clock: this.clock,
      registry: ctx.registry,
      onStateChange: (from, to) => log.warn('ml_inference breaker changed state', { from, to }),
    })
    const engine = new DetectionEngine(settings, {
      ...(this.model ? { model: this.model } : {}),
      ...(modelUnavailable ? { modelUnavailable } : {}),
      breaker,
      clock: this.clock,
      degradation: this.degradation,
      ...this.opts.engine,
      hooks: {
        point: (outcome, n) => this.metrics?.points.inc({ outcome }, n),
        gapReset: () => this.metrics?.gapResets.inc(),
        evicted: (n) => this.metrics?.evicted.inc(n),
        fallback: (reason, n) => this.metrics?.fallbacks.inc({ reason }, n),
        rejected: (reason, n) => this.metrics?.rejected.inc({ reason }, n),
        batch: (size) => this.metrics?.batchSize.observe(size),
        inference: (s) => this.metrics?.inferenceSeconds.observe(s),
      },
    })
    this.engine = engine
    this.metrics = detectorMetrics(ctx.registry, {
      series: () => engine.seriesCount,
      queueLength: () => engine.queueLength,
      degradation: () => this.degradation.level,
    })
    const database = ctx.config.store.backend === 'chdb' ? ctx.config.store.chdb.database : ctx.config.store.clickhouse.database
    this.publisher = new AnomalyPublisher({
      bus: ctx.bus,
      store: ctx.store,
      topic: ctx.config.bus.topics.anomalies,
      table: `${database}.${ANOMALIES_TABLE}`,
      degradation: this.degradation,
      metrics: this.metrics,
      logger: log,
      clock: this.clock,
      registry: ctx.registry,
    })
    this.consumer = await ctx.bus.consume(ctx.config.bus.topics.metrics, d.group, (batch) => this.handle(batch))
    this.outboxLoop = this.retryOutboxes()
    void this.degradation.level // settle the initial level quietly: start's lines already say why
    this.started = true
    log.info('detector consuming', { topic: ctx.config.bus.topics.metrics, group: d.group, defaultTier: d.defaultTier, degradation: this.degradation.describe() })
  }

  /** The degradation level and its reasons in /readyz's `degraded` map, beside the breaker states. */
  degraded(): Record<string, unknown> {
    return { 'detector:degradation_level': this.degradation.level, 'detector:degradation_reasons': this.degradation.reasons() }
  }

  checks(): Record<string, () => Promise<HealthResult>> {
    // Ready while it scores, degraded or not: a degraded detector still produces anomalies (that is the point of
    // the fallback chain). The level and its reasons are in /readyz's details; the breaker states beside them.
    return {
      detector: async () => (this.engine ? { ok: true, detail: this.degradation.describe() } : { ok: false, error: 'not started' }),
    } as Record<string, () => Promise<HealthResult>>
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopTimer.abort()
      await this.consumer?.stop()
      await this.engine?.close()
      await this.outboxLoop
      await this.publisher?.flush()
      const pending = this.publisher?.pending
      if (pending && (pending.bus > 0 || pending.store > 0)) this.ctx?.logger.warn('detector stopped with anomaly records not written', pending)
      await this.model?.close()
    })()
    return this.stopping
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    const metrics = this.metrics!
    const points = decodePoints(batch, (reason, n) => {
      metrics.badMessages.inc({ reason }, n)
      this.ctx?.logger.logOnce(`detector-bad-${reason}`, 'warn', 'metric records that cannot be read are skipped', { reason, topic: batch.topic })
    })
    const { events } = await this.engine!.process(points)
    await this.publisher!.publish(events, `detector/${batch.topic}/${batch.partition}/${batch.firstOffset}-${batch.lastOffset}`)
    const now = this.clock.now()
    for (const r of batch.records) metrics.pointLatency.observe(Math.max(0, now - r.timestampMs) / 1000)
  }

  private async retryOutboxes(): Promise<void> {
    for (;;) {
      try {
        await this.clock.sleep(OUTBOX_RETRY_MS, this.stopTimer.signal)
      } catch {
        return
      }
      const p = this.publisher?.pending
      if (p && (p.bus > 0 || p.store > 0)) await this.publisher!.flush()
    }
  }
}
