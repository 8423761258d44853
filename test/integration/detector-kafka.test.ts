/**
 * The detector on a 3-broker Kafka-protocol cluster (librdkafka mock) and a real ClickHouse server: with every
 * broker down mid-stream, it resumes once the bus is back without an alert storm — every point is scored once
 * (a redelivered batch is recognised by its timestamps and not rescored) and each injected spike opens exactly
 * one anomaly. A restarted detector resumes from the group's committed offsets: it reads only what came after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DetectorAgent } from '../../src/agents/detector/index.js'
import type { AgentContext } from '../../src/agents/types.js'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import type { ConsumerHandle } from '../../src/lib/bus/types.js'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { decodeAnomaly } from '../../src/lib/detection/records.js'
import { gaussian, rng } from '../../src/lib/detection/synthetic.js'
import type { AnomalyRecord } from '../../src/lib/detection/types.js'
import { encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { createLogger, createMetricsRegistry } from '../../src/lib/telemetry/index.js'
import type { Registry } from 'prom-client'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'

const run = randomName('d').replace(/_/g, '')
const topics = { metrics: `${run}.metrics`, anomalies: `${run}.anomalies` }
const database = randomName('aiops_det')
const SERIES = 6
const MIN = 60_000
// Recent timestamps: tables have TTLs (servers that support them drop rows older than the retention at once).
const T0 = Math.floor((Date.now() - 3 * 3_600_000) / MIN) * MIN
let kafka: KafkaMock
let server: ClickHouseServer
let store: ClickHouseStore
let testBus: KafkaBus
let watcher: ConsumerHandle
const anomalies: AnomalyRecord[] = []

const newBus = (clientId: string): KafkaBus =>
  new KafkaBus({
    brokers: kafka.brokers,
    clientId,
    idempotent: false, // the mock cluster cannot initialise an idempotent producer
    logLevel: 'silent',
    requestTimeoutMs: 3_000,
    connectionTimeoutMs: 1_000,
    consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100, redeliveryBaseMs: 200, redeliveryMaxMs: 1_000 },
  })

beforeAll(async () => {
  ;[kafka, server] = await Promise.all([startKafka({ brokers: 3, topics: [topics.metrics, topics.anomalies] }), startClickHouse()])
  store = new ClickHouseStore({ url: server.url, database, requestTimeoutMs: 5_000 })
  await applySchema(store, { database })
  testBus = newBus('detector-test')
  watcher = await testBus.consume(topics.anomalies, `${run}-watcher`, async (b) => {
    for (const r of b.records) anomalies.push(decodeAnomaly(r.value))
  })
  await watcher.ready
})
afterAll(async () => {
  await watcher?.stop()
  await testBus?.close()
  await store?.close()
  await Promise.allSettled([kafka?.stop(), server?.stop()])
})

async function context(bus: KafkaBus, registry: Registry): Promise<AgentContext> {
  const { config } = await resolveConfig({
    cwd: server.dir,
    env: {
      AIOPS_BUS_BACKEND: 'kafka',
      AIOPS_STORE_BACKEND: 'clickhouse',
      AIOPS_STORE_CLICKHOUSE_DATABASE: database,
      AIOPS_BUS_TOPICS_METRICS: topics.metrics,
      AIOPS_BUS_TOPICS_ANOMALIES: topics.anomalies,
      AIOPS_DETECTOR_GROUP: `${run}-detector`,
    },
  })
  return { config, bus, store, cache: new MemoryCache(), registry, logger: createLogger({ level: 'error' }) }
}

/** Points from..to of every series, one envelope per point, spikes at `spikeAt`. */
async function send(from: number, to: number, spikeAt: number[] = []): Promise<void> {
  const records = []
  for (let i = from; i < to; i++) {
    for (let s = 0; s < SERIES; s++) {
      const series = `jobs.duration{queue=q${s}}`
      const rand = rng(i * 100 + s)
      const row = {
        tenant_id: 'acme',
        name: 'jobs.duration',
        series,
        service: 'worker',
        ts_ns: (BigInt(T0 + i * MIN) * 1_000_000n).toString(),
        value: 50 + gaussian(rand) + (spikeAt.includes(i) ? 30 : 0),
        kind: 'gauge',
        attr_keys: [],
        attr_values: [],
      }
      records.push({ key: `acme/${series}`, value: encodeEnvelope({ signal: 'metrics', tenant: 'acme', rows: [row] }) })
    }
  }
  for (let i = 0; i < records.length; i += 50) await testBus.produce(topics.metrics, records.slice(i, i + 50))
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const T_START = Date.now()
async function until(what: string, cond: () => boolean | Promise<boolean>, limitMs = 60_000): Promise<void> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
  if (process.env.DEBUG_TIMING) console.log(`${Date.now() - T_START}ms ${what}`)
}

