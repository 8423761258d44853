import { describe, expect, it } from 'vitest'
import { OtlpDecodeError, decodeLogsRequestJson, decodeMetricsRequestJson, decodeTraceRequestJson } from '../../src/lib/otlp/index.js'

const spanJson = (span: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }], ...extra }] })
const firstSpan = (body: string) => decodeTraceRequestJson(body).resourceSpans[0]!.scopeSpans[0]!.spans[0]!

describe('OTLP/JSON decoding rules', () => {
  it('hex ids in any case come out lowercase', () => {
    const s = firstSpan(spanJson({ traceId: '5B8EFFF798038103d269b633813FC60C', spanId: 'EeE19b7EC3c1B174', parentSpanId: 'ABCDEF0123456789' }))
    expect([s.traceId, s.spanId, s.parentSpanId]).toEqual(['5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174', 'abcdef0123456789'])
  })

  it('64-bit integers as strings or numbers, exact as strings beyond 2^53', () => {
    const s = firstSpan(spanJson({ startTimeUnixNano: '1700000000123456789', endTimeUnixNano: 1700000000, droppedAttributesCount: '3' }))
    expect(s.startTimeUnixNano).toBe('1700000000123456789')
    expect(s.endTimeUnixNano).toBe('1700000000')
    expect(s.droppedAttributesCount).toBe(3)
    // A JSON number above 2^53 is written out in full, never as 1.7e+18.
    expect(firstSpan(spanJson({ startTimeUnixNano: 1544712660000000000 })).startTimeUnixNano).toBe('1544712660000000000')
    expect(firstSpan(spanJson({ startTimeUnixNano: '000123' })).startTimeUnixNano).toBe('123')
  })

  it('enums as integers, their proto names accepted too', () => {
    expect(firstSpan(spanJson({ kind: 3, status: { code: 2 } }))).toMatchObject({ kind: 3, status: { code: 2 } })
    expect(firstSpan(spanJson({ kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_ERROR' } }))).toMatchObject({ kind: 3, status: { code: 2 } })
    const log = decodeLogsRequestJson(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'SEVERITY_NUMBER_WARN2' }] }] }] }))
    expect(log.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.severityNumber).toBe(14)
  })

  it('unknown fields are ignored, snake_case names included, and null means the default', () => {
    const s = firstSpan(spanJson({ name: 'n', start_time_unix_nano: '5', futureField: { x: 1 }, traceState: null, attributes: null }, { somethingNew: [1, 2] }))
    expect(s).toMatchObject({ name: 'n', startTimeUnixNano: '0', traceState: '', attributes: [] })
  })

  it('doubles as numbers or the strings NaN / Infinity / -Infinity', () => {
    const body = JSON.stringify({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ asDouble: 'NaN' }, { asDouble: 'Infinity' }, { asDouble: '-Infinity' }, { asDouble: '2.5' }, { asInt: '-7' }] } }] }] }],
    })
    const points = decodeMetricsRequestJson(body).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.gauge!.dataPoints
    expect(points.map((p) => p.asDouble ?? p.asInt)).toEqual([NaN, Infinity, -Infinity, 2.5, '-7'])
  })

  it('bytes in base64 (either alphabet) come out canonical', () => {
    const body = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { bytesValue: '-_8' } }] }] }] })
    expect(decodeLogsRequestJson(body).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body).toEqual({ bytesValue: '+/8=' })
  })

  it('an empty object is an empty request', () => {
    expect(decodeTraceRequestJson('{}')).toEqual({ resourceSpans: [] })
    expect(decodeMetricsRequestJson(Buffer.from('{}'))).toEqual({ resourceMetrics: [] })
  })

  it.each([
    ['not JSON', '{"resourceSpans": [', /not valid JSON/],
    ['not an object', '[1,2]', /\$: expected a JSON object/],
    ['resourceSpans not an array', '{"resourceSpans": {}}', /resourceSpans: expected an array/],
    ['a span that is not an object', spanJson(5 as unknown as Record<string, unknown>), /spans\[0\]: expected an object/],
    ['a timestamp that is not an integer', spanJson({ startTimeUnixNano: '12.5' }), /spans\[0\]\.startTimeUnixNano: expected a decimal integer string/],
    ['a negative fixed64', spanJson({ endTimeUnixNano: -1 }), /endTimeUnixNano: expected a non-negative integer/],
    ['a uint64 past 2^64', spanJson({ endTimeUnixNano: '18446744073709551616' }), /out of range/],
    ['an id that is not a string', spanJson({ traceId: 123 }), /traceId: expected a string/],
    ['a bool that is a string', JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ sum: { isMonotonic: 'yes' } }] }] }] }), /isMonotonic: expected true or false/],
    ['an unknown enum name', spanJson({ kind: 'SPAN_KIND_SIDEWAYS' }), /kind: expected an integer/],
  ])('%s → OtlpDecodeError naming the path', (_name, body, message) => {
    const decode = body.includes('resourceMetrics') ? decodeMetricsRequestJson : decodeTraceRequestJson
    let err: unknown
    try {
      decode(body)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(OtlpDecodeError)
    expect((err as Error).message).toMatch(message)
  })

  it('refuses AnyValue nesting deeper than the limit', () => {
    let v: unknown = { stringValue: 'leaf' }
    for (let i = 0; i < 40; i++) v = { arrayValue: { values: [v] } }
    expect(() => decodeTraceRequestJson(spanJson({ attributes: [{ key: 'deep', value: v }] }))).toThrow(/nested deeper than 32/)
  })
})
