/**
 * KafkaBus options and how they map onto kafkajs's client, producer and consumer settings, kept apart from the
 * bus so the choices (and why) are in one place.
 */
import type { KafkaConfig, ProducerConfig, SASLOptions, ICustomPartitioner } from 'kafkajs'
import type { RetryPolicy } from '../resilience/retry.js'
import type { LogLevel, Logger } from '../telemetry/logger.js'
import type { KafkaConsumerSettings } from './kafka-consumer.js'
import { kafkaLogCreator, kafkaLogLevel } from './kafka-support.js'

export interface KafkaBusOptions {
  brokers: string[]
  clientId?: string
  /**
   * Idempotent producer (default true): the broker drops duplicates from producer retries. Brokers that
   * can't initialise one (librdkafka's mock cluster) need false; one request in flight then keeps per-key order.
   */
  idempotent?: boolean
  /** Only honoured with idempotence (capped at 5, Kafka's limit for ordered idempotent delivery); default 1. */
  maxInFlightRequests?: number
  compression?: 'gzip' | 'none'
  /**
   * zlib level for gzip (default 1). kafkajs holds one gzip codec per process, so the level set by the last KafkaBus
   * created wins; one process runs one configuration, so in practice there is one level.
   */
  compressionLevel?: number
  ssl?: boolean
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  connectionTimeoutMs?: number
  requestTimeoutMs?: number
  /** kafkajs's own log lines (default warn), written through `logger`. */
  logLevel?: LogLevel
  logger?: Logger
  /** Our retry around each produce call (default retryPolicies.kafkaProduce). */
  produceRetry?: RetryPolicy
  consumer?: {
    sessionTimeoutMs?: number
    heartbeatIntervalMs?: number
    maxWaitTimeMs?: number
    partitionsConsumedConcurrently?: number
    /** First redelivery delay after a handler throws (doubles up to redeliveryMaxMs). */
    redeliveryBaseMs?: number
    redeliveryMaxMs?: number
  }
  /** Bound on ping() (default 5 s): a readiness probe must answer even when brokers hang. */
  pingTimeoutMs?: number
}

/** kafkajs's retries absorb leader elections and short blips; our retry policy covers longer outages. */
const KAFKAJS_RETRY = { retries: 5, initialRetryTime: 100, maxRetryTime: 5_000 }

export function clientConfig(o: KafkaBusOptions, log: Logger): KafkaConfig {
  return {
    clientId: o.clientId ?? 'aiops',
    brokers: o.brokers,
    ssl: o.ssl ?? false,
    ...(o.sasl ? { sasl: { ...o.sasl } as SASLOptions } : {}),
    connectionTimeout: o.connectionTimeoutMs ?? 3_000,
    requestTimeout: o.requestTimeoutMs ?? 30_000,
    retry: KAFKAJS_RETRY,
    logLevel: kafkaLogLevel(o.logLevel ?? 'warn'),
    logCreator: kafkaLogCreator(log),
  }
}

export function producerConfig(o: KafkaBusOptions, partitioner: ICustomPartitioner): ProducerConfig {
  const idempotent = o.idempotent ?? true
  return {
    idempotent,
    // Without idempotence a retried request could land after a later one: one in flight keeps key order.
    // With it, Kafka keeps order for up to 5 in flight per connection.
    maxInFlightRequests: idempotent ? Math.min(5, Math.max(1, o.maxInFlightRequests ?? 1)) : 1,
    createPartitioner: partitioner,
    // Bounded (kafkajs's idempotent default is infinite): a send that never returns would outlive our retry's
    // attempt timeout and keep retrying in the background.
    retry: KAFKAJS_RETRY,
  }
}

export function consumerSettings(o: KafkaBusOptions, fromBeginning: boolean, partitionsAtOnce?: number): KafkaConsumerSettings {
  const c = o.consumer ?? {}
  return {
    sessionTimeoutMs: c.sessionTimeoutMs ?? 30_000,
    heartbeatIntervalMs: c.heartbeatIntervalMs ?? 3_000,
    maxWaitTimeMs: c.maxWaitTimeMs ?? 500,
    partitionsConsumedConcurrently: partitionsAtOnce ?? c.partitionsConsumedConcurrently ?? 1,
    redelivery: {
      retries: Number.POSITIVE_INFINITY,
      backoff: 'exponential',
      baseMs: c.redeliveryBaseMs ?? 200,
      maxDelayMs: c.redeliveryMaxMs ?? 10_000,
      deadlineMs: Number.POSITIVE_INFINITY,
    },
    fromBeginning,
  }
}
