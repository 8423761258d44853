/**
 * The gateway in front of a 3-broker Kafka mock cluster while the bus fails: a steady stream of requests keeps going
 * through a broker set down and up, through all brokers down (the buffer absorbs, then 503 when full), with the disk
 * spool (acknowledged from disk, replayed when Kafka returns), and through SIGTERM mid-stream (drains what it
 * accepted). In every case: every span acknowledged with 200 is on Kafka, nothing refused is, and the item counters
 * add up exactly.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import { decodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { encodeExportTraceRequest } from '../../src/lib/otlp/index.js'
import { startGateway, type RunningGateway } from '../fixtures/otlp/gateway-harness.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'

let kafka: KafkaMock
let bus: KafkaBus
const onKafka = new Map<string, number>()

beforeAll(async () => {
  kafka = await startKafka({ brokers: 3, topics: ['aiops.traces', 'aiops.metrics', 'aiops.logs', 'aiops.control'] })
  bus = new KafkaBus({
    brokers: kafka.brokers,
    clientId: 'aiops-gateway-outage',
    idempotent: false,
    logLevel: 'silent',
    requestTimeoutMs: 3_000,
    connectionTimeoutMs: 500,
    consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 },
  })
  const tap = await bus.consume('aiops.traces', randomName('tap'), async (b) => {
    for (const r of b.records) for (const row of decodeEnvelope(r.value).rows) onKafka.set(row.span_id as string, (onKafka.get(row.span_id as string) ?? 0) + 1)
  })
  await tap.ready
})
afterAll(async () => {
  await bus?.close()
  await kafka?.stop()
})

let next = 1
/** One request of `size` spans, each with a unique span id. */
function batch(size: number): { ids: string[]; body: Uint8Array } {
  const ids: string[] = []
  const spans = Array.from({ length: size }, () => {
    const n = next++
    const spanId = n.toString(16).padStart(16, '0')
    ids.push(spanId)
    return { traceId: (Math.floor(n / 10) + 1).toString(16).padStart(32, '0'), spanId, name: 'op', startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000' }
  })
  return { ids, body: encodeExportTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] }) }
}

interface StreamResult {
  acked: string[]
  statuses: Record<string, number>
}

/** `senders` clients each posting requests back to back until stop() is called. */
function stream(gw: RunningGateway, senders: number, size = 20): { stop: () => Promise<StreamResult> } {
  let running = true
  const acked: string[] = []
  const statuses: Record<string, number> = {}
  const loops = Array.from({ length: senders }, async () => {
    while (running) {
      const { ids, body } = batch(size)
      let status = 'error'
      try {
        const res = await fetch(`${gw.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } })
        status = String(res.status)
        await res.arrayBuffer()
        if (res.status === 200) acked.push(...ids)
        else if (res.status === 503 || res.status === 429) expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
      } catch {
        status = 'connection' // refused after the listener closed (SIGTERM)
        await new Promise((r) => setTimeout(r, 20))
      }
      statuses[status] = (statuses[status] ?? 0) + 1
      if (status !== '200') await new Promise((r) => setTimeout(r, 50))
    }
  })
  return {
    stop: async () => {
      running = false
      await Promise.all(loops)
      return { acked, statuses }
    },
  }
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Every acknowledged span is on Kafka and the counters add up. Without the spool the gateway never sends a record
 * twice: its produce calls ride out these outages inside the bus's retry policy, so nothing is re-queued. (Kafka-level
 * duplicates can still appear here: the mock cluster cannot run an idempotent producer, so a request cut by a broker
 * going down may have been written before kafkajs retries it — see test/integration/bus-kafka.test.ts.)
 */
async function expectAccounting(gw: RunningGateway, acked: string[], spool = false): Promise<void> {
  await until(() => acked.every((id) => onKafka.has(id)), 'every acknowledged span on Kafka')
  if (!spool) expect(await gw.count('requeued')).toBe(0)
  const received = await gw.count('received', { signal: 'traces' })
  const accepted = await gw.count('accepted', { signal: 'traces' })
  const refused = await gw.count('refused', { signal: 'traces' })
  expect(received).toBe(accepted + refused + (await gw.count('sampled_out', { signal: 'traces' })))
  expect(accepted).toBe(acked.length)
}

describe('gateway through bus outages (3-broker Kafka mock)', () => {
  it('a broker set down and up mid-stream: every acknowledged span reaches Kafka', async () => {
    const gw = await startGateway(bus)
    try {
      const s = stream(gw, 4)
      await sleep(800)
      await kafka.brokerDown(2)
      await sleep(2500)
      await kafka.brokerUp(2)
      await sleep(1500)
      const { acked, statuses } = await s.stop()
      expect(statuses['200']).toBeGreaterThan(10)
      await expectAccounting(gw, acked)
    } finally {
      await gw.stop()
    }
  })

  it('all brokers down: the buffer absorbs, then refuses with 503 + Retry-After; nothing acknowledged is lost', async () => {
    // Small enough that the 8 senders' blocked requests overflow it: a 20-span request is ~1.3 KB of v3 envelopes
    // (it was ~4 KB in v2's JSON, when this was 16 KB).
    const gw = await startGateway(bus, { AIOPS_GATEWAY_BUFFER_MAX_BYTES: String(4 * 1024) })
    try {
      const s = stream(gw, 8)
      await sleep(500)
      for (const id of [1, 2, 3]) await kafka.brokerDown(id)
      await sleep(3000)
      const refusedWhileDown = await gw.count('refused', { signal: 'traces', reason: 'buffer_full' })
      for (const id of [1, 2, 3]) await kafka.brokerUp(id)
      await sleep(2000)
      const { acked, statuses } = await s.stop()
      expect(refusedWhileDown).toBeGreaterThan(0)
      expect(statuses['503']).toBeGreaterThan(0)
      await expectAccounting(gw, acked)
    } finally {
      await gw.stop()
    }
  })

  it('with the disk spool: requests are acknowledged from disk during the outage and replayed after', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'aiops-gw-spool-'))
    const gw = await startGateway(bus, { AIOPS_GATEWAY_SPOOL_ENABLED: 'true', AIOPS_GATEWAY_SPOOL_DIR: dir, AIOPS_GATEWAY_SPOOL_AFTER_MS: '200' })
    try {
      for (const id of [1, 2, 3]) await kafka.brokerDown(id)
      const s = stream(gw, 4)
      await sleep(2500)
      const spooled = await gw.count('spooled', { signal: 'traces' })
      for (const id of [1, 2, 3]) await kafka.brokerUp(id)
      await sleep(1000)
      const { acked, statuses } = await s.stop()
      expect(spooled).toBeGreaterThan(0)
      expect(statuses['200']).toBeGreaterThan(0)
      await expectAccounting(gw, acked, true)
    } finally {
      await gw.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('SIGTERM mid-stream: stops accepting, drains what it accepted, every acknowledged span is on Kafka', async () => {
    const gw = await startGateway(bus)
    const s = stream(gw, 6)
    await sleep(1000)
    await gw.stop()
    await sleep(300) // the clients keep sending after the stop: those requests must be refused, not accepted
    const { acked, statuses } = await s.stop()
    expect(statuses['200']).toBeGreaterThan(0)
    expect((statuses['503'] ?? 0) + (statuses.connection ?? 0)).toBeGreaterThan(0)
    await expectAccounting(gw, acked)
  })
})
