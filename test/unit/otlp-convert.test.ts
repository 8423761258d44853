import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  decodeLogsRequestJson,
  decodeMetricsRequestJson,
  decodeTraceRequestJson,
  exponentialToExplicit,
  logRows,
  metricRows,
  rejectionMessage,
  seriesKey,
  traceRows,
  type OtlpSpanJson,
} from '../../src/lib/otlp/index.js'
import { TABLES } from '../../src/lib/store/tables.js'
import { durationNs } from '../../src/lib/otlp/convert-common.js'

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/otlp/${name}`, import.meta.url))
const columns = (table: string): string[] => TABLES.find((t) => t.name === table)!.columns.map((c) => c.name).sort()

const T = '0102030405060708090a0b0c0d0e0f10'
const good: OtlpSpanJson = { traceId: T, spanId: '0102030405060708', name: 'GET /', startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000250000001' }
const spans = (...list: OtlpSpanJson[]) =>
  traceRows(decodeTraceRequestJson(JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }, scopeSpans: [{ spans: list }] }] })), { tenant: 'acme' })

describe('spans → rows', () => {
  it('the spec example becomes one row with exactly the spans table columns', () => {
    const c = traceRows(decodeTraceRequestJson(fixture('trace.json')), { tenant: 'acme' })
    expect(c).toMatchObject({ received: 1, rejected: 0 })
    const row = c.rows[0]!
    expect(Object.keys(row).sort()).toEqual(columns('spans'))
    expect(row).toMatchObject({
      tenant_id: 'acme', trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174', parent_span_id: 'eee19b7ec3c1b173',
      service: 'my.service', kind: 'SERVER', duration_ns: '1000000000', status_code: 'UNSET', http_status: 0, sample_weight: 1,
      resource_keys: ['service.name'], resource_values: ['my.service'],
    })
    expect(row.attr_keys).toEqual(['my.span.attr', 'otel.scope.name', 'otel.scope.version', 'otel.scope.my.scope.attribute'])
  })

  it('durations are exact to the nanosecond without BigInt', () => {
    expect(spans(good).rows[0]!.duration_ns).toBe('250000001')
    expect(durationNs('1700000000999999999', '1700000001000000000')).toBe(1)
    expect(durationNs('5', '17')).toBe(12)
  })

  it('status, HTTP status (new and old semconv), exceptions, event and link counts', () => {
    const [a, b] = spans(
      {
        ...good,
        status: { code: 2, message: 'boom' },
        attributes: [{ key: 'http.response.status_code', value: { intValue: 503 } }],
        events: [{ name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'TimeoutError' } }, { key: 'exception.message', value: { stringValue: 'slow db' } }] }],
        links: [{ traceId: T, spanId: '0102030405060709' }],
      },
      { ...good, spanId: '0102030405060709', kind: 0, attributes: [{ key: 'http.status_code', value: { stringValue: '404' } }] },
    ).rows
    expect(a).toMatchObject({ status_code: 'ERROR', status_message: 'boom', http_status: 503 })
    expect(a!.attr_keys).toEqual(['http.response.status_code', 'otel.events.count', 'exception.type', 'exception.message', 'otel.links.count'])
    expect(a!.attr_values).toEqual(['503', '1', 'TimeoutError', 'slow db', '1'])
    expect(b).toMatchObject({ http_status: 404, kind: 'INTERNAL' })
  })

  it.each([
    ['traceId of 15 bytes', { traceId: T.slice(2) }, /traceId must be 16 bytes \(32 hex characters\), got 15 bytes/],
    ['non-hex traceId', { traceId: 'zz' + T.slice(2) }, /traceId must be 16 bytes.*non-hex/],
    ['all-zero traceId', { traceId: '0'.repeat(32) }, /all zeros/],
    ['missing traceId', { traceId: undefined }, /traceId is missing/],
    ['spanId of 7 bytes', { spanId: '01020304050607' }, /spanId must be 8 bytes/],
    ['bad parentSpanId', { parentSpanId: 'abc' }, /parentSpanId must be 8 bytes/],
    ['missing name', { name: '' }, /name is missing/],
    ['missing start time', { startTimeUnixNano: undefined }, /startTimeUnixNano is missing/],
    ['end before start', { endTimeUnixNano: '1699999999999999999' }, /endTimeUnixNano .* is before startTimeUnixNano/],
    ['time after 2106', { startTimeUnixNano: '5000000000000000000', endTimeUnixNano: '5000000000000000001' }, /after 2106/],
  ])('%s is rejected with its path and reason; the other spans are kept', (_name, patch, reason) => {
    const c = spans(good, { ...good, ...patch } as OtlpSpanJson)
    expect(c).toMatchObject({ received: 2, rejected: 1 })
    expect(c.rows).toHaveLength(1)
    expect(c.messages[0]).toMatch(/^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]: /)
    expect(c.messages[0]).toMatch(reason)
    expect(rejectionMessage(c, 'spans')).toMatch(/^1 spans rejected: /)
  })

  it('an all-zero parent span id means a root span', () => {
    expect(spans({ ...good, parentSpanId: '0000000000000000' }).rows[0]!.parent_span_id).toBe('')
  })

  it('lists at most five reasons and counts the rest', () => {
    const c = spans(...Array.from({ length: 8 }, () => ({ ...good, name: '' })))
    expect(c.messages).toHaveLength(5)
    expect(rejectionMessage(c, 'spans')).toMatch(/^8 spans rejected: .*; and 3 more$/)
  })
})

describe('metric points → rows', () => {
  it('one row per data point of every type, with the metric_points columns', () => {
    const c = metricRows(decodeMetricsRequestJson(fixture('metrics-exponential.json')), { tenant: 't' })
    expect(c).toMatchObject({ received: 4, rejected: 0 })
    for (const row of c.rows) expect(Object.keys(row).sort()).toEqual(columns('metric_points'))
    const [sum, gauge, hist, exp] = c.rows
    expect(sum).toMatchObject({ kind: 'sum', value: 5, series: 'my.counter{service.name="my.service",my.counter.attr="some value"}' })
    expect(sum!.attr_keys).toEqual(['my.counter.attr', 'otel.metric.temporality', 'otel.metric.monotonic'])
    expect(sum!.attr_values).toEqual(['some value', 'delta', 'true'])
    expect(gauge).toMatchObject({ kind: 'gauge', value: 10, ts_ns: '1544712660300000000', unit: '1' })
    expect(hist).toMatchObject({ kind: 'histogram', count: '2', sum: 2, value: 1, bucket_bounds: [1], bucket_counts: ['1', '1'] })
    // zero bucket [0,0] holds 1, positive buckets (offset 1) (2,4] → 0 and (4,8] → 2.
    expect(exp).toMatchObject({ kind: 'histogram', count: '3', sum: 10, bucket_bounds: [0, 4], bucket_counts: ['1', '0', '2'] })
  })

  it('summaries keep count and sum; quantiles become attributes', () => {
    const body = JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'rpc', summary: { dataPoints: [{ timeUnixNano: 1, count: 4, sum: 10, quantileValues: [{ quantile: 0.5, value: 2 }, { quantile: 0.99, value: 7 }] }] } }] }] }] })
    const row = metricRows(decodeMetricsRequestJson(body), { tenant: 't' }).rows[0]!
    expect(row).toMatchObject({ kind: 'summary', count: '4', sum: 10, value: 2.5, attr_keys: ['summary.quantile.0.5', 'summary.quantile.0.99'], attr_values: ['2', '7'] })
  })

  it('exponential histograms convert exactly, negatives and merged bounds included', () => {
    const base = { attributes: [], startTimeUnixNano: '0', timeUnixNano: '1', count: '6', flags: 0, exemplars: [] }
    // scale 0 → base 2. negative offset 0: bucket 0 = [-2,-1), bucket 1 = [-4,-2). zero threshold 0.5.
    expect(exponentialToExplicit({ ...base, scale: 0, zeroCount: '1', zeroThreshold: 0.5, positive: { offset: 0, bucketCounts: ['2'] }, negative: { offset: 0, bucketCounts: ['1', '2'] } })).toEqual({
      bounds: [-2, -1, 0.5],
      counts: ['2', '1', '1', '2'],
    })
    // scale 1 → base √2: positive uppers √2, 2, 2√2. A zero threshold of 2 covers the first two, which fold into it.
    expect(exponentialToExplicit({ ...base, scale: 1, zeroCount: '1', zeroThreshold: 2, positive: { offset: 0, bucketCounts: ['3', '4', '5'] }, negative: { offset: 0, bucketCounts: [] } })).toEqual({
      bounds: [2],
      counts: ['8', '5'],
    })
    expect(exponentialToExplicit({ ...base, scale: 0, zeroCount: '0', zeroThreshold: 0, positive: { offset: 0, bucketCounts: [] }, negative: { offset: 0, bucketCounts: [] } })).toEqual({ bounds: [], counts: ['0'] })
  })

  it('invalid points are rejected one by one', () => {
    const body = JSON.stringify({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [
        { name: '', gauge: { dataPoints: [{ timeUnixNano: 1, asDouble: 1 }] } },
        { name: 'g', gauge: { dataPoints: [{ timeUnixNano: 1 }, { asDouble: 1 }, { timeUnixNano: 1, asInt: 3 }] } },
        { name: 'h', histogram: { dataPoints: [{ timeUnixNano: 1, bucketCounts: [1, 2], explicitBounds: [1, 2] }, { timeUnixNano: 1, bucketCounts: [1, 2, 3], explicitBounds: [2, 1] }] } },
        { name: 'e', exponentialHistogram: { dataPoints: [{ timeUnixNano: 1, scale: 21 }] } },
        { name: 's', summary: { dataPoints: [{ timeUnixNano: 1, quantileValues: [{ quantile: 1.5, value: 1 }] }] } },
      ] }] }],
    })
    const c = metricRows(decodeMetricsRequestJson(body), { tenant: 't' })
    expect(c).toMatchObject({ received: 8, rejected: 7 })
    expect(c.rows.map((r) => r.name)).toEqual(['g'])
    expect(rejectionMessage(c, 'data points')).toMatch(/metric name is missing.*no value.*timeUnixNano is missing.*2 bucketCounts for 2 explicitBounds.*strictly increasing.*and 2 more/)
  })

  it('series keys sort attributes and escape quotes', () => {
    expect(seriesKey('m', 'svc', ['b', 'a'], ['2', 'say "hi"\\'])).toBe('m{service.name="svc",a="say \\"hi\\"\\\\",b="2"}')
  })
})

describe('log records → rows', () => {
  it('the spec example, with the logs table columns and structured attributes as JSON text', () => {
    const c = logRows(decodeLogsRequestJson(fixture('logs.json')), { tenant: 't' })
    const row = c.rows[0]!
    expect(Object.keys(row).sort()).toEqual(columns('logs'))
    expect(row).toMatchObject({ service: 'my.service', ts_ns: '1544712660300000000', trace_id: '5b8efff798038103d269b633813fc60c', severity_text: 'Information', body: 'Example log record' })
    expect(row.attr_values).toEqual(['some string', 'true', '10', '637.704', '["many","values"]', '{"some.map.key":"some value"}', 'my.library'])
  })

  it('falls back to observed time, then to the receive time; rejects bad ids and severities', () => {
    const body = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [
      { observedTimeUnixNano: '5000' },
      {},
      { traceId: 'abcd' },
      { severityNumber: 30 },
    ] }] }] })
    const c = logRows(decodeLogsRequestJson(body), { tenant: 't', nowNs: '777' })
    expect(c.rows.map((r) => [r.ts_ns, r.observed_ns])).toEqual([['5000', '5000'], ['777', '777']])
    expect(c.rejected).toBe(2)
    expect(c.messages.join(' ')).toMatch(/traceId must be 16 bytes.*severityNumber 30 is outside 0..24/)
  })
})
