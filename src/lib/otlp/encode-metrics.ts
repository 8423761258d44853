/**
 * Protobuf encoding of one OTLP Metric (gauge, sum, histogram, exponential histogram, summary). Repeated numbers are
 * written packed, as SDKs do; optional doubles (sum, min, max) only when set; oneof values (asDouble / asInt) always.
 */
import { fixed64Field, writeKeyValues } from './encode-common.js'
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-reader.js'
import { type ProtoWriter, doubleValue, hexBytes, int64Parts } from './proto-writer.js'
import type {
  OtlpBucketsJson,
  OtlpDoubleJson,
  OtlpExemplarJson,
  OtlpExponentialHistogramDataPointJson,
  OtlpHistogramDataPointJson,
  OtlpMetricJson,
  OtlpNumberDataPointJson,
  OtlpSummaryDataPointJson,
} from './types.js'

export function writeMetric(w: ProtoWriter, m: OtlpMetricJson): void {
  w.stringField(1, m.name)
  w.stringField(2, m.description)
  w.stringField(3, m.unit)
  if (m.gauge) series(w, 5, m.gauge.dataPoints, writeNumberPoint)
  else if (m.sum) series(w, 7, m.sum.dataPoints, writeNumberPoint, m.sum.aggregationTemporality, m.sum.isMonotonic)
  else if (m.histogram) series(w, 9, m.histogram.dataPoints, writeHistogramPoint, m.histogram.aggregationTemporality)
  else if (m.exponentialHistogram) series(w, 10, m.exponentialHistogram.dataPoints, writeExpPoint, m.exponentialHistogram.aggregationTemporality)
  else if (m.summary) series(w, 11, m.summary.dataPoints, writeSummaryPoint)
  writeKeyValues(w, 12, m.metadata)
}

function series<P>(w: ProtoWriter, field: number, points: P[] | undefined, write: (w: ProtoWriter, p: P) => void, temporality?: number, monotonic?: boolean): void {
  w.tag(field, WIRE_LEN)
  w.fork()
  for (const p of points ?? []) {
    w.tag(1, WIRE_LEN)
    w.fork()
    write(w, p)
    w.join()
  }
  w.enumField(2, temporality)
  if (monotonic) {
    w.tag(3, WIRE_VARINT)
    w.varint32(1)
  }
  w.join()
}

function optionalDouble(w: ProtoWriter, field: number, v: OtlpDoubleJson | undefined, name: string): void {
  if (v === undefined) return
  w.tag(field, WIRE_FIXED64)
  w.double(doubleValue(v, name))
}

function oneofNumber(w: ProtoWriter, asDouble: OtlpDoubleJson | undefined, asInt: string | number | undefined, doubleField: number, name: string): void {
  if (asDouble !== undefined) optionalDouble(w, doubleField, asDouble, `${name}.asDouble`)
  else if (asInt !== undefined) {
    const [lo, hi] = int64Parts(asInt, `${name}.asInt`, true)
    w.tag(6, WIRE_FIXED64)
    w.fixed64(lo, hi)
  }
}

function writeNumberPoint(w: ProtoWriter, p: OtlpNumberDataPointJson): void {
  writeKeyValues(w, 7, p.attributes)
  fixed64Field(w, 2, p.startTimeUnixNano, 'dataPoint.startTimeUnixNano')
  fixed64Field(w, 3, p.timeUnixNano, 'dataPoint.timeUnixNano')
  oneofNumber(w, p.asDouble, p.asInt, 4, 'dataPoint')
  writeExemplars(w, 5, p.exemplars)
  w.uint32Field(8, p.flags)
}

function packedFixed64(w: ProtoWriter, field: number, values: Array<string | number> | undefined, name: string): void {
  if (!values || values.length === 0) return
  w.tag(field, WIRE_LEN)
  w.fork()
  for (const v of values) {
    const [lo, hi] = int64Parts(v, name, false)
    w.fixed64(lo, hi)
  }
  w.join()
}

