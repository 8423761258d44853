/**
 * The consumer on `aiops up`'s embedded backends: the memory bus and chDB (embedded ClickHouse 26.x). Records the
 * gateway would produce are stored exactly once; bad records go to the dead-letter topic with their reason and do
 * not hold up their partition; control messages report the insert queue and what was ingested; stop drains.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsumerAgent, DLQ_HEADERS } from '../../src/agents/consumer/index.js'
import type { AgentContext } from '../../src/agents/types.js'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import type { ConsumedRecord } from '../../src/lib/bus/types.js'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { decodeControl, type ControlMessage } from '../../src/lib/control.js'
import { encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { ChdbStore } from '../../src/lib/store/chdb.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { createLogger, createMetricsRegistry } from '../../src/lib/telemetry/index.js'
import { logRecords, metricRecords, spanRecords } from '../../bench/lib/consumer-data.js'
import { randomName } from '../support/names.js'

let dir: string
let store: ChdbStore
const database = randomName('aiops_cons')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiops-consumer-chdb-'))
  store = new ChdbStore({ path: dir, database })
  await applySchema(store, { database })
})
afterAll(async () => {
  await store?.close()
  await rm(dir, { recursive: true, force: true })
})

async function contextFor(bus: MemoryBus, env: Record<string, string>): Promise<AgentContext> {
  const { config } = await resolveConfig({ cwd: dir, env: { AIOPS_STORE_CHDB_DATABASE: database, AIOPS_STORE_CHDB_PATH: dir, ...env } })
  return {
    config,
    bus,
    store,
    cache: new MemoryCache(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    logger: createLogger({ level: 'error' }),
  }
}

const count = async (sql: string): Promise<number> => Number((await store.query<{ c: string }>(sql))[0]?.c)

async function waitFor(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('consumer on the memory bus into chDB', () => {
  it('stores every row exactly once, dead-letters bad records with their reason, and reports through control messages', async () => {
    const run = randomName('r').replace(/_/g, '')
    const topics = { traces: `${run}.traces`, metrics: `${run}.metrics`, logs: `${run}.logs`, dlq: `${run}.dlq`, control: `${run}.control` }
    const bus = new MemoryBus({ partitions: 4, maxBatchRecords: 50 })
    const ctx = await contextFor(bus, {
      AIOPS_BUS_TOPICS_TRACES: topics.traces,
      AIOPS_BUS_TOPICS_METRICS: topics.metrics,
      AIOPS_BUS_TOPICS_LOGS: topics.logs,
      AIOPS_BUS_TOPICS_DEAD_LETTER: topics.dlq,
      AIOPS_BUS_TOPICS_CONTROL: topics.control,
      AIOPS_CONSUMER_BATCH_MAX_ROWS: '700',
      AIOPS_CONSUMER_REPORT_INTERVAL_MS: '100',
    })
    const dead: ConsumedRecord[] = []
    const control: ControlMessage[] = []
    const dlqHandle = await bus.consume(topics.dlq, 'test', async (b) => void dead.push(...b.records))
    const ctlHandle = await bus.consume(topics.control, 'test', async (b) => void control.push(...b.records.map((r) => decodeControl(r.value))))

    // Bad records sit between good ones on the same keys (so the same partitions): they must not hold them up.
    const good = (from: number): ReturnType<typeof spanRecords> => spanRecords(1_000, { run, from, perRecord: 10 })
    const bad = [
      { key: 'acme/x', value: Buffer.from('{not json') },
      { key: 'acme/x', value: encodeEnvelope({ signal: 'traces', tenant: 'acme', rows: [{ span_id: 'a', start_time_ns: '1', oops: 1 }] }) },
      { key: 'acme/x', value: encodeEnvelope({ signal: 'traces', tenant: 'acme', rows: [{ start_time_ns: 'soon' }] }) },
      { key: 'acme/x', value: encodeEnvelope({ signal: 'traces', tenant: 'acme', rows: [{ span_id: 'b' }] }) },
      { key: 'acme/x', value: encodeEnvelope({ signal: 'traces', tenant: 'acme', rows: [{ tenant_id: 'evil', start_time_ns: '5' }] }) },
      { key: 'acme/x', value: Buffer.from(JSON.stringify({ v: 9, signal: 'traces', tenant: 'acme', rows: [] })) },
    ]
    await bus.produce(topics.traces, [...good(0), ...bad])
    await bus.produce(topics.metrics, metricRecords(300, { run }))
    await bus.produce(topics.logs, logRecords(200, { run }))

    const agent = new ConsumerAgent()
    await agent.start(ctx)
    // More arrives while it runs, after the bad records on the same partitions.
    await bus.produce(topics.traces, good(1_000))

    const spans = `SELECT count() AS c FROM ${database}.spans WHERE span_id LIKE '${run}-%'`
    await waitFor(async () => (await count(spans)) === 2_000, '2,000 spans stored')
    await waitFor(async () => (await count(`SELECT count() AS c FROM ${database}.metric_points WHERE series LIKE '%run=${run},%'`)) === 300, 'points')
    await waitFor(async () => (await count(`SELECT count() AS c FROM ${database}.logs WHERE body LIKE '${run} %'`)) === 200, 'logs')
    expect(await count(`SELECT uniqExact(span_id) AS c FROM ${database}.spans WHERE span_id LIKE '${run}-%'`)).toBe(2_000)

    await waitFor(() => dead.length === bad.length, 'dead letters')
    expect(dead.map((r) => r.headers?.[DLQ_HEADERS.reason]).sort()).toEqual(
      ['bad_value', 'bad_version', 'missing_column', 'not_json', 'tenant_mismatch', 'unknown_column'].sort(),
    )
    expect(dead[0]!.headers?.[DLQ_HEADERS.source]).toMatch(new RegExp(`^${topics.traces.replace('.', '\\.')}/\\d+/\\d+$`))
    expect(dead.find((r) => r.headers?.[DLQ_HEADERS.reason] === 'unknown_column')!.headers?.[DLQ_HEADERS.error]).toContain('column oops')
    expect(dead.find((r) => r.headers?.[DLQ_HEADERS.reason] === 'not_json')!.value.toString()).toBe('{not json')

    await waitFor(() => control.some((m) => m.type === 'insert_queue'), 'an insert_queue report')
    const ingested = control.filter((m): m is Extract<ControlMessage, { type: 'ingested' }> => m.type === 'ingested')
    expect(ingested.filter((m) => m.table === 'spans').reduce((n, m) => n + m.rows, 0)).toBe(2_000)
    expect(ingested.every((m) => m.tenant === 'acme' && BigInt(m.fromNs) <= BigInt(m.toNs))).toBe(true)

    await waitFor(async () => /aiops_consumer_lag\{/.test(await ctx.registry.metrics()), 'the lag gauge')
    const metrics = await ctx.registry.metrics()
    expect(metrics).toMatch(/aiops_consumer_rows_inserted_total\{table="spans"\} 2000/)
    expect(metrics).toMatch(/aiops_consumer_dlq_total\{reason="not_json"\} 1/)
    expect(metrics).toMatch(/aiops_consumer_lag\{topic="[^"]+",partition="\d"\} \d/)
    expect(metrics).toMatch(/aiops_consumer_insert_duration_seconds_count\{table="spans"\} [1-9]/)

    // Stop drains what is still on the memory bus (it dies with the process) before leaving.
    await bus.produce(topics.logs, logRecords(100, { run, from: 200 }))
    await agent.stop()
    expect(await count(`SELECT count() AS c FROM ${database}.logs WHERE body LIKE '${run} %'`)).toBe(300)
    expect((await bus.lag(topics.logs, 'aiops-consumer.logs')).total).toBe(0)
    await dlqHandle.stop()
    await ctlHandle.stop()
    await bus.close()
  })
})
