/**
 * Writes anomaly records to their two destinations: the bus (`bus.topics.anomalies`, what rca and other
 * consumers follow) and the store's `anomalies` table (what `aiops query` and dashboards read). The detector
 * inserts them itself rather than through the consumer agent: anomalies are few, and one writer per record
 * keeps the dedup token (topic/partition/offset range of the metric batch) meaningful.
 *
 * The bus write is awaited (a record has left the agent when it is on the bus); store rows go through a
 * background writer so a slow insert never holds up scoring. Either destination failing degrades, never
 * blocks: after a short retry the records wait in a bounded outbox (oldest dropped and counted when full)
 * and are retried on the next publish and every few seconds.
 * Store down → level 3 (records still reach the bus: pass-through alerting); bus down as well → level 4, and
 * every anomaly opening is also logged as a static alert so on-call still sees it.
 */
import type { Registry } from 'prom-client'
import type { Bus, BusRecord } from '../../lib/bus/types.js'
import { anomalyKey, anomalyRow, encodeAnomaly } from '../../lib/detection/records.js'
import type { Degradation } from '../../lib/detection/degradation.js'
import type { AnomalyRecord } from '../../lib/detection/types.js'
import { breakerDefaults, CircuitBreaker, type Clock, retry, type RetryPolicy, retryPolicies } from '../../lib/resilience/index.js'
import type { Row, Store } from '../../lib/store/types.js'
import type { Logger } from '../../lib/telemetry/index.js'
import type { DetectorMetrics } from './metrics.js'

export interface PublisherOptions {
  bus: Bus
  store: Store
  topic: string
  /** Qualified table, e.g. `aiops.anomalies`. */
  table: string
  degradation: Degradation
  metrics: DetectorMetrics
  logger: Logger
  clock: Clock
  registry: Registry
  /** Most records kept per outbox while its destination is down. */
  outboxLimit?: number
}

/** Most rows per store insert when the writer coalesces queued batches. */
const MAX_INSERT_ROWS = 5_000

/** Produce retries kept short: the handler waits on them, and the outbox takes over after. */
const busRetry: RetryPolicy = { retries: 3, backoff: 'exponential', baseMs: 100, maxDelayMs: 1_000, deadlineMs: 5_000 }

interface StoreBatch {
  rows: Row[]
  token: string
}

export class AnomalyPublisher {
  private busOutbox: BusRecord[] = []
  private storeOutbox: StoreBatch[] = []
  private storeRows = 0
  private readonly storeBreaker: CircuitBreaker
  private readonly limit: number
  private flushing: Promise<void> | undefined
  /** The store writer while it runs (one at a time: handlers of several partitions publish concurrently). */
  private writing: Promise<void> | undefined
  private storeFailing = false

  constructor(private readonly o: PublisherOptions) {
    this.limit = o.outboxLimit ?? 10_000
    this.storeBreaker = new CircuitBreaker('detector_store', breakerDefaults.store, { clock: o.clock, registry: o.registry })
  }

  /** Records waiting for a destination that was down. */
  get pending(): { bus: number; store: number } {
    return { bus: this.busOutbox.length, store: this.storeRows }
  }

  /**
   * Sends the records to the bus (awaited: that is the record leaving the agent) and queues their rows for the
   * store, which a background writer inserts (coalescing batches) so a slow insert never holds the next batch.
   */
  async publish(events: AnomalyRecord[], token: string): Promise<void> {
    if (events.length > 0) {
      for (const e of events) {
        this.busOutbox.push({ key: anomalyKey(e), value: encodeAnomaly(e) })
        this.o.metrics.anomalies.inc({ state: e.state, tier: e.tier })
      }
      this.trimBus()
      this.storeOutbox.push({ rows: events.map(anomalyRow), token })
      this.storeRows += events.length
      this.trimStore()
      void this.writeStore()
    }
    if (this.busOutbox.length === 0) return
    const busOk = await this.flushBus()
    if (!busOk && this.storeFailing) {
      for (const e of events) {
        if (e.state === 'open') this.o.logger.error('static alert: anomaly opened while bus and store are down', { anomaly: e })
      }
    }
    const now = this.o.clock.now()
    for (const e of events) if (e.sourceMs !== undefined) this.o.metrics.anomalyLatency.observe(Math.max(0, now - e.sourceMs) / 1000)
  }

