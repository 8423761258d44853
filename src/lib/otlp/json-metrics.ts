/**
 * OTLP/JSON decoder for metrics: gauge, sum, histogram, exponential histogram, summary → the canonical model.
 */
import { bool, double, enumValue, hexId, int32, int64, keyValues, list, obj, optionalDouble, parseJsonBody, resource, scope, str, arr } from './json-common.js'
import type { JsonObject } from './json-common.js'
import type { OtlpBuckets, OtlpExemplar, OtlpMetric, OtlpMetricsRequest, OtlpNumberDataPoint } from './types.js'

export const TEMPORALITY_NAMES = ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 'AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE'] as const

export function decodeMetricsRequestJson(body: Uint8Array | string): OtlpMetricsRequest {
  const root = parseJsonBody(body)
  return {
    resourceMetrics: list(root.resourceMetrics, 'resourceMetrics', (rm, p) => ({
      resource: resource(rm.resource, `${p}.resource`),
      scopeMetrics: list(rm.scopeMetrics, `${p}.scopeMetrics`, (sm, q) => ({
        scope: scope(sm.scope, `${q}.scope`),
        metrics: list(sm.metrics, `${q}.metrics`, metric),
        schemaUrl: str(sm.schemaUrl, `${q}.schemaUrl`),
      })),
      schemaUrl: str(rm.schemaUrl, `${p}.schemaUrl`),
    })),
  }
}

function metric(m: JsonObject, p: string): OtlpMetric {
  const out: OtlpMetric = {
    name: str(m.name, `${p}.name`),
    description: str(m.description, `${p}.description`),
    unit: str(m.unit, `${p}.unit`),
    metadata: keyValues(m.metadata, `${p}.metadata`),
  }
  const temporality = (d: JsonObject, q: string): number => enumValue(d.aggregationTemporality, `${q}.aggregationTemporality`, TEMPORALITY_NAMES)
  // oneof: the first data field present is used (a well-formed body has exactly one).
  const gauge = obj(m.gauge, `${p}.gauge`)
  const sum = obj(m.sum, `${p}.sum`)
  const histogram = obj(m.histogram, `${p}.histogram`)
  const exp = obj(m.exponentialHistogram, `${p}.exponentialHistogram`)
  const summary = obj(m.summary, `${p}.summary`)
  if (gauge) out.gauge = { dataPoints: list(gauge.dataPoints, `${p}.gauge.dataPoints`, numberPoint) }
  else if (sum) {
    out.sum = {
      dataPoints: list(sum.dataPoints, `${p}.sum.dataPoints`, numberPoint),
      aggregationTemporality: temporality(sum, `${p}.sum`),
      isMonotonic: bool(sum.isMonotonic, `${p}.sum.isMonotonic`),
    }
  } else if (histogram) {
    out.histogram = {
      aggregationTemporality: temporality(histogram, `${p}.histogram`),
      dataPoints: list(histogram.dataPoints, `${p}.histogram.dataPoints`, (d, q) => {
        const pt = {
          ...times(d, q),
          count: int64(d.count, `${q}.count`),
          bucketCounts: arr(d.bucketCounts, `${q}.bucketCounts`).map((c, i) => int64(c, `${q}.bucketCounts[${i}]`)),
          explicitBounds: arr(d.explicitBounds, `${q}.explicitBounds`).map((b, i) => double(b, `${q}.explicitBounds[${i}]`)),
          exemplars: list(d.exemplars, `${q}.exemplars`, exemplar),
          flags: int32(d.flags, `${q}.flags`),
        }
        return withOptional(pt, { sum: optionalDouble(d.sum, `${q}.sum`), min: optionalDouble(d.min, `${q}.min`), max: optionalDouble(d.max, `${q}.max`) })
      }),
    }
  } else if (exp) {
    out.exponentialHistogram = {
      aggregationTemporality: temporality(exp, `${p}.exponentialHistogram`),
      dataPoints: list(exp.dataPoints, `${p}.exponentialHistogram.dataPoints`, (d, q) => {
        const pt = {
          ...times(d, q),
          count: int64(d.count, `${q}.count`),
          scale: int32(d.scale, `${q}.scale`, -0x80000000, 0x7fffffff),
          zeroCount: int64(d.zeroCount, `${q}.zeroCount`),
          positive: buckets(d.positive, `${q}.positive`),
          negative: buckets(d.negative, `${q}.negative`),
          flags: int32(d.flags, `${q}.flags`),
          exemplars: list(d.exemplars, `${q}.exemplars`, exemplar),
          zeroThreshold: double(d.zeroThreshold, `${q}.zeroThreshold`),
        }
        return withOptional(pt, { sum: optionalDouble(d.sum, `${q}.sum`), min: optionalDouble(d.min, `${q}.min`), max: optionalDouble(d.max, `${q}.max`) })
      }),
    }
  } else if (summary) {
    out.summary = {
      dataPoints: list(summary.dataPoints, `${p}.summary.dataPoints`, (d, q) => ({
        ...times(d, q),
        count: int64(d.count, `${q}.count`),
        sum: double(d.sum, `${q}.sum`),
        quantileValues: list(d.quantileValues, `${q}.quantileValues`, (v, r) => ({ quantile: double(v.quantile, `${r}.quantile`), value: double(v.value, `${r}.value`) })),
        flags: int32(d.flags, `${q}.flags`),
      })),
    }
  }
  return out
}