async function pointCount(registry: Registry, outcome: string): Promise<number> {
  const m = (await registry.getSingleMetric('aiops_detector_points_total')?.get()) as { values: Array<{ labels: { outcome?: string }; value: number }> } | undefined
  return m?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0
}

const opens = (): AnomalyRecord[] => [...new Map(anomalies.filter((a) => a.state === 'open').map((a) => [a.id, a])).values()]

describe('detector through a bus outage (3-broker Kafka mock)', () => {
  it('every broker down mid-stream: resumes, each point scored once, one anomaly per spike', { timeout: 120_000 }, async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false })
    const bus = newBus('detector-a')
    const agent = new DetectorAgent()
    await agent.start(await context(bus, registry))
    try {
      await send(0, 60, [50])
      await until('the first spikes', () => opens().length === SERIES)

      for (const id of [1, 2, 3]) await kafka.brokerDown(id)
      await sleep(4_000)
      for (const id of [1, 2, 3]) await kafka.brokerUp(id)

      await send(60, 120, [100])
      await until('every point of both phases handled', async () => (await pointCount(registry, 'scored')) + (await pointCount(registry, 'warmup')) >= 120 * SERIES)
      await until('the second spikes', () => opens().length === 2 * SERIES)
      await sleep(1_000) // room for a late duplicate to show up

      // Every point scored exactly once: whatever Kafka redelivered after the outage was recognised, not rescored.
      expect(await pointCount(registry, 'warmup')).toBe(20 * SERIES)
      expect(await pointCount(registry, 'scored')).toBe(100 * SERIES)
      const byTs = opens().map((a) => Number(BigInt(a.tsNs) / 1_000_000n - BigInt(T0)) / MIN)
      expect(byTs.sort((a, b) => a - b)).toEqual([...Array(SERIES).fill(50), ...Array(SERIES).fill(100)])
      const rows = await store.query<{ n: string }>(`SELECT count() AS n FROM ${database}.anomalies WHERE details LIKE '%"state":"open"%'`)
      expect(Number(rows[0]!.n)).toBe(2 * SERIES)
    } finally {
      await agent.stop()
      await bus.close()
    }
  })

  it('a restarted detector resumes from the committed offsets: only new points are read', { timeout: 120_000 }, async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false })
    const bus = newBus('detector-b')
    const agent = new DetectorAgent()
    await agent.start(await context(bus, registry))
    try {
      const before = opens().length
      await send(120, 150)
      await until('the new points', async () => (await pointCount(registry, 'warmup')) + (await pointCount(registry, 'scored')) >= 30 * SERIES)
      await sleep(1_000)
      const seen = (await pointCount(registry, 'warmup')) + (await pointCount(registry, 'scored')) + (await pointCount(registry, 'stale'))
      expect(seen).toBe(30 * SERIES) // nothing before offset 120 × SERIES was read again
      expect(await pointCount(registry, 'warmup')).toBe(20 * SERIES) // fresh state warms up: no storm from it
      expect(opens().length).toBe(before)
    } finally {
      await agent.stop()
      await bus.close()
    }
  })
})
