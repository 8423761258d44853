/**
 * The message bus every agent talks through. Kafka in production (kafkajs), an in-process memory bus for
 * `aiops up`. Both honour the same contract (test/integration/bus.contract.test.ts runs against each).
 */

export interface BusRecord {
  /** Partitioning key: tenant + trace id for spans, tenant + series for metrics. Same key → same partition, in order. */
  key: string
  value: Buffer
  headers?: Record<string, string>
  /** Producer timestamp in ms since the epoch; the bus fills it in when absent. */
  timestampMs?: number
}

export interface ConsumedRecord extends BusRecord {
  topic: string
  partition: number
  /** Offset as a decimal string (Kafka offsets are int64). */
  offset: string
  timestampMs: number
}

/** A batch delivered to a consumer handler: one partition, in offset order. */
export interface ConsumedBatch {
  topic: string
  partition: number
  records: ConsumedRecord[]
  /** First and last offsets of the batch (decimal strings), used e.g. for insert deduplication tokens. */
  firstOffset: string
  lastOffset: string
}

export interface ProduceOptions {
  signal?: AbortSignal
}

export interface ConsumeOptions {
  signal?: AbortSignal
  /** Start from the earliest offset when the group has no committed offset (default true). */
  fromBeginning?: boolean
  /**
   * How many partitions' batches the handler may be running at once (Kafka: kafkajs partitionsConsumedConcurrently;
   * default the bus's setting, 1). Order within a partition is kept either way. Only handlers whose state is per
   * partition should ask for more.
   */
  partitionsAtOnce?: number
}

/**
 * Offsets are committed only after the handler's promise resolves, so a handler that makes its work durable
 * before returning gets at-least-once delivery. A handler that throws leaves the batch uncommitted; it is
 * redelivered (after the bus's retry policy) and never skipped.
 */
export type BatchHandler = (batch: ConsumedBatch) => Promise<void>

export interface ConsumerHandle {
  /** Resolves when the consumer has joined its group and is fetching. */
  ready: Promise<void>
  /** Stops fetching, waits for the handler in flight, commits, leaves the group. Safe to call twice. */
  stop(): Promise<void>
}

export interface PartitionLag {
  partition: number
  /** Committed offset of the group (-1 when none) and the partition's high watermark. */
  committed: string
  high: string
  lag: number
}

export interface LagReport {
  topic: string
  group: string
  total: number
  partitions: PartitionLag[]
}

export interface Bus {
  readonly kind: 'kafka' | 'memory'
  produce(topic: string, records: BusRecord[], opts?: ProduceOptions): Promise<void>
  consume(topic: string, group: string, handler: BatchHandler, opts?: ConsumeOptions): Promise<ConsumerHandle>
  lag(topic: string, group: string): Promise<LagReport>
  ping(): Promise<HealthResult>
  close(): Promise<void>
}

export type HealthResult = { ok: true } | { ok: false; error: string }