/** attributes + start/time, the head every data point shares (same key order as the protobuf decoder's objects). */
function times(d: JsonObject, q: string): { attributes: OtlpNumberDataPoint['attributes']; startTimeUnixNano: string; timeUnixNano: string } {
  return {
    attributes: keyValues(d.attributes, `${q}.attributes`),
    startTimeUnixNano: int64(d.startTimeUnixNano, `${q}.startTimeUnixNano`),
    timeUnixNano: int64(d.timeUnixNano, `${q}.timeUnixNano`),
  }
}

function withOptional<T extends object>(point: T, optional: Record<string, number | undefined>): T {
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (point as Record<string, unknown>)[k] = v
  return point
}

function numberPoint(d: JsonObject, q: string): OtlpNumberDataPoint {
  const p: OtlpNumberDataPoint = { ...times(d, q), exemplars: list(d.exemplars, `${q}.exemplars`, exemplar), flags: int32(d.flags, `${q}.flags`) }
  if (d.asDouble !== undefined && d.asDouble !== null) p.asDouble = double(d.asDouble, `${q}.asDouble`)
  else if (d.asInt !== undefined && d.asInt !== null) p.asInt = int64(d.asInt, `${q}.asInt`, true)
  return p
}

function buckets(v: unknown, q: string): OtlpBuckets {
  const b = obj(v, q) ?? {}
  return {
    offset: int32(b.offset, `${q}.offset`, -0x80000000, 0x7fffffff),
    bucketCounts: arr(b.bucketCounts, `${q}.bucketCounts`).map((c, i) => int64(c, `${q}.bucketCounts[${i}]`)),
  }
}

function exemplar(e: JsonObject, q: string): OtlpExemplar {
  const out: OtlpExemplar = {
    filteredAttributes: keyValues(e.filteredAttributes, `${q}.filteredAttributes`),
    timeUnixNano: int64(e.timeUnixNano, `${q}.timeUnixNano`),
    spanId: hexId(e.spanId, `${q}.spanId`),
    traceId: hexId(e.traceId, `${q}.traceId`),
  }
  if (e.asDouble !== undefined && e.asDouble !== null) out.asDouble = double(e.asDouble, `${q}.asDouble`)
  else if (e.asInt !== undefined && e.asInt !== null) out.asInt = int64(e.asInt, `${q}.asInt`, true)
  return out
}
