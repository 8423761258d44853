/**
 * The bus on Kafka (kafkajs). Produce is acks=all, one send per partition, with kafkajs's retries inside our
 * own retry policy (so a broker outage longer than kafkajs's second or two of retries still doesn't lose a
 * batch); consume is commit-after-handler (kafka-consumer.ts); lag and ping go to partition leaders and the
 * group coordinator, never to the controller (librdkafka's mock cluster, used in tests, has none).
 */
import type { Admin, Kafka, Message, Producer } from 'kafkajs'
import type {
  BatchHandler,
  Bus,
  BusRecord,
  ConsumeOptions,
  ConsumerHandle,
  HealthResult,
  LagReport,
  PartitionLag,
  ProduceOptions,
} from './types.js'
import { AiopsError, ConfigError, DependencyError, TimeoutError } from '../errors.js'
import { retry, retryPolicies } from '../resilience/retry.js'
import { createLogger, type Logger } from '../telemetry/logger.js'
import { kafkaError, loadKafkajs } from './kafka-support.js'
import { clientConfig, consumerSettings, producerConfig, type KafkaBusOptions } from './kafka-options.js'
import { KafkaConsumerHandle } from './kafka-consumer.js'
import { installGzipLevel } from './kafka-gzip.js'
import { partitionForKey } from './partitioner.js'

export type { KafkaBusOptions } from './kafka-options.js'

