/**
 * The ingest path end to end with no faults: OTLP/protobuf requests → gateway → 3-broker Kafka mock cluster →
 * consumer → ClickHouse 18.16 server, and gateway → memory bus → consumer → chDB (the `aiops up` shape). Exact
 * accounting from the gateway's counters and the store's rows, zero duplicates.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import { ChdbStore } from '../../src/lib/store/chdb.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { startGateway } from '../fixtures/otlp/gateway-harness.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'
import { expectExactAccounting, kafkaBus, metricSum, scenarioEnv, sleep, startConsumer, stream } from './pipeline-harness.js'

let kafka: KafkaMock
let server: ClickHouseServer
beforeAll(async () => {
  ;[kafka, server] = await Promise.all([startKafka({ brokers: 3 }), startClickHouse()])
})
afterAll(async () => {
  await Promise.allSettled([kafka?.stop(), server?.stop()])
})

describe('pipeline without faults', () => {
  it('OTLP → gateway → 3-broker Kafka → consumer → ClickHouse 18.16: exact accounting, zero duplicates', async () => {
    const run = randomName('pb').replace(/_/g, '')
    const database = randomName('aiops_pipe')
    const env = { ...(await scenarioEnv(run, kafka)), AIOPS_BUS_BACKEND: 'kafka', AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_DATABASE: database }
    const store = new ClickHouseStore({ url: server.url, database, requestTimeoutMs: 5_000 })
    await applySchema(store, { database })
    const bus = kafkaBus(kafka, 'pipeline-baseline')
    const consumer = await startConsumer(env, bus, store)
    const gw = await startGateway(bus, env)
    try {
      const s = stream(() => gw.url, `${run}-svc`)
      await sleep(4_000)
      const result = await s.stop()
      expect(result.statuses['200']).toBeGreaterThan(10)
      await expectExactAccounting('kafka-clickhouse', gw, store, database, `${run}-svc`, result)
      console.log(`PIPELINE kafka-clickhouse duplicatesDropped=${await metricSum(consumer.registry, 'aiops_consumer_duplicates_dropped_total')}`)
    } finally {
      await gw.stop()
      await consumer.agent.stop()
      await bus.close()
      await store.close()
    }
  })

  it('OTLP → gateway → memory bus → consumer → chDB: exact accounting, zero duplicates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aiops-pipe-chdb-'))
    const run = randomName('pm').replace(/_/g, '')
    const database = randomName('aiops_pipe')
    const env = { ...(await scenarioEnv(run)), AIOPS_BUS_BACKEND: 'memory', AIOPS_STORE_BACKEND: 'chdb', AIOPS_STORE_CHDB_DATABASE: database, AIOPS_STORE_CHDB_PATH: dir }
    const store = new ChdbStore({ path: dir, database })
    await applySchema(store, { database })
    const bus = new MemoryBus()
    const consumer = await startConsumer(env, bus, store)
    const gw = await startGateway(bus, env)
    try {
      const s = stream(() => gw.url, `${run}-svc`, 2, 20, 0)
      await sleep(2_000)
      const result = await s.stop()
      expect(result.statuses['200']).toBeGreaterThan(10)
      await expectExactAccounting('memory-chdb', gw, store, database, `${run}-svc`, result)
    } finally {
      await gw.stop()
      await consumer.agent.stop()
      await bus.close()
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
