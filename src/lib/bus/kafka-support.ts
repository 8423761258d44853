/**
 * Pieces of the Kafka bus that are not the bus itself: loading kafkajs lazily, turning its errors into our
 * DependencyError, routing its logs into our logger, and converting messages to bus records.
 */
import type * as KafkaJsModule from 'kafkajs'
import type { IHeaders, KafkaMessage, LogEntry, logCreator } from 'kafkajs'
import { AiopsError, DependencyError } from '../errors.js'
import type { Logger } from '../telemetry/logger.js'
import type { ConsumedRecord } from './types.js'

export type KafkaJs = typeof KafkaJsModule

let loading: Promise<KafkaJs> | undefined

/** kafkajs is only loaded by processes that use the Kafka backend (`aiops up` on the memory bus never does). */
export function loadKafkajs(): Promise<KafkaJs> {
  loading ??= import('kafkajs').then((m) => (m as KafkaJs & { default?: KafkaJs }).default ?? m)
  return loading
}

interface KafkaJsErrorLike {
  name?: string
  message?: string
  type?: string
  code?: number
  retriable?: boolean
  cause?: unknown
}

/** kafkajs wraps the broker's error in `cause` (NumberOfRetriesExceeded → ProtocolError): the root decides. */
function rootCause(err: KafkaJsErrorLike): KafkaJsErrorLike {
  let e = err
  for (let i = 0; i < 5 && e.cause && typeof e.cause === 'object'; i++) e = e.cause as KafkaJsErrorLike
  return e
}

/** Broker answers that no retry can fix: credentials, ACLs, bad topic names, oversized records. */
const FATAL_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'INVALID_TOPIC_EXCEPTION',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_VERSION',
])

/**
 * Any kafkajs failure → DependencyError('kafka'). Retriable unless the broker said something a retry cannot
 * change; connection problems, timeouts and leader elections are all transient.
 */
export function kafkaError(err: unknown, operation: string): AiopsError {
  if (err instanceof AiopsError) return err
  const e = (err && typeof err === 'object' ? err : { message: String(err) }) as KafkaJsErrorLike
  const root = rootCause(e)
  const auth = e.name === 'KafkaJSSASLAuthenticationError' || root.type === 'SASL_AUTHENTICATION_FAILED'
  const fatal = auth || FATAL_TYPES.has(root.type ?? '') || e.name === 'KafkaJSInvalidTopicError'
  const retriable =
    !fatal &&
    (e.name === 'KafkaJSNumberOfRetriesExceeded' ||
      e.name === 'KafkaJSConnectionError' ||
      e.name === 'KafkaJSConnectionClosedError' ||
      e.name === 'KafkaJSRequestTimeoutError' ||
      e.name === 'KafkaJSBrokerNotFound' ||
      e.name === 'KafkaJSNoBrokerAvailableError' ||
      e.retriable === true ||
      root.retriable === true)
  const suggestions = auth
    ? ['check bus.kafka.saslMechanism, bus.kafka.username and bus.kafka.password (AIOPS_BUS_KAFKA_*)']
    : [
        'check that bus.kafka.brokers (AIOPS_BUS_KAFKA_BROKERS) lists reachable brokers',
        ...(root.type?.includes('AUTHORIZATION') ? ['grant the client ACLs for the topic and consumer group'] : []),
      ]
  return new DependencyError('kafka', `kafka ${operation} failed: ${e.message ?? 'unknown error'}`, {
    retriable,
    cause: err,
    suggestions,
    details: { operation, ...(e.name ? { kafkaError: e.name } : {}), ...(root.type ? { type: root.type } : {}) },
  })
}

const levels = ['silent', 'error', 'warn', 'warn', 'info', 'debug'] as const

/** kafkajs log levels → ours. NOTHING=0, ERROR=1, WARN=2, INFO=4, DEBUG=5. */
export function kafkaLogLevel(level: 'debug' | 'info' | 'warn' | 'error' | 'silent'): number {
  return { silent: 0, error: 1, warn: 2, info: 4, debug: 5 }[level]
}

/** Sends kafkajs's own log lines through our JSON logger so one process has one log format. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () => (entry: LogEntry) => {
    const level = levels[entry.level] ?? 'info'
    if (level === 'silent') return
    const { message, timestamp: _ts, ...fields } = entry.log
    logger[level](`kafkajs: ${message}`, { kafkaNamespace: entry.namespace, ...fields })
  }
}

function headerString(v: IHeaders[string]): string | undefined {
  const first = Array.isArray(v) ? v[0] : v
  return first === undefined ? undefined : first.toString()
}

export function toConsumedRecord(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const s = headerString(v)
    if (s !== undefined) headers[k] = s
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key?.toString('utf8') ?? '',
    value: m.value ?? Buffer.alloc(0),
    headers,
    timestampMs: Number(m.timestamp),
  }
}
