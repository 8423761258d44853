import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
import { KafkaBus, type KafkaBusOptions } from '../../src/lib/bus/kafka.js'
import { createLogger } from '../../src/lib/telemetry/logger.js'
import { DependencyError } from '../../src/lib/errors.js'
import { freePort } from '../support/ports.js'
import { body, busContract, rec, sequenced, waitFor } from '../support/bus-contract.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'

let kafka: KafkaMock

beforeAll(async () => {
  kafka = await startKafka({ brokers: 3 })
})
afterAll(async () => {
  await kafka?.stop()
})

/**
 * Settings for the mock cluster: no idempotent producer (the mock can't initialise one), short request
 * timeouts so a downed broker fails fast, quick heartbeats so rebalances settle in seconds.
 */
const testBusOptions = (brokers: string[], extra: Partial<KafkaBusOptions> = {}): KafkaBusOptions => ({
  brokers,
  clientId: 'aiops-test',
  idempotent: false,
  logLevel: 'silent',
  requestTimeoutMs: 5_000,
  connectionTimeoutMs: 1_000,
  consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 },
  ...extra,
})

busContract(
  'kafka (librdkafka mock cluster, 3 brokers)',
  async () => {
    const bus = new KafkaBus(testBusOptions(kafka.brokers))
    return {
      bus,
      topic: async (partitions = 4) => {
        const name = randomName('bus')
        await kafka.createTopic(name, partitions)
        return name
      },
      cleanup: () => bus.close(),
    }
  },
  { waitMs: 30_000 },
)

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Partition leaders of a topic, read with a plain kafkajs admin (Metadata goes to any broker, fine on the mock). */
async function leadersOf(topic: string): Promise<number[]> {
  const admin = new kafkajs.Kafka({ brokers: kafka.brokers, logLevel: kafkajs.logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    return meta.topics[0]!.partitions.sort((a, b) => a.partitionId - b.partitionId).map((p) => p.leader)
  } finally {
    await admin.disconnect()
  }
}

describe('KafkaBus under broker faults', () => {
  it('loses nothing and keeps per-key order through NOT_LEADER errors, a leader move and a broker outage', async () => {
    const topic = randomName('fault')
    await kafka.createTopic(topic, 6)
    const leaders = await leadersOf(topic)
    const victim = leaders[0]!
    // kafkajs's and our retries log through our logger: the lines prove the retry paths really ran.
    const lines: string[] = []
    const stream = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) })
    const bus = new KafkaBus(testBusOptions(kafka.brokers, { logLevel: 'warn', logger: createLogger({ level: 'warn', stream }) }))

    const received = new Map<string, number[]>()
    let count = 0
    const handle = await bus.consume(topic, randomName('g'), async (b) => {
      for (const r of b.records) {
        const { k, seq } = body(r)
        received.set(k, [...(received.get(k) ?? []), seq])
        count++
      }
    })
    await handle.ready

    // 2,000 records: 50 keys × seq 0..39, produced 20 at a time by one steady producer, faults injected mid-way.
    const all = sequenced(50, 40)
    const t0 = Date.now()
    const events: string[] = []
    const mark = (e: string): void => void events.push(`${Date.now() - t0}ms ${e}`)
    let outage: Promise<void> = Promise.resolve()
    for (let i = 0, call = 0; i < all.length; i += 20, call++) {
      if (call === 15) {
        await kafka.pushRequestErrors(0, [6, 6, 6]) // next 3 Produce requests fail: NOT_LEADER_OR_FOLLOWER
        mark('3 NOT_LEADER errors pushed on Produce')
      }
      if (call === 30) {
        const to = (leaders[1]! % 3) + 1
        await kafka.setLeader(topic, 1, to)
        mark(`partition 1 leader ${leaders[1]} -> ${to}`)
      }
      if (call === 45) {
        // Longer than kafkajs's own ~1.5 s of retries, so our retry policy has to carry the produce through.
        outage = (async () => {
          await kafka.brokerDown(victim)
          mark(`broker ${victim} (leader of partition 0) down`)
          await sleep(3_000)
          await kafka.brokerUp(victim)
          mark(`broker ${victim} up`)
        })()
      }
      await bus.produce(topic, all.slice(i, i + 20))
      await sleep(10)
    }
    mark('all produced')
    await outage
    const missing = (): number => all.map(body).filter(({ k, seq }) => !received.get(k)?.includes(seq)).length
    await waitFor(() => missing() === 0, 60_000, 'every record')
    mark('all received')
    await handle.stop()
    await bus.close()

    let duplicates = 0
    for (const [k, seqs] of received) {
      const firsts = seqs.filter((s, i) => seqs.indexOf(s) === i)
      duplicates += seqs.length - firsts.length
      expect(firsts, `first occurrences of ${k} in order`).toEqual([...Array(40).keys()])
    }
    expect(received.size).toBe(50)
    expect(lines.some((l) => l.includes('Response Produce') && l.includes('not the leader'))).toBe(true)
    expect(lines.some((l) => l.includes('failed; retrying'))).toBe(true)
    // Duplicates are legal here (idempotence off: a request cut by the outage may have been written).
    console.log(`${events.join('\n')}\nreceived ${count} for ${all.length} sent, ${duplicates} duplicates`)
  })
})

describe('KafkaBus without reachable brokers', () => {
  it('ping answers {ok:false} within its timeout; produce fails with a retriable DependencyError naming the config', async () => {
    const port = await freePort() // nothing listens there
    const bus = new KafkaBus({
      ...testBusOptions([`127.0.0.1:${port}`]),
      pingTimeoutMs: 1_500,
      produceRetry: { retries: 1, backoff: 'fixed', baseMs: 50, deadlineMs: 20_000 },
    })
    const t0 = Date.now()
    const ping = await bus.ping()
    expect(ping.ok).toBe(false)
    expect(Date.now() - t0).toBeLessThan(3_000)
    const err = (await bus.produce('t', [rec('k', 1)]).catch((e: unknown) => e)) as DependencyError
    expect(err).toBeInstanceOf(DependencyError)
    expect(err).toMatchObject({ dependency: 'kafka', retriable: true })
    expect(err.suggestions.join(' ')).toContain('bus.kafka.brokers')
    await bus.close()
  })
})
