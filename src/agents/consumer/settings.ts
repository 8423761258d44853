/**
 * The consumer's settings, derived once from configuration: which topics it reads (each with its own consumer
 * group), where it writes, and its batch limits.
 */
import { hostname } from 'node:os'
import type { AiopsConfig } from '../../lib/config/index.js'
import { SIGNALS, type Signal } from '../../lib/otlp/envelope.js'
import type { BatchLimits } from './batcher.js'

export interface TopicPlan {
  signal: Signal
  topic: string
  group: string
}

export interface ConsumerSettings {
  topics: TopicPlan[]
  database: string
  instance: string
  limits: BatchLimits
  insertConcurrency: number
  partitionsAtOnce: number
  retryMaxDelayMs: number
  reportIntervalMs: number
  intentRetentionDays: number
  deadLetterTopic: string
  controlTopic: string
  /** Time allowed at shutdown to store what was taken from the bus before giving the batch up (uncommitted). */
  stopBudgetMs: number
}

/**
 * The consumer group of one signal's topic: `<consumer.group>.<signal>`. One group per topic because the bus runs
 * one kafkajs consumer per topic, and kafkajs's group leader assigns only the topics it subscribed to itself:
 * three single-topic members in one group would leave two topics unassigned. Lag probes (gateway backpressure)
 * must use these names.
 */
export function consumerGroupFor(config: AiopsConfig, signal: Signal): string {
  return `${config.consumer.group}.${signal}`
}

export function consumerSettings(config: AiopsConfig): ConsumerSettings {
  const c = config.consumer
  // Two signals configured onto one topic are read once (rows are routed by each envelope's own signal).
  const seen = new Set<string>()
  const topics: TopicPlan[] = []
  for (const signal of SIGNALS) {
    const topic = config.bus.topics[signal]
    if (seen.has(topic)) continue
    seen.add(topic)
    topics.push({ signal, topic, group: consumerGroupFor(config, signal) })
  }
  return {
    topics,
    database: config.store.backend === 'chdb' ? config.store.chdb.database : config.store.clickhouse.database,
    instance: c.instance || `${hostname()}-${process.pid}`,
    limits: { ...c.batch },
    insertConcurrency: c.insertConcurrency,
    partitionsAtOnce: c.partitionsAtOnce,
    retryMaxDelayMs: c.retryMaxDelayMs,
    reportIntervalMs: c.reportIntervalMs,
    intentRetentionDays: c.intentRetentionDays,
    deadLetterTopic: config.bus.topics.deadLetter,
    controlTopic: config.bus.topics.control,
    stopBudgetMs: Math.max(1_000, Math.floor(config.shutdown.deadlineMs * 0.6)),
  }
}
