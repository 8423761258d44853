import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  OtlpDecodeError,
  decodeLogsRequest,
  decodeLogsRequestJson,
  decodeMetricsRequest,
  decodeMetricsRequestJson,
  decodeTraceRequest,
  decodeTraceRequestJson,
  encodeExportLogsRequest,
  encodeExportMetricsRequest,
  encodeExportTraceRequest,
  type OtlpTraceRequestJson,
} from '../../src/lib/otlp/index.js'
import { ProtoReader, int64String } from '../../src/lib/otlp/proto-reader.js'
import { ProtoWriter } from '../../src/lib/otlp/proto-writer.js'

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/otlp/${name}`, import.meta.url))

/** A protobuf field appended by hand: tag bytes then payload. */
const field = (num: number, wire: number, payload: number[]): number[] => [(num << 3) | wire, ...payload]
const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)])
const len = (num: number, bytes: number[]): number[] => field(num, 2, [...varint(bytes.length), ...bytes])

describe('OTLP examples of the spec: JSON → canonical → protobuf → canonical', () => {
  it('traces keep every field, ids lowercased, int64 as exact strings', () => {
    const json = decodeTraceRequestJson(fixture('trace.json'))
    const span = json.resourceSpans[0]!.scopeSpans[0]!.spans[0]!
    expect(span).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: 'eee19b7ec3c1b173',
      name: "I'm a server span",
      kind: 2,
      startTimeUnixNano: '1544712660000000000',
      endTimeUnixNano: '1544712661000000000',
      attributes: [{ key: 'my.span.attr', value: { stringValue: 'some value' } }],
    })
    expect(json.resourceSpans[0]!.scopeSpans[0]!.scope).toEqual({
      name: 'my.library',
      version: '1.0.0',
      attributes: [{ key: 'my.scope.attribute', value: { stringValue: 'some scope attribute' } }],
      droppedAttributesCount: 0,
    })
    expect(decodeTraceRequest(encodeExportTraceRequest(json))).toStrictEqual(json)
  })

  it.each(['metrics.json', 'metrics-exponential.json'])('%s: sum, gauge, histogram (and exponential histogram) round-trip', (name) => {
    const json = decodeMetricsRequestJson(fixture(name))
    const metrics = json.resourceMetrics[0]!.scopeMetrics[0]!.metrics
    expect(metrics[2]!.histogram!.dataPoints[0]).toMatchObject({ count: '2', sum: 2, bucketCounts: ['1', '1'], explicitBounds: [1], min: 0, max: 2 })
    if (name === 'metrics-exponential.json') {
      expect(metrics[3]!.exponentialHistogram!.dataPoints[0]).toMatchObject({
        count: '3', sum: 10, scale: 0, zeroCount: '1', positive: { offset: 1, bucketCounts: ['0', '2'] }, min: 0, max: 5, zeroThreshold: 0,
      })
    }
    expect(decodeMetricsRequest(encodeExportMetricsRequest(json))).toStrictEqual(json)
  })

  it('logs keep every AnyValue kind (string, bool, int, double, array, kvlist)', () => {
    const json = decodeLogsRequestJson(fixture('logs.json'))
    const rec = json.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!
    expect(rec.attributes.map((a) => a.value)).toEqual([
      { stringValue: 'some string' },
      { boolValue: true },
      { intValue: '10' },
      { doubleValue: 637.704 },
      { arrayValue: { values: [{ stringValue: 'many' }, { stringValue: 'values' }] } },
      { kvlistValue: { values: [{ key: 'some.map.key', value: { stringValue: 'some value' } }] } },
    ])
    expect(decodeLogsRequest(encodeExportLogsRequest(json))).toStrictEqual(json)
  })
})

describe('protobuf round trips of everything the encoder can write', () => {
  const full: OtlpTraceRequestJson = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 255]).toString('base64') } }], droppedAttributesCount: 3 },
        schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
        scopeSpans: [
          {
            scope: { name: 's', version: 'v', droppedAttributesCount: 1 },
            schemaUrl: 'x',
            spans: [
              {
                traceId: 'ABCDEF00112233445566778899aabbcc',
                spanId: '0102030405060708',
                traceState: 'k=v',
                flags: 0x301,
                name: 'n',
                kind: 5,
                startTimeUnixNano: '18446744073709551615',
                endTimeUnixNano: 1,
                attributes: [
                  { key: 'neg', value: { intValue: '-9223372036854775808' } },
                  { key: 'minus1', value: { intValue: -1 } },
                  { key: 'nan', value: { doubleValue: 'NaN' } },
                  { key: 'inf', value: { doubleValue: '-Infinity' } },
                  { key: 'empty' },
                  { key: 'false', value: { boolValue: false } },
                  { key: 'zero', value: { intValue: 0 } },
                  { key: 'nested', value: { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'a', value: { arrayValue: {} } }] } }] } } },
                ],
                droppedAttributesCount: 2,
                events: [{ timeUnixNano: '5', name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'E' } }], droppedAttributesCount: 1 }],
                droppedEventsCount: 7,
                links: [{ traceId: '00000000000000000000000000000001', spanId: '0000000000000002', traceState: 'a=b', flags: 256, droppedAttributesCount: 4 }],
                droppedLinksCount: 9,
                status: { code: 2, message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  }

  it('decodes what it encoded, 64-bit extremes and special doubles included', () => {
    const back = decodeTraceRequest(encodeExportTraceRequest(full))
    const span = back.resourceSpans[0]!.scopeSpans[0]!.spans[0]!
    expect(span.traceId).toBe('abcdef00112233445566778899aabbcc')
    expect(span.startTimeUnixNano).toBe('18446744073709551615')
    expect(span.attributes.map((a) => a.value)).toEqual([
      { intValue: '-9223372036854775808' },
      { intValue: '-1' },
      { doubleValue: NaN },
      { doubleValue: -Infinity },
      {},
      { boolValue: false },
      { intValue: '0' },
      { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [] } } }] } }] } },
    ])
    expect(span.events[0]).toEqual({ timeUnixNano: '5', name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'E' } }], droppedAttributesCount: 1 })
    expect(span.links[0]).toMatchObject({ traceId: '00000000000000000000000000000001', traceState: 'a=b', flags: 256, droppedAttributesCount: 4 })
    expect(span).toMatchObject({ flags: 0x301, kind: 5, droppedAttributesCount: 2, droppedEventsCount: 7, droppedLinksCount: 9, status: { code: 2, message: 'boom' } })
    expect(back.resourceSpans[0]!.resource).toEqual({ attributes: [{ key: 'bytes', value: { bytesValue: 'AAH/' } }], droppedAttributesCount: 3 })
    // The canonical form re-encodes to itself.
    expect(decodeTraceRequest(encodeExportTraceRequest(back))).toStrictEqual(back)
    // JSON has no NaN/Infinity literals: the protobuf-JSON mapping writes them as strings.
    const asJson = JSON.stringify(back, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))
    expect(decodeTraceRequestJson(asJson)).toStrictEqual(back)
  })

  it('summary points, int gauges and exemplars survive', () => {
    const req = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                { name: 'g', gauge: { dataPoints: [{ timeUnixNano: '7', asInt: '-42', exemplars: [{ asDouble: 1.5, spanId: '0102030405060708', traceId: '0102030405060708090a0b0c0d0e0f10', timeUnixNano: 3 }] }] } },
                { name: 's', summary: { dataPoints: [{ timeUnixNano: 1, count: 4, sum: 2.5, quantileValues: [{ quantile: 0.5, value: 1 }, { quantile: 0.99, value: 2 }] }] } },
                { name: 'e', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: 1, count: 3, scale: -3, negative: { offset: -2, bucketCounts: [1, 2] }, zeroThreshold: 0.5 }] } },
              ],
            },
          ],
        },
      ],
    }
    const back = decodeMetricsRequest(encodeExportMetricsRequest(req))
    const [g, s, e] = back.resourceMetrics[0]!.scopeMetrics[0]!.metrics
    expect(g!.gauge!.dataPoints[0]).toMatchObject({ asInt: '-42', exemplars: [{ asDouble: 1.5, spanId: '0102030405060708', timeUnixNano: '3' }] })
    expect(s!.summary!.dataPoints[0]).toMatchObject({ count: '4', sum: 2.5, quantileValues: [{ quantile: 0.5, value: 1 }, { quantile: 0.99, value: 2 }] })
    expect(e!.exponentialHistogram!.dataPoints[0]).toMatchObject({ scale: -3, negative: { offset: -2, bucketCounts: ['1', '2'] }, zeroThreshold: 0.5 })
    expect(e!.exponentialHistogram!.aggregationTemporality).toBe(2)
  })
})

describe('protobuf wire rules', () => {
  it('skips unknown fields of every wire type, groups included', () => {
    const unknown = [...field(99 & 15, 0, [0xff, 0x01])]
    // Field 96: tags need two varint bytes. A group (wire 3 … 4) with a varint inside, then fixed64 and fixed32 fields.
    const group = [0x83, 0x06, 0x08, 0x05, 0x84, 0x06]
    const fixed64 = [0x81, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]
    const fixed32 = [0x85, 0x06, 1, 2, 3, 4]
    const span = [...len(5, [...Buffer.from('x')]), ...group, ...fixed64, ...fixed32]
    const body = [...len(1, len(2, len(2, span))), ...len(9, [1, 2])]
    const req = decodeTraceRequest(new Uint8Array(body))
    expect(req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name).toBe('x')
    expect(unknown.length).toBe(3)
  })

  it('accepts repeated numbers packed and unpacked', () => {
    const f64 = (n: number): number[] => [...Buffer.from(new Float64Array([n]).buffer)]
    const u64 = (n: number): number[] => [n, 0, 0, 0, 0, 0, 0, 0]
    const unpacked = [...field(6, 1, u64(1)), ...field(6, 1, u64(2)), ...field(7, 1, f64(0.5))]
    const packed = [...len(6, [...u64(1), ...u64(2)]), ...len(7, f64(0.5))]
    for (const point of [unpacked, packed]) {
      const body = len(1, len(2, len(2, len(9, len(1, point)))))
      const p = decodeMetricsRequest(new Uint8Array(body)).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.histogram!.dataPoints[0]!
      expect(p.bucketCounts).toEqual(['1', '2'])
      expect(p.explicitBounds).toEqual([0.5])
    }
  })

  it('the last oneof value on the wire wins', () => {
    const any = [...len(1, [...Buffer.from('a')]), ...field(2, 0, [1])]
    const body = len(1, len(2, len(2, len(9, len(2, any)))))
    expect(decodeTraceRequest(new Uint8Array(body)).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes[0]!.value).toEqual({ boolValue: true })
  })

  it.each([
    ['truncated varint', [0x0a, 0x80]],
    ['length past the end', [0x0a, 0x05, 0x01]],
    ['field number 0', [0x02, 0x00]],
    ['wire type 7', [0x0f]],
    ['wrong wire type for a known field', len(1, len(2, len(2, field(7, 0, [1]))))],
    ['unterminated group', [0x0b, 0x08, 0x01]],
    ['end group without start', [0x0c]],
    ['varint longer than 10 bytes', [0x08, ...Array(11).fill(0x80), 0x01]],
  ])('%s → OtlpDecodeError', (_name, bytes) => {
    expect(() => decodeTraceRequest(new Uint8Array(bytes as number[]))).toThrow(OtlpDecodeError)
    expect(() => decodeMetricsRequest(new Uint8Array(bytes as number[]))).toThrow(OtlpDecodeError)
  })

  it('refuses a packed fixed64 run whose length is not a multiple of 8', () => {
    const body = len(1, len(2, len(2, len(9, len(1, len(6, [1, 2, 3]))))))
    expect(() => decodeMetricsRequest(new Uint8Array(body))).toThrow(/multiple of 8/)
  })

  it('refuses AnyValue nesting deeper than the limit', () => {
    let v: number[] = len(1, [...Buffer.from('leaf')])
    for (let i = 0; i < 40; i++) v = len(5, len(1, v))
    const body = len(1, len(2, len(2, len(9, len(2, v)))))
    expect(() => decodeTraceRequest(new Uint8Array(body))).toThrow(/nested deeper than 32/)
  })

  it('writes and reads varints of every size', () => {
    for (const [lo, hi] of [[0, 0], [127, 0], [128, 0], [0xffffffff, 0], [0, 1], [0xffffffff, 0x7fffffff], [0xffffffff, 0xffffffff], [1, 0x80000000]] as const) {
      const w = new ProtoWriter(16)
      w.varint64(lo, hi)
      const r = new ProtoReader(Buffer.from(w.finish()))
      r.varint()
      expect([r.lo, r.hi]).toEqual([lo >>> 0, hi >>> 0])
    }
    expect(int64String(0xffffffff, 0xffffffff, true)).toBe('-1')
    expect(int64String(0, 0x80000000, true)).toBe('-9223372036854775808')
    expect(int64String(0xffffffff, 0xffffffff, false)).toBe('18446744073709551615')
    expect(int64String(0xffffffff, 0x1fffff, false)).toBe(String(2 ** 53 - 1))
  })

  it('the encoder refuses what it cannot encode, naming the field', () => {
    expect(() => encodeExportTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz' }] }] }] })).toThrow(/span.traceId/)
    expect(() => encodeExportTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: '1.5' }] }] }] })).toThrow(/startTimeUnixNano/)
    expect(() => encodeExportTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ endTimeUnixNano: '-1' }] }] }] })).toThrow(/out of range/)
  })
})