/** How long a topic's partition count is trusted before it is fetched again (Kafka's metadata.max.age.ms). */
const METADATA_MAX_AGE_MS = 5 * 60_000

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const
  private readonly log: Logger
  private kafka: Promise<Kafka> | undefined
  private producer: Promise<Producer> | undefined
  private admin: Promise<Admin> | undefined
  private readonly consumers = new Set<KafkaConsumerHandle>()
  private readonly partitionCounts = new Map<string, { count: number; at: number }>()
  private closing: Promise<void> | undefined

  constructor(private readonly opts: KafkaBusOptions) {
    if (!Array.isArray(opts.brokers) || opts.brokers.length === 0 || opts.brokers.some((b) => !/^.+:\d+$/.test(b))) {
      throw new ConfigError('bus.kafka.brokers', `brokers must be a non-empty list of host:port, got ${JSON.stringify(opts.brokers)}`, {
        suggestions: ['set bus.kafka.brokers (AIOPS_BUS_KAFKA_BROKERS), e.g. kafka-0:9092,kafka-1:9092'],
      })
    }
    this.log = (opts.logger ?? createLogger({ level: opts.logLevel ?? 'warn' })).child({ component: 'bus.kafka' })
  }

  /**
   * One kafkajs send() for the whole batch (kafkajs makes one Produce request per leader broker), then a check that
   * every partition we sent was acknowledged, re-sending those that were not. Why the check: kafkajs 2.2.4 loses
   * records when a partition's leader moves during a multi-broker send — its retry only re-sends to brokers that have
   * not answered yet, so a partition that moved onto a broker which already acknowledged its own share is dropped
   * while send() resolves (reproduced by the fault test; kafkajs PR #1798). Such a partition is missing from send()'s
   * result, so it is caught here. The earlier workaround (one send per partition) was correct but cost a request
   * per partition, serialised per broker at one request in flight: 4× the requests and the gateway's produce latency.
   * A send that throws is retried whole (partitions a broker had already taken come again; the consumer's
   * envelope-id window drops those copies).
   */
  async produce(topic: string, records: BusRecord[], opts: ProduceOptions = {}): Promise<void> {
    this.assertOpen()
    if (records.length === 0) return
    const { CompressionTypes } = await loadKafkajs()
    const compression = this.opts.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP
    const count = await this.withRetry(`metadata of ${topic}`, opts.signal, () => this.partitionCount(topic))
    const now = Date.now()
    const pending = new Map<number, Message[]>()
    for (const r of records) {
      // Kafka's default partitioner, computed here so every message names its partition explicitly.
      const partition = partitionForKey(r.key, count)
      let list = pending.get(partition)
      if (!list) pending.set(partition, (list = []))
      const timestamp = String(r.timestampMs ?? now)
      list.push({ key: r.key, value: r.value, partition, timestamp, ...(r.headers ? { headers: r.headers } : {}) })
    }
    try {
      await this.withRetry(`produce to ${topic}`, opts.signal, async () => {
        const producer = await this.connected('producer')
        const messages = pending.size === 1 ? pending.values().next().value! : [...pending.values()].flat()
        const acked = await producer.send({ topic, messages, acks: -1, compression, timeout: this.opts.requestTimeoutMs ?? 30_000 })
        for (const m of acked) if (m.errorCode === 0 && m.topicName === topic) pending.delete(m.partition)
        if (pending.size > 0) {
          throw new DependencyError('kafka', `kafka acknowledged the send but not partitions ${[...pending.keys()].join(', ')} of ${topic}; re-sending them`, {
            retriable: true,
          })
        }
      })
    } catch (err) {
      this.partitionCounts.delete(topic) // a changed partition count is one reason sends fail
      throw err
    }
  }

  private withRetry<T>(operation: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return retry(
      async () => {
        this.assertOpen()
        try {
          return await fn()
        } catch (err) {
          throw kafkaError(err, operation)
        }
      },
      this.opts.produceRetry ?? retryPolicies.kafkaProduce,
      {
        ...(signal ? { signal } : {}),
        operation: `kafka ${operation}`,
        onRetry: (err, attempt, delayMs) => this.log.warn(`kafka ${operation} failed; retrying`, { attempt, delayMs, err }),
      },
    )
  }

  /** Partitions of a topic from a Metadata request, cached like a client's metadata (metadata.max.age). */
  private async partitionCount(topic: string): Promise<number> {
    const cached = this.partitionCounts.get(topic)
    if (cached && Date.now() - cached.at < METADATA_MAX_AGE_MS) return cached.count
    const admin = await this.connected('admin')
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    const count = meta.topics.find((t) => t.name === topic)?.partitions.length ?? 0
    if (count === 0) {
      throw new DependencyError('kafka', `topic ${topic} has no partitions`, {
        retriable: true,
        suggestions: [`create topic ${topic} (aiops scaffold renders KafkaTopic manifests) or enable auto-creation`],
      })
    }
    this.partitionCounts.set(topic, { count, at: Date.now() })
    return count
  }

  async consume(topic: string, group: string, handler: BatchHandler, opts: ConsumeOptions = {}): Promise<ConsumerHandle> {
    this.assertOpen()
    const handle: KafkaConsumerHandle = new KafkaConsumerHandle(
      await this.client(),
      topic,
      group,
      handler,
      consumerSettings(this.opts, opts.fromBeginning ?? true, opts.partitionsAtOnce),
      this.log,
      () => this.consumers.delete(handle),
    )
    this.consumers.add(handle)
    try {
      await handle.start()
    } catch (err) {
      this.consumers.delete(handle)
      throw err
    }
    if (opts.signal) {
      if (opts.signal.aborted) void handle.stop()
      else opts.signal.addEventListener('abort', () => void handle.stop(), { once: true })
    }
    return handle
  }

  async lag(topic: string, group: string): Promise<LagReport> {
    this.assertOpen()
    try {
      const admin = await this.connected('admin')
      // Both go to partition leaders (ListOffsets) and the group coordinator (OffsetFetch), not the controller.
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: group, topics: [topic] }),
      ])
      const byPartition = new Map(committed.find((t) => t.topic === topic)?.partitions.map((p) => [p.partition, p.offset]))
      const partitions: PartitionLag[] = ends
        .map((e) => {
          const c = byPartition.get(e.partition) ?? '-1'
          // No commit yet: everything retained is unconsumed, as the memory bus reports it.
          const from = BigInt(c) >= 0n ? BigInt(c) : BigInt(e.low)
          const lag = Number(BigInt(e.high) > from ? BigInt(e.high) - from : 0n)
          return { partition: e.partition, committed: c, high: e.high, lag }
        })
        .sort((a, b) => a.partition - b.partition)
      return { topic, group, total: partitions.reduce((n, p) => n + p.lag, 0), partitions }
    } catch (err) {
      throw kafkaError(err, `lag of ${group} on ${topic}`)
    }
  }

  async ping(): Promise<HealthResult> {
    if (this.closing) return { ok: false, error: 'kafka bus is closed' }
    const timeoutMs = this.opts.pingTimeoutMs ?? 5_000
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        (async () => {
          const admin = await this.connected('admin')
          await admin.describeCluster() // a Metadata round trip, not a cached answer
        })(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError('kafka ping', timeoutMs)), timeoutMs)
        }),
      ])
      return { ok: true }
    } catch (err) {
      return { ok: false, error: kafkaError(err, 'ping').message }
    } finally {
      clearTimeout(timer)
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.consumers].map((c) => c.stop()))
      const clients = await Promise.allSettled([this.producer, this.admin].filter((p) => p !== undefined))
      await Promise.allSettled(clients.map((c) => (c.status === 'fulfilled' ? c.value.disconnect() : undefined)))
    })()
    return this.closing
  }

  private assertOpen(): void {
    if (this.closing) throw new AiopsError('kafka bus is closed', { code: 'AIOPS_BUS_CLOSED' })
  }

  private client(): Promise<Kafka> {
    this.kafka ??= loadKafkajs().then((kafkajs) => {
      // Our gzip codec (level, small payloads on the event loop) for producing and consuming alike.
      installGzipLevel(kafkajs, this.opts.compressionLevel ?? 1)
      return new kafkajs.Kafka(clientConfig(this.opts, this.log))
    })
    return this.kafka
  }

  /** Connected producer/admin, created once; a failed connect is forgotten so the next call tries again. */
  private connected(kind: 'producer'): Promise<Producer>
  private connected(kind: 'admin'): Promise<Admin>
  private connected(kind: 'producer' | 'admin'): Promise<Producer | Admin> {
    const existing = kind === 'producer' ? this.producer : this.admin
    if (existing) return existing
    const made = (async () => {
      const kafka = await this.client()
      const { Partitioners } = await loadKafkajs()
      const c =
        kind === 'admin'
          ? kafka.admin()
          : kafka.producer(producerConfig(this.opts, Partitioners.DefaultPartitioner))
      await c.connect()
      return c
    })()
    const remembered = made.catch((err: unknown) => {
      if (kind === 'producer' && this.producer === remembered) this.producer = undefined
      if (kind === 'admin' && this.admin === remembered) this.admin = undefined
      throw err
    })
    if (kind === 'producer') this.producer = remembered as Promise<Producer>
    else this.admin = remembered as Promise<Admin>
    return remembered
  }
}