  /** Retries what the outboxes hold and waits for the store writer (the agent calls it on a timer and at stop). */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      await this.flushBus()
      await this.writeStore()
    })().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private async flushBus(): Promise<boolean> {
    if (this.busOutbox.length === 0) return true
    const records = this.busOutbox
    this.busOutbox = []
    try {
      await retry(() => this.o.bus.produce(this.o.topic, records), busRetry, { clock: this.o.clock, operation: 'produce anomaly records' })
      this.o.degradation.clear('bus_failed')
      return true
    } catch (err) {
      this.busOutbox = records.concat(this.busOutbox)
      this.trimBus()
      this.o.metrics.publishFailures.inc({ target: 'bus' })
      this.o.logger.logOnce('detector-bus-down', 'warn', 'anomaly records cannot be produced; keeping them in the outbox', { err })
      this.o.degradation.raise('bus_failed', `producing to ${this.o.topic} fails: ${(err as Error).message}`)
      return false
    }
  }

  /** Runs the store writer unless it is running; resolves when it stops (outbox empty, or the store failing). */
  private writeStore(): Promise<void> {
    this.writing ??= this.drainStore().finally(() => (this.writing = undefined))
    return this.writing
  }

  private async drainStore(): Promise<void> {
    while (this.storeOutbox.length > 0) {
      // Coalesce queued batches into one insert. Its token names the first batch and how many were taken, so a
      // retry of the same group (same rows, same order) is deduplicated by the store.
      let n = 0
      let rows = 0
      while (n < this.storeOutbox.length && (n === 0 || rows + this.storeOutbox[n]!.rows.length <= MAX_INSERT_ROWS)) rows += this.storeOutbox[n++]!.rows.length
      const group = this.storeOutbox.slice(0, n)
      const token = n === 1 ? group[0]!.token : `${group[0]!.token}+${n}`
      const all = n === 1 ? group[0]!.rows : group.flatMap((b) => b.rows)
      try {
        await this.storeBreaker.execute(() =>
          retry((_, signal) => this.o.store.insert(this.o.table, all, { dedupToken: token, signal }), retryPolicies.databaseWrite, {
            clock: this.o.clock,
            operation: `insert into ${this.o.table}`,
          }),
        )
      } catch (err) {
        this.storeFailing = true
        this.o.metrics.publishFailures.inc({ target: 'store' })
        this.o.logger.logOnce('detector-store-down', 'warn', 'anomaly rows cannot be stored; keeping them in the outbox', { err })
        this.o.degradation.raise('store_failed', `inserting into ${this.o.table} fails: ${(err as Error).message}`)
        return
      }
      // The outbox may have been trimmed meanwhile (oldest dropped, already uncounted): remove what was written.
      const written = new Set(group)
      this.storeOutbox = this.storeOutbox.filter((b) => {
        if (!written.has(b)) return true
        this.storeRows -= b.rows.length
        return false
      })
      this.storeFailing = false
      this.o.degradation.clear('store_failed')
    }
  }

  private trimBus(): void {
    const over = this.busOutbox.length - this.limit
    if (over <= 0) return
    this.busOutbox.splice(0, over)
    this.o.metrics.outboxDropped.inc({ target: 'bus' }, over)
  }

  private trimStore(): void {
    while (this.storeRows > this.limit && this.storeOutbox.length > 1) {
      const dropped = this.storeOutbox.shift()!
      this.storeRows -= dropped.rows.length
      this.o.metrics.outboxDropped.inc({ target: 'store' }, dropped.rows.length)
    }
  }
}
