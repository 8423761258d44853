import { describe, expect, it } from 'vitest'
import type { OtlpSpanJson } from '../../src/lib/otlp/types.js'
import { nanos, Rng } from '../../src/lib/loadgen/targets/prng.js'
import { buildServiceGraph, TelemetryGenerator, type TelemetryOptions } from '../../src/lib/loadgen/targets/telemetry.js'
import { rangeFor, sqlQuery } from '../../src/lib/loadgen/targets/router.js'
import { apiQuery } from '../../src/lib/loadgen/targets/router-api.js'
import * as routerQueries from '../../src/lib/routing/api-queries.js'

const opts: TelemetryOptions = { services: 12, spansPerTrace: 20, tracesPerRequest: 50, metricsPerRequest: 48, logsPerRequest: 200, errorFraction: 0.1, slowFraction: 0.1 }
const NOW = Date.UTC(2026, 0, 1, 12)
const spansOf = (body: ReturnType<TelemetryGenerator['traces']>['body']): Array<OtlpSpanJson & { service: string }> =>
  body.resourceSpans!.flatMap((rs) => rs.scopeSpans!.flatMap((ss) => ss.spans!.map((s) => ({ ...s, service: rs.resource!.attributes![0]!.value!.stringValue! }))))

describe('generated telemetry (gateway target)', () => {
  it('builds a layered service graph: every service but the entry is called by a lower one', () => {
    const g = buildServiceGraph(30, new Rng(3))
    const callers = new Map<number, number[]>()
    g.forEach((s, i) => s.callees.forEach((c) => callers.set(c, [...(callers.get(c) ?? []), i])))
    for (let i = 1; i < 30; i++) expect(callers.get(i)!.every((c) => c < i)).toBe(true)
    expect(new Set(g.map((s) => s.name)).size).toBe(30)
  })

  it('traces are span trees: one root per trace, parents exist, children inside their parents, bounded size', () => {
    const gen = new TelemetryGenerator(opts, new Rng(11), () => NOW)
    const { body, items } = gen.traces()
    const spans = spansOf(body)
    expect(spans).toHaveLength(items)
    const byTrace = new Map<string, typeof spans>()
    for (const s of spans) byTrace.set(s.traceId!, [...(byTrace.get(s.traceId!) ?? []), s])
    expect(byTrace.size).toBe(50)
    for (const trace of byTrace.values()) {
      expect(trace.length).toBeLessThanOrEqual(opts.spansPerTrace)
      const ids = new Map(trace.map((s) => [s.spanId!, s]))
      expect(trace.filter((s) => s.parentSpanId === '')).toHaveLength(1)
      for (const s of trace) {
        expect(s.traceId).toMatch(/^[0-9a-f]{32}$/)
        expect(s.spanId).toMatch(/^[0-9a-f]{16}$/)
        if (s.parentSpanId) {
          const parent = ids.get(s.parentSpanId)!
          expect(parent).toBeDefined()
          expect(BigInt(s.startTimeUnixNano as string)).toBeGreaterThanOrEqual(BigInt(parent.startTimeUnixNano as string))
        }
        expect(BigInt(s.endTimeUnixNano as string)).toBeGreaterThan(BigInt(s.startTimeUnixNano as string))
      }
    }
  })

  it('errors propagate from the failing span to the root, at about the configured fraction', () => {
    const gen = new TelemetryGenerator({ ...opts, tracesPerRequest: 400 }, new Rng(5), () => NOW)
    const spans = spansOf(gen.traces().body)
    const roots = spans.filter((s) => s.parentSpanId === '')
    const failed = roots.filter((s) => s.status?.code === 2)
    expect(failed.length / roots.length).toBeGreaterThan(0.05)
    expect(failed.length / roots.length).toBeLessThan(0.16)
    for (const s of spans.filter((x) => x.status?.code === 2 && x.parentSpanId)) {
      const parent = spans.find((p) => p.spanId === s.parentSpanId)!
      expect(parent.status?.code).toBe(2)
    }
  })

  it('metric series follow a daily cycle (seasonality), not white noise', () => {
    const gen = new TelemetryGenerator(opts, new Rng(1), () => NOW)
    const day = Array.from({ length: 24 }, (_, h) => gen.seasonal('svc.lat', NOW + h * 3_600_000, 100))
    const max = Math.max(...day)
    const min = Math.min(...day)
    expect(max / min).toBeGreaterThan(1.6) // ±35% daily swing
    const { body, items } = gen.metrics()
    expect(items).toBe(48)
    const kinds = new Set(body.resourceMetrics!.flatMap((r) => r.scopeMetrics![0]!.metrics!.map((m) => Object.keys(m).find((k) => ['gauge', 'sum', 'histogram'].includes(k)))))
    expect(kinds).toEqual(new Set(['gauge', 'sum', 'histogram']))
  })

  it('the same seed generates the same payloads', () => {
    const a = new TelemetryGenerator(opts, new Rng(42), () => NOW)
    const b = new TelemetryGenerator(opts, new Rng(42), () => NOW)
    expect(JSON.stringify(a.logs().body)).toBe(JSON.stringify(b.logs().body))
    expect(JSON.stringify(a.traces().body)).toBe(JSON.stringify(b.traces().body))
  })

  it('nanosecond timestamps are exact decimal strings', () => {
    // Beyond 2^53 as a number; the string keeps every digit the millisecond float carries.
    expect(nanos(1_700_000_000_123.5)).toBe('1700000000123500000')
    // A fraction that rounds to a whole millisecond carries into the millisecond digits.
    expect(nanos(1_700_000_000_123 + 0.9999999)).toBe('1700000000124000000')
    expect(nanos(5)).toBe('5000000')
  })
})

