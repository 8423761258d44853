/**
 * Backpressure sampling end to end on the memory bus: consumers' insert-queue reports on the control topic push the
 * gateway's sample rate down; ordinary traces are then kept or dropped whole (by trace id hash), errors and slow spans
 * always kept with weight 1, kept ordinary spans weighted 1/rate; the counters add up; and once the reports stop (go
 * stale) the rate climbs back to 1. Consumer lag on the signal topics is the controller's other input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lagReader } from '../../src/agents/gateway/pressure.js'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import { controlKey, encodeControl, type ControlMessage } from '../../src/lib/control.js'
import { decodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { encodeExportTraceRequest, type OtlpSpanJson } from '../../src/lib/otlp/index.js'
import type { Row } from '../../src/lib/store/types.js'
import { startGateway, type RunningGateway } from '../fixtures/otlp/gateway-harness.js'

let bus: MemoryBus
let gw: RunningGateway
const onBus: Row[] = []
let reporting: NodeJS.Timeout | undefined

beforeAll(async () => {
  bus = new MemoryBus()
  await bus.consume('aiops.traces', 'tap', async (b) => {
    for (const r of b.records) onBus.push(...decodeEnvelope(r.value).rows)
  })
  gw = await startGateway(bus, {
    AIOPS_RESILIENCE_BACKPRESSURE_INTERVAL_MS: '100',
    AIOPS_RESILIENCE_BACKPRESSURE_INSERT_QUEUE_THRESHOLD: '1000',
    AIOPS_RESILIENCE_BACKPRESSURE_MIN_RATE: '0.1',
    AIOPS_GATEWAY_SAMPLING_SLOW_SPAN_MS: '500',
  })
})
afterAll(async () => {
  clearInterval(reporting)
  await gw?.stop()
  await bus?.close()
})

const report = (instance: string, depth: number): Promise<void> => {
  const m: ControlMessage = { type: 'insert_queue', instance, depth, tsMs: Date.now() }
  return bus.produce('aiops.control', [{ key: controlKey(m), value: encodeControl(m) }])
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const T0 = 1_700_000_000_000_000_000n
function trace(i: number, kind: 'ok' | 'error' | 'slow'): OtlpSpanJson[] {
  const traceId = (0x1000 + i).toString(16).padStart(32, '0')
  return Array.from({ length: 5 }, (_, j) => ({
    traceId,
    spanId: (i * 8 + j + 1).toString(16).padStart(16, '0'),
    name: `${kind}-${j}`,
    startTimeUnixNano: String(T0),
    // The last span of a "slow" trace takes 800 ms (over the 500 ms threshold); the others 1 ms.
    endTimeUnixNano: String(T0 + (kind === 'slow' && j === 4 ? 800_000_000n : 1_000_000n)),
    ...(kind === 'error' && j === 4 ? { status: { code: 2 } } : {}),
  }))
}

async function send(spans: OtlpSpanJson[]): Promise<void> {
  const body = encodeExportTraceRequest({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bp' } }] }, scopeSpans: [{ spans }] }] })
  const res = await fetch(`${gw.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } })
  expect(res.status).toBe(200)
}

describe('backpressure sampling at the gateway', () => {
  it('consumer lag on the signal topics is read per consumer group', async () => {
    const read = lagReader(bus, [{ topic: 'lag.test', group: 'nobody' }])
    await bus.produce('lag.test', Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, value: Buffer.from('x') })))
    expect(await read()).toBe(7)
  })

  it('insert-queue reports lower the rate; traces are kept whole or dropped whole; errors and slow spans always kept', async () => {
    expect(gw.agent.sampleRate).toBe(1)
    reporting = setInterval(() => void report('consumer-a', 600).then(() => report('consumer-b', 600)), 50)
    // Held at the floor (minRate 0.1) while the reports keep coming, so the rate is steady while we send.
    await until(() => gw.agent.sampleRate === 0.1, 'the sample rate to fall to its floor')

    const sent: OtlpSpanJson[] = []
    for (let i = 0; i < 120; i++) sent.push(...trace(i, i % 10 === 0 ? 'error' : i % 10 === 1 ? 'slow' : 'ok'))
    for (let i = 0; i < sent.length; i += 100) await send(sent.slice(i, i + 100))
    await new Promise((r) => setTimeout(r, 100))

    const kept = onBus.filter((r) => r.service === 'bp')
    const importantIds = new Set(sent.filter((s) => s.status?.code === 2 || s.name === 'slow-4').map((s) => s.spanId))
    // Errors and slow spans: all there, weight 1.
    for (const id of importantIds) expect(kept.find((r) => r.span_id === id)?.sample_weight, id).toBe(1)
    // Ordinary spans: whole traces or nothing, weighted 1/rate.
    const ordinary = kept.filter((r) => !importantIds.has(r.span_id as string))
    const perTrace = new Map<string, number>()
    for (const r of ordinary) perTrace.set(r.trace_id as string, (perTrace.get(r.trace_id as string) ?? 0) + 1)
    for (const [t, count] of perTrace) {
      const isImportantTrace = sent.some((s) => s.traceId === t && importantIds.has(s.spanId!))
      expect(count, t).toBe(isImportantTrace ? 4 : 5)
    }
    for (const r of ordinary) expect(r.sample_weight).toBeCloseTo(10, 9)
    expect(ordinary.length).toBeLessThan(sent.length - importantIds.size)

    const sampled = await gw.count('sampled_out', { signal: 'traces', reason: 'backpressure' })
    expect(sampled).toBeGreaterThan(0)
    expect(sampled).toBe(sent.length - kept.length)
    const received = await gw.count('received', { signal: 'traces' })
    expect(received).toBe((await gw.count('accepted', { signal: 'traces' })) + sampled + (await gw.count('refused', { signal: 'traces' })))
  })

  it('the rate climbs back to 1 once the reports stop and go stale', async () => {
    clearInterval(reporting)
    await until(() => gw.agent.sampleRate === 1, 'the sample rate to recover')
    const before = onBus.length
    const spans = trace(999, 'ok')
    await send(spans)
    await new Promise((r) => setTimeout(r, 50))
    expect(onBus.length - before).toBe(5)
    expect(onBus.slice(before).every((r) => r.sample_weight === 1)).toBe(true)
  })
})
