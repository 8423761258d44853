/**
 * The canonical decoded OTLP model: what both decoders (protobuf and JSON) return. Complete (every field present with
 * its proto3 default), int64 as exact decimal strings, ids as lowercase hex, doubles as numbers. Every canonical value
 * is also a valid `*Json` value (types.ts), so it can be re-encoded as is. Re-exported by types.ts.
 */

export interface OtlpAnyValue {
  stringValue?: string
  boolValue?: boolean
  intValue?: string
  doubleValue?: number
  arrayValue?: { values: OtlpAnyValue[] }
  kvlistValue?: { values: OtlpKeyValue[] }
  bytesValue?: string
}

export interface OtlpKeyValue {
  key: string
  /** `{}` when the value is unset. */
  value: OtlpAnyValue
}

export interface OtlpResource {
  attributes: OtlpKeyValue[]
  droppedAttributesCount: number
}

export interface OtlpScope {
  name: string
  version: string
  attributes: OtlpKeyValue[]
  droppedAttributesCount: number
}

export interface OtlpTraceRequest {
  resourceSpans: Array<{ resource: OtlpResource; scopeSpans: OtlpScopeSpans[]; schemaUrl: string }>
}

export interface OtlpScopeSpans {
  scope: OtlpScope
  spans: OtlpSpan[]
  schemaUrl: string
}

export interface OtlpSpan {
  traceId: string
  spanId: string
  traceState: string
  parentSpanId: string
  flags: number
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: OtlpKeyValue[]
  droppedAttributesCount: number
  events: OtlpSpanEvent[]
  droppedEventsCount: number
  links: OtlpSpanLink[]
  droppedLinksCount: number
  status: { message: string; code: number }
}

export interface OtlpSpanEvent {
  timeUnixNano: string
  name: string
  attributes: OtlpKeyValue[]
  droppedAttributesCount: number
}

export interface OtlpSpanLink {
  traceId: string
  spanId: string
  traceState: string
  attributes: OtlpKeyValue[]
  droppedAttributesCount: number
  flags: number
}

export interface OtlpMetricsRequest {
  resourceMetrics: Array<{ resource: OtlpResource; scopeMetrics: OtlpScopeMetrics[]; schemaUrl: string }>
}

export interface OtlpScopeMetrics {
  scope: OtlpScope
  metrics: OtlpMetric[]
  schemaUrl: string
}

/** At most one data field is set (protobuf oneof: the last one on the wire wins). */
export interface OtlpMetric {
  name: string
  description: string
  unit: string
  gauge?: { dataPoints: OtlpNumberDataPoint[] }
  sum?: { dataPoints: OtlpNumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean }
  histogram?: { dataPoints: OtlpHistogramDataPoint[]; aggregationTemporality: number }
  exponentialHistogram?: { dataPoints: OtlpExponentialHistogramDataPoint[]; aggregationTemporality: number }
  summary?: { dataPoints: OtlpSummaryDataPoint[] }
  metadata: OtlpKeyValue[]
}

export interface OtlpNumberDataPoint {
  attributes: OtlpKeyValue[]
  startTimeUnixNano: string
  timeUnixNano: string
  /** At most one of asDouble / asInt (oneof); neither means the point has no value. */
  asDouble?: number
  asInt?: string
  exemplars: OtlpExemplar[]
  flags: number
}

export interface OtlpHistogramDataPoint {
  attributes: OtlpKeyValue[]
  startTimeUnixNano: string
  timeUnixNano: string
  count: string
  sum?: number
  bucketCounts: string[]
  explicitBounds: number[]
  exemplars: OtlpExemplar[]
  flags: number
  min?: number
  max?: number
}

export interface OtlpBuckets {
  offset: number
  bucketCounts: string[]
}

export interface OtlpExponentialHistogramDataPoint {
  attributes: OtlpKeyValue[]
  startTimeUnixNano: string
  timeUnixNano: string
  count: string
  sum?: number
  scale: number
  zeroCount: string
  positive: OtlpBuckets
  negative: OtlpBuckets
  flags: number
  exemplars: OtlpExemplar[]
  min?: number
  max?: number
  zeroThreshold: number
}

export interface OtlpSummaryDataPoint {
  attributes: OtlpKeyValue[]
  startTimeUnixNano: string
  timeUnixNano: string
  count: string
  sum: number
  quantileValues: Array<{ quantile: number; value: number }>
  flags: number
}

export interface OtlpExemplar {
  filteredAttributes: OtlpKeyValue[]
  timeUnixNano: string
  asDouble?: number
  asInt?: string
  spanId: string
  traceId: string
}

export interface OtlpLogsRequest {
  resourceLogs: Array<{ resource: OtlpResource; scopeLogs: OtlpScopeLogs[]; schemaUrl: string }>
}

export interface OtlpScopeLogs {
  scope: OtlpScope
  logRecords: OtlpLogRecord[]
  schemaUrl: string
}

export interface OtlpLogRecord {
  timeUnixNano: string
  observedTimeUnixNano: string
  severityNumber: number
  severityText: string
  /** `{}` when the record has no body. */
  body: OtlpAnyValue
  attributes: OtlpKeyValue[]
  droppedAttributesCount: number
  flags: number
  traceId: string
  spanId: string
  eventName: string
}