function writeHistogramPoint(w: ProtoWriter, p: OtlpHistogramDataPointJson): void {
  fixed64Field(w, 2, p.startTimeUnixNano, 'dataPoint.startTimeUnixNano')
  fixed64Field(w, 3, p.timeUnixNano, 'dataPoint.timeUnixNano')
  fixed64Field(w, 4, p.count, 'dataPoint.count')
  optionalDouble(w, 5, p.sum, 'dataPoint.sum')
  packedFixed64(w, 6, p.bucketCounts, 'dataPoint.bucketCounts')
  if (p.explicitBounds && p.explicitBounds.length > 0) {
    w.tag(7, WIRE_LEN)
    w.fork()
    for (const b of p.explicitBounds) w.double(doubleValue(b, 'dataPoint.explicitBounds'))
    w.join()
  }
  writeExemplars(w, 8, p.exemplars)
  writeKeyValues(w, 9, p.attributes)
  w.uint32Field(10, p.flags)
  optionalDouble(w, 11, p.min, 'dataPoint.min')
  optionalDouble(w, 12, p.max, 'dataPoint.max')
}

function writeBuckets(w: ProtoWriter, field: number, b: OtlpBucketsJson | undefined): void {
  if (!b) return
  w.tag(field, WIRE_LEN)
  w.fork()
  if (b.offset) {
    w.tag(1, WIRE_VARINT)
    w.sint32(b.offset)
  }
  if (b.bucketCounts && b.bucketCounts.length > 0) {
    w.tag(2, WIRE_LEN)
    w.fork()
    for (const c of b.bucketCounts) {
      const [lo, hi] = int64Parts(c, 'buckets.bucketCounts', false)
      w.varint64(lo, hi)
    }
    w.join()
  }
  w.join()
}

function writeExpPoint(w: ProtoWriter, p: OtlpExponentialHistogramDataPointJson): void {
  writeKeyValues(w, 1, p.attributes)
  fixed64Field(w, 2, p.startTimeUnixNano, 'dataPoint.startTimeUnixNano')
  fixed64Field(w, 3, p.timeUnixNano, 'dataPoint.timeUnixNano')
  fixed64Field(w, 4, p.count, 'dataPoint.count')
  optionalDouble(w, 5, p.sum, 'dataPoint.sum')
  if (p.scale) {
    w.tag(6, WIRE_VARINT)
    w.sint32(p.scale)
  }
  fixed64Field(w, 7, p.zeroCount, 'dataPoint.zeroCount')
  writeBuckets(w, 8, p.positive)
  writeBuckets(w, 9, p.negative)
  w.uint32Field(10, p.flags)
  writeExemplars(w, 11, p.exemplars)
  optionalDouble(w, 12, p.min, 'dataPoint.min')
  optionalDouble(w, 13, p.max, 'dataPoint.max')
  if (p.zeroThreshold !== undefined && doubleValue(p.zeroThreshold, 'dataPoint.zeroThreshold') !== 0) optionalDouble(w, 14, p.zeroThreshold, 'dataPoint.zeroThreshold')
}

function writeSummaryPoint(w: ProtoWriter, p: OtlpSummaryDataPointJson): void {
  fixed64Field(w, 2, p.startTimeUnixNano, 'dataPoint.startTimeUnixNano')
  fixed64Field(w, 3, p.timeUnixNano, 'dataPoint.timeUnixNano')
  fixed64Field(w, 4, p.count, 'dataPoint.count')
  if (p.sum !== undefined && doubleValue(p.sum, 'dataPoint.sum') !== 0) optionalDouble(w, 5, p.sum, 'dataPoint.sum')
  for (const q of p.quantileValues ?? []) {
    w.tag(6, WIRE_LEN)
    w.fork()
    if (q.quantile !== undefined && doubleValue(q.quantile, 'quantile') !== 0) optionalDouble(w, 1, q.quantile, 'quantile')
    if (q.value !== undefined && doubleValue(q.value, 'value') !== 0) optionalDouble(w, 2, q.value, 'value')
    w.join()
  }
  writeKeyValues(w, 7, p.attributes)
  w.uint32Field(8, p.flags)
}

function writeExemplars(w: ProtoWriter, field: number, exemplars: OtlpExemplarJson[] | undefined): void {
  for (const e of exemplars ?? []) {
    w.tag(field, WIRE_LEN)
    w.fork()
    fixed64Field(w, 2, e.timeUnixNano, 'exemplar.timeUnixNano')
    oneofNumber(w, e.asDouble, e.asInt, 3, 'exemplar')
    w.bytesField(4, hexBytes(e.spanId, 'exemplar.spanId'))
    w.bytesField(5, hexBytes(e.traceId, 'exemplar.traceId'))
    writeKeyValues(w, 7, e.filteredAttributes)
    w.join()
  }
}
