/**
 * The consumer agent (`aiops agent consumer`, and first in `aiops up`): reads the traces, metrics and logs topics
 * and stores their rows exactly once, however often the bus delivers them (design: docs/consumer.md).
 *
 * Lifecycle. start: create the intents table (durable bus), join one consumer group per topic, publish the
 * insert-queue depth and read consumer lag every report interval. stop (SIGTERM): on the memory bus first drain
 * what the gateways already put on it (it dies with the process); then stop fetching, store what was taken, let the
 * bus commit, leave the groups. If the store stays down past the stop budget the held batches are given up
 * uncommitted: Kafka redelivers them to the next consumer, nothing is skipped.
 */
import type { HealthResult } from '../../lib/bus/types.js'
import { retry, retryPolicies } from '../../lib/resilience/retry.js'
import { type Clock, systemClock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/logger.js'
import type { Agent, AgentContext } from '../types.js'
import { ControlSignals } from './control-signals.js'
import { DeadLetters } from './dead-letter.js'
import { IntentLog } from './intents.js'
import { consumerMetrics, type ConsumerMetrics } from './metrics.js'
import { consumerSettings, type ConsumerSettings } from './settings.js'
import { TopicConsumer, type StoredInfo } from './topic-consumer.js'
import { StoreWriter } from './writer.js'

export interface ConsumerAgentOptions {
  clock?: Clock
  /**
   * Write-ahead intents and per-partition units (replay-safe). Default: on for Kafka, off for the memory bus, whose
   * records cannot outlive the process and so can never be replayed by another one.
   */
  intents?: boolean
  /** Called after a flush is stored and before its offsets are committed (crash tests kill the process here). */
  afterStore?: (info: StoredInfo) => void | Promise<void>
}

/** Store writes failing this long make /readyz report the consumer as not ready. */
const UNHEALTHY_AFTER_MS = 10_000
const INTENT_GC_INTERVAL_MS = 3_600_000

export class ConsumerAgent implements Agent {
  readonly name = 'consumer'
  private readonly clock: Clock
  private readonly shutdown = new AbortController()
  private readonly reportStop = new AbortController()
  private consumers: TopicConsumer[] = []
  private settings: ConsumerSettings | undefined
  private ctx: AgentContext | undefined
  private metrics: ConsumerMetrics | undefined
  private writer: StoreWriter | undefined
  private control: ControlSignals | undefined
  private intents: IntentLog | undefined
  private reporting: Promise<void> | undefined
  private stopping: Promise<void> | undefined

  constructor(private readonly opts: ConsumerAgentOptions = {}) {
    this.clock = opts.clock ?? systemClock
  }

  async start(ctx: AgentContext): Promise<void> {
    const s = consumerSettings(ctx.config)
    this.ctx = ctx
    this.settings = s
    const log = ctx.logger
    const metrics = consumerMetrics(ctx.registry)
    this.metrics = metrics
    const now = (): number => this.clock.now()
    const writer = new StoreWriter(ctx.store, { clock: this.clock, logger: log, metrics, retryMaxDelayMs: s.retryMaxDelayMs, signal: this.shutdown.signal })
    this.writer = writer
    const durable = this.opts.intents ?? ctx.bus.kind !== 'memory'
    if (durable) {
      this.intents = new IntentLog(ctx.store, s.database, s.instance, this.clock)
      const intents = this.intents
      await retry(() => intents.ensureTable(), retryPolicies.databaseWrite, { operation: 'create the consumer_intents table' })
      await this.collectIntents(log)
    }
    this.control = new ControlSignals(ctx.bus, s.controlTopic, s.instance, now, log)
    const dlq = (group: string): DeadLetters => new DeadLetters(ctx.bus, s.deadLetterTopic, group, metrics, now)
    this.consumers = s.topics.map(
      (t) =>
        new TopicConsumer({
          bus: ctx.bus,
          topic: t.topic,
          group: t.group,
          database: s.database,
          limits: s.limits,
          insertConcurrency: s.insertConcurrency,
          partitionsAtOnce: s.partitionsAtOnce,
          writer,
          ...(this.intents ? { intents: this.intents } : {}),
          dlq: dlq(t.group),
          control: this.control!,
          metrics,
          logger: log.child({ topic: t.topic }),
          clock: this.clock,
          instance: s.instance,
          ...(this.opts.afterStore ? { afterStore: this.opts.afterStore } : {}),
        }),
    )
    try {
      await Promise.all(this.consumers.map((c) => c.start()))
    } catch (err) {
      await this.stop()
      throw err
    }
    this.reporting = this.reportLoop()
    log.info('consumer started', {
      topics: s.topics,
      instance: s.instance,
      replaySafe: durable,
      batch: s.limits,
      database: s.database,
    })
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop()
    return this.stopping
  }

  checks(): Record<string, () => Promise<HealthResult>> {
    return { consumer: async () => this.writer?.health(UNHEALTHY_AFTER_MS) ?? { ok: true } }
  }

  /** Rows taken from the bus and not yet stored, over all topics. */
  get queueDepth(): number {
    return this.consumers.reduce((n, c) => n + c.batcher.depth, 0)
  }

  private async doStop(): Promise<void> {
    const ctx = this.ctx
    const s = this.settings
    if (!ctx || !s) return
    const log = ctx.logger
    this.reportStop.abort()
    const budget = setTimeout(() => this.shutdown.abort(new Error('stop budget spent')), s.stopBudgetMs)
    try {
      if (ctx.bus.kind === 'memory') await this.drainMemoryBus(s.stopBudgetMs / 2)
      await Promise.allSettled(this.consumers.map((c) => c.stop()))
    } finally {
      clearTimeout(budget)
    }
    // The report loop ends at its next await; a lag probe stuck on an unreachable broker must not hold up the exit.
    await Promise.race([this.reporting, new Promise((r) => setTimeout(r, 1_000).unref())])
    this.control?.insertQueue(this.queueDepth)
    await this.control?.settle(1_000)
    log.info('consumer stopped', { heldRows: this.queueDepth })
  }

  /** The memory bus dies with the process: store what gateways already put on it before leaving. */
  private async drainMemoryBus(timeoutMs: number): Promise<void> {
    const { bus } = this.ctx!
    const until = this.clock.now() + timeoutMs
    while (this.clock.now() < until) {
      const lags = await Promise.all(this.settings!.topics.map((t) => bus.lag(t.topic, t.group)))
      if (lags.every((l) => l.total === 0)) return
      await this.clock.sleep(20)
    }
    this.ctx!.logger.warn('memory bus not drained within the stop budget; records still on it are lost with the process')
  }

  /** Every report interval: queue depth (metric + control message), lag per partition, and hourly intent cleanup. */
  private async reportLoop(): Promise<void> {
    const s = this.settings!
    const { bus, logger } = this.ctx!
    let lastGc = this.clock.now()
    for (;;) {
      try {
        await this.clock.sleep(s.reportIntervalMs, this.reportStop.signal)
      } catch {
        return
      }
      const depth = this.queueDepth
      this.metrics!.queue.set(depth)
      this.control!.insertQueue(depth)
      for (const t of s.topics) {
        try {
          const lag = await bus.lag(t.topic, t.group)
          for (const p of lag.partitions) this.metrics!.lag.set({ topic: t.topic, partition: String(p.partition) }, p.lag)
        } catch (err) {
          logger.logOnce('consumer-lag', 'warn', 'reading consumer lag failed', { topic: t.topic, err })
        }
      }
      if (this.intents && this.clock.now() - lastGc >= INTENT_GC_INTERVAL_MS) {
        lastGc = this.clock.now()
        await this.collectIntents(logger)
      }
    }
  }

  private async collectIntents(log: Logger): Promise<void> {
    try {
      const dropped = await this.intents!.dropOlderThan(this.settings!.intentRetentionDays)
      if (dropped.length > 0) log.info('dropped old consumer intents', { partitions: dropped })
    } catch (err) {
      log.logOnce('consumer-intents-gc', 'warn', 'dropping old consumer intents failed (retried hourly)', { err })
    }
  }
}