describe('router queries', () => {
  it('time ranges fall in their tier: hot < 1 h old, warm 1 h – 7 d, cold > 7 d', () => {
    const rng = new Rng(9)
    for (let i = 0; i < 200; i++) {
      const hot = rangeFor('hot', rng, NOW)
      expect(hot.toMs).toBe(NOW)
      expect(NOW - hot.fromMs).toBeLessThan(3_600_000)
      const warm = rangeFor('warm', rng, NOW)
      expect(NOW - warm.toMs).toBeGreaterThanOrEqual(3_600_000)
      expect(NOW - warm.toMs).toBeLessThanOrEqual(7 * 86_400_000)
      const cold = rangeFor('cold', rng, NOW)
      expect(NOW - cold.toMs).toBeGreaterThan(7 * 86_400_000)
      expect(cold.fromMs).toBeLessThan(cold.toMs)
    }
  })

  it('SQL filters by tenant and time range and escapes quotes', () => {
    const rng = new Rng(2)
    const r = rangeFor('hot', rng, NOW)
    for (let i = 0; i < 12; i++) {
      const sql = sqlQuery(rng, r, "o'brien", ['frontend'])
      expect(sql).toContain("tenant_id = 'o\\'brien'")
      expect(sql).toMatch(/_ns >= \d+ AND \w+_ns < \d+/)
    }
  })
})

describe('router JSON API requests', () => {
  it('every generated request is one the router\'s own query builders accept', () => {
    const rng = new Rng(4)
    const builders: Record<string, (p: URLSearchParams, path: string) => unknown> = {
      'services/latency': (p) => routerQueries.serviceLatencyQuery('aiops', p, NOW),
      'operations/slow': (p) => routerQueries.slowOperationsQuery('aiops', p, NOW),
      'metrics/series': (p) => routerQueries.metricSeriesQuery('aiops', p, NOW),
      anomalies: (p) => routerQueries.anomaliesQuery('aiops', p, NOW),
      incidents: (p) => routerQueries.incidentsQuery('aiops', p, NOW),
      traces: (_p, path) => routerQueries.traceQuery('aiops', path.split('/').at(-1)!),
    }
    const seen = new Set<string>()
    for (let i = 0; i < 300; i++) {
      const req = apiQuery(rng, rangeFor(rng.pick(['hot', 'warm', 'cold'] as const), rng, NOW), ['frontend', 'check out'])
      const url = new URL(`http://router${req.path}`)
      expect(() => builders[req.endpoint]!(url.searchParams, url.pathname), req.path).not.toThrow()
      seen.add(req.endpoint)
    }
    expect([...seen].sort()).toEqual(Object.keys(builders).sort())
  })
})
