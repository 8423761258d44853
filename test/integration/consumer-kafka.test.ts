/**
 * The consumer in production shape: a 3-broker Kafka-protocol cluster (librdkafka mock) into the ClickHouse 18.16
 * server, the oldest store supported (no insert_deduplication_token: dedup by stamped token + row index).
 * Exactly-once storage, dead letters that do not block their partition, and a 10 s ClickHouse outage mid-stream
 * with no loss and no duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsumerAgent, DLQ_HEADERS } from '../../src/agents/consumer/index.js'
import type { AgentContext } from '../../src/agents/types.js'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import type { ConsumedRecord } from '../../src/lib/bus/types.js'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { createLogger, createMetricsRegistry } from '../../src/lib/telemetry/index.js'
import { spanRecords } from '../../bench/lib/consumer-data.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'

const run = randomName('k').replace(/_/g, '')
const topics = { traces: `${run}.traces`, metrics: `${run}.metrics`, logs: `${run}.logs`, dlq: `${run}.dlq`, control: `${run}.control` }
const database = randomName('aiops_cons')
let kafka: KafkaMock
let server: ClickHouseServer
let store: ClickHouseStore
let bus: KafkaBus

beforeAll(async () => {
  ;[kafka, server] = await Promise.all([
    startKafka({ brokers: 3, topics: [{ name: topics.traces, partitions: 4 }, topics.metrics, topics.logs, topics.dlq, topics.control] }),
    startClickHouse(),
  ])
  store = new ClickHouseStore({ url: server.url, database, requestTimeoutMs: 5_000 })
  await applySchema(store, { database })
  bus = new KafkaBus({
    brokers: kafka.brokers,
    clientId: 'aiops-consumer-test',
    idempotent: false, // the mock cluster cannot initialise an idempotent producer
    logLevel: 'silent',
    requestTimeoutMs: 5_000,
    connectionTimeoutMs: 1_000,
    // A session long enough to outlast the 10 s outage while the handler holds its batch.
    consumer: { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 },
  })
})
afterAll(async () => {
  await bus?.close()
  await store?.close()
  await Promise.allSettled([kafka?.stop(), server?.stop()])
})

async function contextFor(group: string): Promise<AgentContext> {
  const { config } = await resolveConfig({
    cwd: server.dir,
    env: {
      AIOPS_BUS_BACKEND: 'kafka',
      AIOPS_STORE_BACKEND: 'clickhouse',
      AIOPS_STORE_CLICKHOUSE_DATABASE: database,
      AIOPS_BUS_TOPICS_TRACES: topics.traces,
      AIOPS_BUS_TOPICS_METRICS: topics.metrics,
      AIOPS_BUS_TOPICS_LOGS: topics.logs,
      AIOPS_BUS_TOPICS_DEAD_LETTER: topics.dlq,
      AIOPS_BUS_TOPICS_CONTROL: topics.control,
      AIOPS_CONSUMER_GROUP: group,
      AIOPS_CONSUMER_RETRY_MAX_DELAY_MS: '1000',
      AIOPS_CONSUMER_REPORT_INTERVAL_MS: '500',
    },
  })
  return { config, bus, store, cache: new MemoryCache(), registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'error' }) }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
async function waitFor(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** Stored rows of a run and how many distinct span ids they hold (equal when there are no duplicates). */
async function stored(prefix: string): Promise<{ rows: number; unique: number }> {
  const [r] = await store.query<{ rows: string; unique: string }>(
    `SELECT count() AS rows, uniqExact(span_id) AS unique FROM ${database}.spans WHERE span_id LIKE '${prefix}-%'`,
  )
  return { rows: Number(r?.rows), unique: Number(r?.unique) }
}

