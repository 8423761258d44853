/**
 * The official OpenTelemetry JS exporters (protobuf and JSON, 0.223.x) send traces, metrics and logs to a running
 * gateway, on the memory bus and on a 3-broker Kafka mock cluster; what reaches the bus is checked record by record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import type { Bus } from '../../src/lib/bus/types.js'
import { decodeEnvelope } from '../../src/lib/otlp/envelope.js'
import type { Row } from '../../src/lib/store/types.js'
import { startGateway, type RunningGateway } from '../fixtures/otlp/gateway-harness.js'
import { exportLogs, exportMetrics, exportSpans, type Protocol } from '../fixtures/otlp/sdk-export.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'

const TOPICS = ['aiops.traces', 'aiops.metrics', 'aiops.logs', 'aiops.control']

/** Rows per topic as they arrive on the bus, with the key they came under. */
class BusTap {
  readonly rows: Record<string, Array<{ key: string; tenant: string; row: Row }>> = { 'aiops.traces': [], 'aiops.metrics': [], 'aiops.logs': [] }
  private stops: Array<() => Promise<void>> = []
  async start(bus: Bus): Promise<void> {
    for (const topic of Object.keys(this.rows)) {
      const h = await bus.consume(topic, randomName('tap'), async (b) => {
        for (const r of b.records) {
          const e = decodeEnvelope(r.value)
          for (const row of e.rows) this.rows[topic]!.push({ key: r.key, tenant: e.tenant, row })
        }
      })
      await h.ready
      this.stops.push(() => h.stop())
    }
  }
  of(topic: string, service: string): Row[] {
    return this.rows[topic]!.filter((x) => x.row.service === service).map((x) => x.row)
  }
  async stop(): Promise<void> {
    for (const s of this.stops) await s()
  }
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function exporterSuite(name: string, open: () => Promise<{ bus: Bus; close: () => Promise<void> }>, protocols: Protocol[]): void {
  describe(name, () => {
    let bus: Bus
    let close: () => Promise<void>
    let gw: RunningGateway
    const tap = new BusTap()

    beforeAll(async () => {
      ;({ bus, close } = await open())
      await tap.start(bus)
      gw = await startGateway(bus)
    })
    afterAll(async () => {
      await gw?.stop()
      await tap.stop()
      await close?.()
    })

    it.each(protocols)('traces over %s arrive intact, keyed by tenant + trace id, grouped per trace', async (protocol) => {
      const service = `svc-traces-${protocol}`
      const sent = await exportSpans(gw.url, protocol, service, 40)
      expect(sent).toHaveLength(40)
      await until(() => tap.of('aiops.traces', service).length === 40, 'spans on the bus')
      const got = new Map(tap.of('aiops.traces', service).map((r) => [r.span_id as string, r]))
      for (const s of sent) {
        const row = got.get(s.spanId)!
        expect(row, s.spanId).toBeDefined()
        expect(row).toMatchObject({ tenant_id: 'default', trace_id: s.traceId, parent_span_id: s.parentSpanId, name: s.name, status_code: s.error ? 'ERROR' : 'UNSET' })
        const attrs = Object.fromEntries((row.attr_keys as string[]).map((k, i) => [k, (row.attr_values as string[])[i]]))
        for (const [k, v] of Object.entries(s.attributes)) expect(attrs[k], k).toBe(Array.isArray(v) ? JSON.stringify(v) : String(v))
        if (s.error) expect(attrs['exception.message']).toBe('connection reset')
      }
      for (const x of tap.rows['aiops.traces']!.filter((x) => x.row.service === service)) expect(x.key).toBe(`default/${x.row.trace_id as string}`)
      expect(got.get(sent[0]!.spanId)!.resource_keys).toContain('deployment.environment')
    })

    it.each(protocols)('metrics over %s: counter, up-down counter, gauge, histogram, exponential histogram', async (protocol) => {
      const service = `svc-metrics-${protocol}`
      const expected = await exportMetrics(gw.url, protocol, service)
      const total = Object.values(expected).reduce((a, b) => a + b, 0)
      await until(() => tap.of('aiops.metrics', service).length === total, 'metric points on the bus')
      const rows = tap.of('aiops.metrics', service)
      const byName = (n: string): Row[] => rows.filter((r) => r.name === n)
      for (const [n, count] of Object.entries(expected)) expect(byName(n), n).toHaveLength(count)
      expect(byName('http.requests').map((r) => [r.kind, r.value])).toEqual([['sum', 5], ['sum', 5]])
      expect(byName('http.inflight')[0]).toMatchObject({ kind: 'sum', value: 2 })
      expect(byName('room.temperature')[0]).toMatchObject({ kind: 'gauge', value: 21.5 })
      for (const h of [...byName('http.latency'), ...byName('rpc.latency.exp')]) {
        expect(h).toMatchObject({ kind: 'histogram', count: '4', sum: 556, unit: 'ms' })
        const counts = (h.bucket_counts as string[]).map(Number)
        expect(counts.reduce((a, b) => a + b, 0)).toBe(4)
        expect(counts).toHaveLength((h.bucket_bounds as number[]).length + 1)
      }
      const routes = new Set(byName('http.requests').map((r) => r.series))
      expect(routes).toEqual(new Set(['http.requests{service.name="' + service + '",route="/a"}', 'http.requests{service.name="' + service + '",route="/b"}']))
    })

    it.each(protocols)('logs over %s arrive with body, severity and attributes', async (protocol) => {
      const service = `svc-logs-${protocol}`
      const sent = await exportLogs(gw.url, protocol, service)
      await until(() => tap.of('aiops.logs', service).length === sent.length, 'log records on the bus')
      const rows = tap.of('aiops.logs', service)
      expect(rows.map((r) => [r.body, r.severity_number]).sort()).toEqual(sent.map((s) => [s.body, s.severity]).sort())
      expect(rows.find((r) => r.severity_text === 'WARN')!.attr_keys).toEqual(expect.arrayContaining(['code.function', 'attempt']))
    })

    it('the counters add up: every item received was accepted', async () => {
      for (const signal of ['traces', 'metrics', 'logs']) {
        const received = await gw.count('received', { signal })
        expect(received, signal).toBeGreaterThan(0)
        expect(await gw.count('accepted', { signal }), signal).toBe(received)
      }
    })
  })
}

exporterSuite('official exporters → gateway → memory bus', async () => {
  const bus = new MemoryBus()
  return { bus, close: () => bus.close() }
}, ['proto', 'json'])

let kafka: KafkaMock | undefined
exporterSuite(
  'official exporters → gateway → 3-broker Kafka mock cluster',
  async () => {
    kafka = await startKafka({ brokers: 3, topics: TOPICS })
    const bus = new KafkaBus({
      brokers: kafka.brokers,
      clientId: 'aiops-gateway-test',
      idempotent: false,
      logLevel: 'silent',
      requestTimeoutMs: 5_000,
      connectionTimeoutMs: 1_000,
      consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 },
    })
    return {
      bus,
      close: async () => {
        await bus.close()
        await kafka?.stop()
      },
    }
  },
  ['proto', 'json'],
)
