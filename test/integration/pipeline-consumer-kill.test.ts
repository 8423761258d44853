/**
 * The consumer killed with SIGKILL during a steady OTLP stream and started again: gateway (in-process) → 3-broker
 * Kafka mock → consumer (a child process, the real agent) → ClickHouse 18.16. The restarted consumer replays the
 * killed unit from its write-ahead intent and preloads its dedup window from the intents' envelope ids: exact
 * accounting, zero duplicates. Beside the stream, 100 envelopes stored by the first consumer are written to Kafka
 * again after the restart (what a producer retry does): the second consumer drops every copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Bus } from '../../src/lib/bus/types.js'
import { encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { spanRow } from '../../bench/lib/consumer-data.js'
import { startGateway } from '../fixtures/otlp/gateway-harness.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'
import { expectExactAccounting, kafkaBus, scenarioEnv, sleep, startConsumerChild, stream, waitFor } from './pipeline-harness.js'

/**
 * What a producer retry leaves on Kafka: envelopes `from..to` (2 spans each, ids `<run>-<n>`), the same bytes
 * whenever they are produced again. Written straight to the bus, beside the gateway's stream.
 */
async function produceEnvelopes(bus: Bus, topic: string, run: string, from: number, to: number): Promise<void> {
  const ns = BigInt(Date.now()) * 1_000_000n
  const records = []
  for (let n = from; n < to; n++) {
    const rows = [spanRow(2 * n, run, 'default', ns), spanRow(2 * n + 1, run, 'default', ns)]
    records.push({ key: `default/${run}-${n % 8}`, value: encodeEnvelope({ id: `${run}-env-${n}`, signal: 'traces', tenant: 'default', rows }) })
  }
  await bus.produce(topic, records)
}

let kafka: KafkaMock
let server: ClickHouseServer
beforeAll(async () => {
  ;[kafka, server] = await Promise.all([startKafka({ brokers: 3 }), startClickHouse()])
})
afterAll(async () => {
  await Promise.allSettled([kafka?.stop(), server?.stop()])
})

describe('pipeline with the consumer killed', () => {
  it('SIGKILL mid-stream and a restart: exact accounting, zero duplicates', async () => {
    const run = randomName('kill').replace(/_/g, '')
    const database = randomName('aiops_pipe')
    const store = new ClickHouseStore({ url: server.url, database, requestTimeoutMs: 5_000 })
    await applySchema(store, { database })
    const env: Record<string, string> = {
      ...(await scenarioEnv(run, kafka)),
      AIOPS_BUS_BACKEND: 'kafka',
      AIOPS_STORE_BACKEND: 'clickhouse',
      AIOPS_STORE_CLICKHOUSE_DATABASE: database,
      BROKERS: kafka.bootstrap,
      CH_URL: server.url,
      DATABASE: database,
    }
    const bus = kafkaBus(kafka, 'pipeline-kill')
    const gw = await startGateway(bus, env)
    const first = startConsumerChild(env)
    await first.ready
    try {
      const dup = `${run}d`
      const copies = async (): Promise<{ rows: number; unique: number }> => {
        const [r] = await store.query<{ rows: string; unique: string }>(
          `SELECT count() AS rows, uniqExact(span_id) AS unique FROM ${database}.spans WHERE span_id LIKE '${dup}-%'`,
        )
        return { rows: Number(r?.rows), unique: Number(r?.unique) }
      }
      const topic = env.AIOPS_BUS_TOPICS_TRACES!
      // 100 envelopes stored by the first consumer ...
      await produceEnvelopes(bus, topic, dup, 0, 100)
      await waitFor(async () => (await copies()).unique >= 200, 'the first consumer stored the envelopes')
      const s = stream(() => gw.url, `${run}-svc`)
      await sleep(2_000)
      first.kill('SIGKILL')
      expect((await first.exited).signal).toBe('SIGKILL')
      const second = startConsumerChild(env)
      await second.ready
      // ... then written again (a producer retry) behind new ones: the restarted consumer must drop the copies.
      await produceEnvelopes(bus, topic, dup, 0, 100)
      await produceEnvelopes(bus, topic, dup, 100, 150)
      await sleep(1_000)
      const result = await s.stop()
      await waitFor(async () => (await copies()).unique >= 300, 'the second consumer stored the new envelopes')
      await sleep(1_000)
      expect(await copies()).toEqual({ rows: 300, unique: 300 })
      expect(result.statuses['200']).toBeGreaterThan(10)
      try {
        await expectExactAccounting('consumer-sigkill', gw, store, database, `${run}-svc`, result)
      } finally {
        second.kill('SIGTERM')
        const out = await second.exited
        const line = out.stdout.split('\n').find((l) => l.startsWith('SUMMARY'))
        console.log(`PIPELINE consumer-sigkill second run ${line ?? out.stderr.slice(-500)}`)
        expect(JSON.parse(line!.slice('SUMMARY '.length)).duplicatesDropped, 'the 100 re-sent envelopes were dropped').toBeGreaterThanOrEqual(100)
      }
    } finally {
      first.kill('SIGKILL')
      await gw.stop()
      await bus.close()
      await store.close()
    }
  })
})
