/**
 * Protobuf decoding of ExportMetricsServiceRequest (opentelemetry/proto/collector/metrics/v1, metrics/v1): gauge, sum,
 * histogram, exponential histogram and summary data points with exemplars. Repeated numbers are accepted packed (what
 * every SDK sends) and unpacked, as the protobuf spec requires of parsers. `data` is a oneof: the last one sent wins.
 */
import { readKeyValue, readRequest, readResourceContainer, readScopeContainer } from './proto-common.js'
import { PACKED_FIXED64, type ProtoReader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, wireTable } from './proto-reader.js'
import { readExemplar, readExpHistogramPoint, readSummaryPoint } from './proto-metric-points.js'
import type { OtlpHistogramDataPoint, OtlpMetric, OtlpMetricsRequest, OtlpNumberDataPoint, OtlpScopeMetrics } from './types.js'

export function decodeMetricsRequest(bytes: Uint8Array): OtlpMetricsRequest {
  return { resourceMetrics: readRequest(bytes, 'ExportMetricsServiceRequest', readResourceMetrics) }
}

function readResourceMetrics(r: ProtoReader): OtlpMetricsRequest['resourceMetrics'][number] {
  const c = readResourceContainer(r, 'ResourceMetrics', readScopeMetrics)
  return { resource: c.resource, scopeMetrics: c.children, schemaUrl: c.schemaUrl }
}

function readScopeMetrics(r: ProtoReader): OtlpScopeMetrics {
  const c = readScopeContainer(r, 'ScopeMetrics', readMetric)
  return { scope: c.scope, metrics: c.items, schemaUrl: c.schemaUrl }
}

const METRIC = wireTable({ 1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN, 5: WIRE_LEN, 7: WIRE_LEN, 9: WIRE_LEN, 10: WIRE_LEN, 11: WIRE_LEN, 12: WIRE_LEN })

function readMetric(r: ProtoReader): OtlpMetric {
  const outer = r.enter()
  let m: OtlpMetric = { name: '', description: '', unit: '', metadata: [] }
  // Replacing the data keeps the oneof rule: a later data field discards an earlier one.
  const withData = (data: Partial<OtlpMetric>): OtlpMetric => ({ name: m.name, description: m.description, unit: m.unit, metadata: m.metadata, ...data })
  while (r.pos < r.limit) {
    switch (r.next('Metric', METRIC)) {
      case 1:
        m.name = r.string()
        break
      case 2:
        m.description = r.string()
        break
      case 3:
        m.unit = r.string()
        break
      case 5:
        m = withData({ gauge: { dataPoints: readSeries(r, 'Gauge', readNumberPoint).points } })
        break
      case 7: {
        const s = readSeries(r, 'Sum', readNumberPoint)
        m = withData({ sum: { dataPoints: s.points, aggregationTemporality: s.temporality, isMonotonic: s.monotonic } })
        break
      }
      case 9: {
        const s = readSeries(r, 'Histogram', readHistogramPoint)
        m = withData({ histogram: { dataPoints: s.points, aggregationTemporality: s.temporality } })
        break
      }
      case 10: {
        const s = readSeries(r, 'ExponentialHistogram', readExpHistogramPoint)
        m = withData({ exponentialHistogram: { dataPoints: s.points, aggregationTemporality: s.temporality } })
        break
      }
      case 11:
        m = withData({ summary: { dataPoints: readSeries(r, 'Summary', readSummaryPoint).points } })
        break
      case 12:
        m.metadata.push(readKeyValue(r))
        break
    }
  }
  r.leave(outer)
  return m
}

/** Gauge, Sum, Histogram, ExponentialHistogram, Summary: points in field 1, temporality in 2, is_monotonic in 3 (Sum). */
const SERIES = wireTable({ 1: WIRE_LEN, 2: WIRE_VARINT, 3: WIRE_VARINT })

function readSeries<P>(r: ProtoReader, name: string, readPoint: (r: ProtoReader) => P): { points: P[]; temporality: number; monotonic: boolean } {
  const outer = r.enter()
  const out = { points: [] as P[], temporality: 0, monotonic: false }
  while (r.pos < r.limit) {
    switch (r.next(name, SERIES)) {
      case 1:
        out.points.push(readPoint(r))
        break
      case 2:
        out.temporality = r.int32()
        break
      case 3:
        out.monotonic = r.bool()
        break
    }
  }
  r.leave(outer)
  return out
}

const NUMBER_POINT = wireTable({ 2: WIRE_FIXED64, 3: WIRE_FIXED64, 4: WIRE_FIXED64, 5: WIRE_LEN, 6: WIRE_FIXED64, 7: WIRE_LEN, 8: WIRE_VARINT })

function readNumberPoint(r: ProtoReader): OtlpNumberDataPoint {
  const outer = r.enter()
  const p: OtlpNumberDataPoint = { attributes: [], startTimeUnixNano: '0', timeUnixNano: '0', exemplars: [], flags: 0 }
  while (r.pos < r.limit) {
    switch (r.next('NumberDataPoint', NUMBER_POINT)) {
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
        delete p.asInt
        p.asDouble = r.double()
        break
      case 6:
        delete p.asDouble
        p.asInt = r.sfixed64()
        break
      case 5:
        p.exemplars.push(readExemplar(r))
        break
      case 8:
        p.flags = r.uint32()
        break
    }
  }
  r.leave(outer)
  return p
}

const HISTOGRAM_POINT = wireTable({
  2: WIRE_FIXED64, 3: WIRE_FIXED64, 4: WIRE_FIXED64, 5: WIRE_FIXED64, 6: PACKED_FIXED64, 7: PACKED_FIXED64, 8: WIRE_LEN,
  9: WIRE_LEN, 10: WIRE_VARINT, 11: WIRE_FIXED64, 12: WIRE_FIXED64,
})

function readHistogramPoint(r: ProtoReader): OtlpHistogramDataPoint {
  const outer = r.enter()
  const p: OtlpHistogramDataPoint = {
    attributes: [], startTimeUnixNano: '0', timeUnixNano: '0', count: '0', bucketCounts: [], explicitBounds: [], exemplars: [], flags: 0,
  }
  while (r.pos < r.limit) {
    switch (r.next('HistogramDataPoint', HISTOGRAM_POINT)) {
      case 9:
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
        r.repeated(p.bucketCounts, 8, () => r.fixed64())
        break
      case 7:
        r.repeated(p.explicitBounds, 8, () => r.double())
        break
      case 8:
        p.exemplars.push(readExemplar(r))
        break
      case 10:
        p.flags = r.uint32()
        break
      case 11:
        p.min = r.double()
        break
      case 12:
        p.max = r.double()
        break
    }
  }
  r.leave(outer)
  return p
}