describe('consumer on Kafka into ClickHouse 18.16', () => {
  it('stores each row once and dead-letters bad records without blocking their partition', async () => {
    const prefix = `${run}a`
    const ctx = await contextFor(randomName('g'))
    const dead: ConsumedRecord[] = []
    const dlq = await bus.consume(topics.dlq, randomName('dlq'), async (b) => void dead.push(...b.records))
    const agent = new ConsumerAgent()
    await agent.start(ctx)
    try {
      // Bad records share the good records' key, so they sit in the same partition between them.
      const key = 'acme/badkey'
      const good = spanRecords(3_000, { run: prefix, perRecord: 10 }).map((r, i) => ({ ...r, key: i % 2 ? key : r.key }))
      const bad = [
        { key, value: Buffer.from('\u0000\u0001 random bytes') },
        { key, value: encodeEnvelope({ signal: 'traces', tenant: 'acme', rows: [{ start_time_ns: '1', duration_ns: -5 }] }) },
      ]
      await bus.produce(topics.traces, [...good.slice(0, 150), bad[0]!, ...good.slice(150, 200), bad[1]!, ...good.slice(200)])
      await waitFor(async () => (await stored(prefix)).rows >= 3_000, '3,000 spans')
      await waitFor(() => dead.length >= 2, 'two dead letters')
      expect(await stored(prefix)).toEqual({ rows: 3_000, unique: 3_000 })
      expect(dead.map((d) => d.headers?.[DLQ_HEADERS.reason]).sort()).toEqual(['bad_value', 'not_json'])
      expect(dead.find((d) => d.headers?.[DLQ_HEADERS.reason] === 'bad_value')!.headers?.[DLQ_HEADERS.error]).toContain('duration_ns')
      // 18.16 stores the dedup stamp with each row: one token per unit, with the unit's offset range in it.
      const tokens = await store.query<{ t: string }>(`SELECT DISTINCT dedup_token AS t FROM ${database}.spans WHERE span_id LIKE '${prefix}-%'`)
      expect(tokens.every((t) => new RegExp(`/${topics.traces.replace('.', '\\.')}/\\d+/\\d+-\\d+~[0-9a-f]+/spans$`).test(t.t))).toBe(true)
    } finally {
      await agent.stop()
      await dlq.stop()
    }
  })

  it('holds batches through a 10 s ClickHouse outage mid-stream, then stores everything exactly once', async () => {
    const prefix = `${run}b`
    const ctx = await contextFor(randomName('g'))
    const agent = new ConsumerAgent()
    await agent.start(ctx)
    let produced = 0
    let producing = true
    // A steady stream of 1,000 spans every 500 ms (records of 50, as a gateway groups a request's spans), through
    // the outage and after it. Kept small: the mock cluster retains only ~5 MB per partition (it drops the oldest
    // record batches beyond that), and the backlog built up during the outage must fit.
    const producer = (async () => {
      while (producing) {
        await bus.produce(topics.traces, spanRecords(1_000, { run: prefix, from: produced, perRecord: 50 }))
        produced += 1_000
        await sleep(500)
      }
    })()
    try {
      await waitFor(async () => (await stored(prefix)).rows > 1_000, 'the stream to be flowing')
      await server.kill()
      const down = Date.now()
      await waitFor(async () => !(await agent.checks().consumer!()).ok, 'readiness to report the store down', 20_000)
      await sleep(Math.max(0, 10_000 - (Date.now() - down)))
      await server.restart()
      await sleep(2_000)
      producing = false
      await producer
      await waitFor(async () => (await stored(prefix)).rows >= produced, `${produced} spans after the restart`, 90_000)
      expect(await stored(prefix)).toEqual({ rows: produced, unique: produced })
      expect(await agent.checks().consumer!()).toEqual({ ok: true })
      // The first write of a flush to fail is its intents record (written before any insert).
      expect(await ctx.registry.metrics()).toMatch(/aiops_consumer_insert_retries_total\{table="\w+"\} [1-9]/)
    } finally {
      producing = false
      await producer
      await agent.stop()
    }
  })
})
