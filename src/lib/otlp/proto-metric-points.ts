/**
 * Protobuf decoding of the less common OTLP metric points (exponential histogram, summary) and of exemplars, for
 * proto-metrics.ts.
 */
import { readKeyValue } from './proto-common.js'
import { PACKED_VARINT, type ProtoReader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, wireTable } from './proto-reader.js'
import type { OtlpBuckets, OtlpExemplar, OtlpExponentialHistogramDataPoint, OtlpSummaryDataPoint } from './types.js'

const EXP_POINT = wireTable({
  1: WIRE_LEN, 2: WIRE_FIXED64, 3: WIRE_FIXED64, 4: WIRE_FIXED64, 5: WIRE_FIXED64, 6: WIRE_VARINT, 7: WIRE_FIXED64, 8: WIRE_LEN,
  9: WIRE_LEN, 10: WIRE_VARINT, 11: WIRE_LEN, 12: WIRE_FIXED64, 13: WIRE_FIXED64, 14: WIRE_FIXED64,
})

export function readExpHistogramPoint(r: ProtoReader): OtlpExponentialHistogramDataPoint {
  const outer = r.enter()
  const p: OtlpExponentialHistogramDataPoint = {
    attributes: [], startTimeUnixNano: '0', timeUnixNano: '0', count: '0', scale: 0, zeroCount: '0',
    positive: { offset: 0, bucketCounts: [] }, negative: { offset: 0, bucketCounts: [] }, flags: 0, exemplars: [], zeroThreshold: 0,
  }
  while (r.pos < r.limit) {
    switch (r.next('ExponentialHistogramDataPoint', EXP_POINT)) {
      case 1:
        p.attributes.push(readKeyValue(r))
        break
      case 2:
        p.startTimeUnixNano = r.fixed64()
        break
      case 3:
        p.timeUnixNano = r.fixed64()
        break
      case 4:
        p.count = r.fixed64()
        break
      case 5:
        p.sum = r.double()
        break
      case 6:
        p.scale = r.sint32()
        break
      case 7:
        p.zeroCount = r.fixed64()
        break
      case 8:
        p.positive = readBuckets(r)
        break
      case 9:
        p.negative = readBuckets(r)
        break
      case 10:
        p.flags = r.uint32()
        break
      case 11:
        p.exemplars.push(readExemplar(r))
        break
      case 12:
        p.min = r.double()
        break
      case 13:
        p.max = r.double()
        break
      case 14:
        p.zeroThreshold = r.double()
        break
    }
  }
  r.leave(outer)
  return p
}

const BUCKETS = wireTable({ 1: WIRE_VARINT, 2: PACKED_VARINT })

function readBuckets(r: ProtoReader): OtlpBuckets {
  const outer = r.enter()
  const b: OtlpBuckets = { offset: 0, bucketCounts: [] }
  while (r.pos < r.limit) {
    switch (r.next('Buckets', BUCKETS)) {
      case 1:
        b.offset = r.sint32()
        break
      case 2:
        r.repeated(b.bucketCounts, 0, () => r.uint64())
        break
    }
  }
  r.leave(outer)
  return b
}

const SUMMARY_POINT = wireTable({ 2: WIRE_FIXED64, 3: WIRE_FIXED64, 4: WIRE_FIXED64, 5: WIRE_FIXED64, 6: WIRE_LEN, 7: WIRE_LEN, 8: WIRE_VARINT })
const QUANTILE = wireTable({ 1: WIRE_FIXED64, 2: WIRE_FIXED64 })

export function readSummaryPoint(r: ProtoReader): OtlpSummaryDataPoint {
  const outer = r.enter()
  const p: OtlpSummaryDataPoint = { attributes: [], startTimeUnixNano: '0', timeUnixNano: '0', count: '0', sum: 0, quantileValues: [], flags: 0 }
  while (r.pos < r.limit) {
    switch (r.next('SummaryDataPoint', SUMMARY_POINT)) {
      case 7:
        p.attributes.push(readKeyValue(r))
        break
      case 2:
        p.startTimeUnixNano = r.fixed64()
        break
      case 3:
        p.timeUnixNano = r.fixed64()
        break
      case 4:
        p.count = r.fixed64()
        break
      case 5:
        p.sum = r.double()
        break
      case 6: {
        const o = r.enter()
        const q = { quantile: 0, value: 0 }
        while (r.pos < r.limit) {
          const f = r.next('ValueAtQuantile', QUANTILE)
          if (f === 1) q.quantile = r.double()
          else if (f === 2) q.value = r.double()
        }
        r.leave(o)
        p.quantileValues.push(q)
        break
      }
      case 8:
        p.flags = r.uint32()
        break
    }
  }
  r.leave(outer)
  return p
}

const EXEMPLAR = wireTable({ 2: WIRE_FIXED64, 3: WIRE_FIXED64, 4: WIRE_LEN, 5: WIRE_LEN, 6: WIRE_FIXED64, 7: WIRE_LEN })

export function readExemplar(r: ProtoReader): OtlpExemplar {
  const outer = r.enter()
  const e: OtlpExemplar = { filteredAttributes: [], timeUnixNano: '0', spanId: '', traceId: '' }
  while (r.pos < r.limit) {
    switch (r.next('Exemplar', EXEMPLAR)) {
      case 7:
        e.filteredAttributes.push(readKeyValue(r))
        break
      case 2:
        e.timeUnixNano = r.fixed64()
        break
      case 3:
        delete e.asInt
        e.asDouble = r.double()
        break
      case 6:
        delete e.asDouble
        e.asInt = r.sfixed64()
        break
      case 4:
        e.spanId = r.hex()
        break
      case 5:
        e.traceId = r.hex()
        break
    }
  }
  r.leave(outer)
  return e
}
