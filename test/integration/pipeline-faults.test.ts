/**
 * Faults during a steady OTLP stream through gateway → 3-broker Kafka mock (producer idempotence off, so a broker
 * failure can make kafkajs write an envelope twice) → consumer → ClickHouse 18.16. Each scenario has its own topics,
 * consumer group and service name, and ends with the exact accounting and zero duplicates (pipeline-harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { startGateway } from '../fixtures/otlp/gateway-harness.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'
import { expectExactAccounting, kafkaBus, metricSum, scenarioEnv, sleep, startConsumer, stream } from './pipeline-harness.js'

let kafka: KafkaMock
let server: ClickHouseServer
let store: ClickHouseStore
const database = randomName('aiops_pipe')
beforeAll(async () => {
  ;[kafka, server] = await Promise.all([startKafka({ brokers: 3 }), startClickHouse()])
  store = new ClickHouseStore({ url: server.url, database, requestTimeoutMs: 5_000 })
  await applySchema(store, { database })
})
afterAll(async () => {
  await store?.close()
  await Promise.allSettled([kafka?.stop(), server?.stop()])
})

/** Starts a scenario's consumer and gateway, runs `fault` during a stream, stops the stream and checks the accounting. */
async function scenario(name: string, fault: (gw: { stop(): Promise<void> }) => Promise<void>): Promise<void> {
  const run = randomName(name).replace(/_/g, '')
  const env = { ...(await scenarioEnv(run, kafka)), AIOPS_BUS_BACKEND: 'kafka', AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_DATABASE: database }
  const bus = kafkaBus(kafka, `pipeline-${name}`)
  const consumer = await startConsumer(env, bus, store)
  const gw = await startGateway(bus, env)
  try {
    const s = stream(() => gw.url, `${run}-svc`)
    await sleep(1_000)
    await fault(gw)
    await sleep(1_000)
    const result = await s.stop()
    expect(result.statuses['200']).toBeGreaterThan(10)
    await expectExactAccounting(name, gw, store, database, `${run}-svc`, result)
    console.log(`PIPELINE ${name} duplicatesDropped=${await metricSum(consumer.registry, 'aiops_consumer_duplicates_dropped_total')}`)
  } finally {
    await gw.stop()
    await consumer.agent.stop()
    await bus.close()
  }
}

describe('pipeline faults during a steady stream (Kafka mock → ClickHouse 18.16)', () => {
  it('a broker set down and up', async () => {
    await scenario('broker', async () => {
      await kafka.brokerDown(2)
      await sleep(2_500)
      await kafka.brokerUp(2)
    })
  })

  it('the ClickHouse server stopped for 10 s and restarted', async () => {
    await scenario('chdown', async () => {
      await server.kill()
      await sleep(10_000)
      await server.restart()
    })
  })

  it('the gateway sent SIGTERM mid-stream: everything it acknowledged is stored', async () => {
    // agent.stop() is what the CLI's signal handler (runUntilSignal) calls on SIGTERM: stop accepting, drain, exit.
    await scenario('sigterm', (gw) => gw.stop())
  })
})
