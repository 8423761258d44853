/**
 * One consumer-group member on Kafka with the bus contract: the handler sees one partition's batch at a time,
 * offsets are committed only after it resolves, and a batch whose handler throws is rewound (seek) and
 * delivered again after a backoff — never skipped. kafkajs's auto-commit and auto-resolve are off because
 * both would commit records the handler never finished.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { BatchHandler, ConsumerHandle } from './types.js'
import { backoffDelay, type RetryPolicy } from '../resilience/retry.js'
import { systemClock } from '../resilience/clock.js'
import type { Logger } from '../telemetry/logger.js'
import { kafkaError, toConsumedRecord } from './kafka-support.js'

export interface KafkaConsumerSettings {
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  /** How long a fetch waits on the broker for data; bounds delivery latency on a quiet topic. */
  maxWaitTimeMs: number
  partitionsConsumedConcurrently: number
  /** Backoff between redeliveries of a failed batch, and between restarts after a crash. */
  redelivery: RetryPolicy
  fromBeginning: boolean
}

export class KafkaConsumerHandle implements ConsumerHandle {
  readonly ready: Promise<void>
  private markReady!: () => void
  private consumer: Consumer | undefined
  private stopped = false
  private stopping: Promise<void> | undefined
  private restarting: Promise<void> | undefined
  private readonly stopCtl = new AbortController()
  /** Consecutive failures per partition, for the redelivery backoff. */
  private readonly failures = new Map<number, number>()

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly group: string,
    private readonly handler: BatchHandler,
    private readonly settings: KafkaConsumerSettings,
    private readonly log: Logger,
    private readonly onStopped: () => void,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve))
  }

  /** Connects, subscribes and starts fetching; throws a DependencyError when the brokers can't be reached. */
  async start(): Promise<void> {
    const s = this.settings
    const c = this.kafka.consumer({
      groupId: this.group,
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      maxWaitTimeInMs: s.maxWaitTimeMs,
      // kafkajs restarts itself after retriable crashes; non-retriable ones arrive as CRASH{restart:false}.
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: async () => true },
    })
    this.consumer = c
    c.on(c.events.GROUP_JOIN, () => this.markReady())
    c.on(c.events.CRASH, (ev) => {
      if (!ev.payload.restart && !this.stopped) this.restarting ??= this.restart(ev.payload.error)
    })
    try {
      await c.connect()
      await c.subscribe({ topics: [this.topic], fromBeginning: s.fromBeginning })
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: s.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.eachBatch(c, payload),
      })
    } catch (err) {
      await c.disconnect().catch(() => {})
      throw kafkaError(err, `consume from ${this.topic}`)
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true
      this.stopCtl.abort()
      this.markReady()
      await this.restarting
      try {
        // Waits for the batch in flight (its commit included), then leaves the group so the partitions move.
        await this.consumer?.disconnect()
      } catch (err) {
        this.log.warn('kafka consumer disconnect failed', { topic: this.topic, group: this.group, err })
      }
      this.onStopped()
    })()
    return this.stopping
  }

  private async eachBatch(c: Consumer, p: EachBatchPayload): Promise<void> {
    const { batch } = p
    if (batch.messages.length === 0 || !p.isRunning() || p.isStale()) return
    const partition = batch.partition
    const records = batch.messages.map((m) => toConsumedRecord(this.topic, partition, m))
    const firstOffset = records[0]!.offset
    const lastOffset = records[records.length - 1]!.offset
    try {
      await this.handler({ topic: this.topic, partition, records, firstOffset, lastOffset })
    } catch (err) {
      const attempt = (this.failures.get(partition) ?? 0) + 1
      this.failures.set(partition, attempt)
      const delayMs = backoffDelay(this.settings.redelivery, attempt)
      this.log.warn('bus handler failed; batch will be redelivered', {
        topic: this.topic,
        group: this.group,
        partition,
        firstOffset,
        attempt,
        delayMs,
        err,
      })
      // Nothing was resolved or committed; the seek makes the next fetch start at this batch again (kafkajs
      // may already hold later records of this partition, which the seek marks stale).
      c.seek({ topic: this.topic, partition, offset: firstOffset })
      await this.pause(delayMs, p.heartbeat)
      return
    }
    this.failures.delete(partition)
    p.resolveOffset(lastOffset)
    // An explicit commit even while stopping: kafkajs's consumer.commitOffsets() is a no-op once stop() began,
    // the payload's commit goes straight to the coordinator.
    await p.commitOffsetsIfNecessary({
      topics: [{ topic: this.topic, partitions: [{ partition, offset: (BigInt(lastOffset) + 1n).toString() }] }],
    })
    await p.heartbeat()
  }

  /** Sleeps in heartbeat-sized steps so a long backoff doesn't get us evicted from the group. */
  private async pause(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms
    while (!this.stopped) {
      const left = until - Date.now()
      if (left <= 0) return
      try {
        await systemClock.sleep(Math.min(left, this.settings.heartbeatIntervalMs), this.stopCtl.signal)
      } catch {
        return // stopped
      }
      await heartbeat()
    }
  }

  /** After a crash kafkajs won't restart from: a fresh consumer, with backoff, until it runs or we stop. */
  private async restart(cause: Error): Promise<void> {
    this.log.error('kafka consumer crashed; restarting it', { topic: this.topic, group: this.group, err: cause })
    try {
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          await systemClock.sleep(backoffDelay(this.settings.redelivery, attempt), this.stopCtl.signal)
        } catch {
          return
        }
        await this.consumer?.disconnect().catch(() => {})
        try {
          await this.start()
          return
        } catch (err) {
          this.log.warn('kafka consumer restart failed', { topic: this.topic, group: this.group, attempt, err })
        }
      }
    } finally {
      this.restarting = undefined
    }
  }
}
