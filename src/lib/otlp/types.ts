/**
 * The OTLP object model in its JSON form (the protobuf-JSON mapping the OTLP spec uses for OTLP/JSON): lowerCamelCase
 * fields, trace/span ids as hex strings, 64-bit integers as decimal strings or numbers, enums as integers, bytes as
 * base64. Two families of types:
 *
 * - `Otlp*Json`: what callers may write (the encoder's input, what a JSON body may contain). Loose: optional fields,
 *   int64 as string or number.
 * - `Otlp*` (no suffix): what both decoders return, canonical and complete: every field present with its proto3
 *   default, int64 as exact decimal strings, ids as lowercase hex, doubles as numbers. A canonical value is also a valid
 *   `*Json` value, so `encodeExportTraceRequest(decodeTraceRequest(bytes))` re-encodes what was decoded.
 *
 * Field numbers and meanings: opentelemetry-proto (common, resource, trace, metrics, logs v1).
 */

/** int64 / uint64 / fixed64 in JSON: a decimal string (exact) or a JSON number (exact only up to 2^53). */
export type OtlpInt64Json = string | number
/** A double in JSON: a number, or "NaN" / "Infinity" / "-Infinity" as the protobuf-JSON mapping spells them. */
export type OtlpDoubleJson = number | string

// ------------------------------------------------------------------------------------------------ common (JSON)

export interface OtlpAnyValueJson {
  stringValue?: string
  boolValue?: boolean
  intValue?: OtlpInt64Json
  doubleValue?: OtlpDoubleJson
  arrayValue?: { values?: OtlpAnyValueJson[] }
  kvlistValue?: { values?: OtlpKeyValueJson[] }
  /** base64 */
  bytesValue?: string
}

export interface OtlpKeyValueJson {
  key: string
  value?: OtlpAnyValueJson
}

export interface OtlpResourceJson {
  attributes?: OtlpKeyValueJson[]
  droppedAttributesCount?: number
}

export interface OtlpScopeJson {
  name?: string
  version?: string
  attributes?: OtlpKeyValueJson[]
  droppedAttributesCount?: number
}

// ------------------------------------------------------------------------------------------------ traces (JSON)

export interface OtlpTraceRequestJson {
  resourceSpans?: OtlpResourceSpansJson[]
}

export interface OtlpResourceSpansJson {
  resource?: OtlpResourceJson
  scopeSpans?: OtlpScopeSpansJson[]
  schemaUrl?: string
}

export interface OtlpScopeSpansJson {
  scope?: OtlpScopeJson
  spans?: OtlpSpanJson[]
  schemaUrl?: string
}

export interface OtlpSpanJson {
  /** 32 hex characters (16 bytes), any case. */
  traceId?: string
  /** 16 hex characters (8 bytes), any case. */
  spanId?: string
  traceState?: string
  parentSpanId?: string
  flags?: number
  name?: string
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind?: number
  startTimeUnixNano?: OtlpInt64Json
  endTimeUnixNano?: OtlpInt64Json
  attributes?: OtlpKeyValueJson[]
  droppedAttributesCount?: number
  events?: OtlpSpanEventJson[]
  droppedEventsCount?: number
  links?: OtlpSpanLinkJson[]
  droppedLinksCount?: number
  status?: OtlpStatusJson
}

export interface OtlpSpanEventJson {
  timeUnixNano?: OtlpInt64Json
  name?: string
  attributes?: OtlpKeyValueJson[]
  droppedAttributesCount?: number
}

export interface OtlpSpanLinkJson {
  traceId?: string
  spanId?: string
  traceState?: string
  attributes?: OtlpKeyValueJson[]
  droppedAttributesCount?: number
  flags?: number
}

export interface OtlpStatusJson {
  message?: string
  /** StatusCode: 0 unset, 1 ok, 2 error. */
  code?: number
}

// ----------------------------------------------------------------------------------------------- metrics (JSON)

export interface OtlpMetricsRequestJson {
  resourceMetrics?: OtlpResourceMetricsJson[]
}

export interface OtlpResourceMetricsJson {
  resource?: OtlpResourceJson
  scopeMetrics?: OtlpScopeMetricsJson[]
  schemaUrl?: string
}

export interface OtlpScopeMetricsJson {
  scope?: OtlpScopeJson
  metrics?: OtlpMetricJson[]
  schemaUrl?: string
}

/** One of gauge, sum, histogram, exponentialHistogram, summary carries the data points. */
export interface OtlpMetricJson {
  name?: string
  description?: string
  unit?: string
  gauge?: { dataPoints?: OtlpNumberDataPointJson[] }
  sum?: { dataPoints?: OtlpNumberDataPointJson[]; aggregationTemporality?: number; isMonotonic?: boolean }
  histogram?: { dataPoints?: OtlpHistogramDataPointJson[]; aggregationTemporality?: number }
  exponentialHistogram?: { dataPoints?: OtlpExponentialHistogramDataPointJson[]; aggregationTemporality?: number }
  summary?: { dataPoints?: OtlpSummaryDataPointJson[] }
  metadata?: OtlpKeyValueJson[]
}

export interface OtlpNumberDataPointJson {
  attributes?: OtlpKeyValueJson[]
  startTimeUnixNano?: OtlpInt64Json
  timeUnixNano?: OtlpInt64Json
  asDouble?: OtlpDoubleJson
  asInt?: OtlpInt64Json
  exemplars?: OtlpExemplarJson[]
  flags?: number
}

export interface OtlpHistogramDataPointJson {
  attributes?: OtlpKeyValueJson[]
  startTimeUnixNano?: OtlpInt64Json
  timeUnixNano?: OtlpInt64Json
  count?: OtlpInt64Json
  sum?: OtlpDoubleJson
  bucketCounts?: OtlpInt64Json[]
  explicitBounds?: OtlpDoubleJson[]
  exemplars?: OtlpExemplarJson[]
  flags?: number
  min?: OtlpDoubleJson
  max?: OtlpDoubleJson
}

export interface OtlpBucketsJson {
  offset?: number
  bucketCounts?: OtlpInt64Json[]
}

export interface OtlpExponentialHistogramDataPointJson {
  attributes?: OtlpKeyValueJson[]
  startTimeUnixNano?: OtlpInt64Json
  timeUnixNano?: OtlpInt64Json
  count?: OtlpInt64Json
  sum?: OtlpDoubleJson
  scale?: number
  zeroCount?: OtlpInt64Json
  positive?: OtlpBucketsJson
  negative?: OtlpBucketsJson
  flags?: number
  exemplars?: OtlpExemplarJson[]
  min?: OtlpDoubleJson
  max?: OtlpDoubleJson
  zeroThreshold?: OtlpDoubleJson
}

export interface OtlpSummaryDataPointJson {
  attributes?: OtlpKeyValueJson[]
  startTimeUnixNano?: OtlpInt64Json
  timeUnixNano?: OtlpInt64Json
  count?: OtlpInt64Json
  sum?: OtlpDoubleJson
  quantileValues?: Array<{ quantile?: OtlpDoubleJson; value?: OtlpDoubleJson }>
  flags?: number
}

export interface OtlpExemplarJson {
  filteredAttributes?: OtlpKeyValueJson[]
  timeUnixNano?: OtlpInt64Json
  asDouble?: OtlpDoubleJson
  asInt?: OtlpInt64Json
  spanId?: string
  traceId?: string
}

// -------------------------------------------------------------------------------------------------- logs (JSON)

export interface OtlpLogsRequestJson {
  resourceLogs?: OtlpResourceLogsJson[]
}

export interface OtlpResourceLogsJson {
  resource?: OtlpResourceJson
  scopeLogs?: OtlpScopeLogsJson[]
  schemaUrl?: string
}

export interface OtlpScopeLogsJson {
  scope?: OtlpScopeJson
  logRecords?: OtlpLogRecordJson[]
  schemaUrl?: string
}

export interface OtlpLogRecordJson {
  timeUnixNano?: OtlpInt64Json
  observedTimeUnixNano?: OtlpInt64Json
  /** SeverityNumber 0..24: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal. */
  severityNumber?: number
  severityText?: string
  body?: OtlpAnyValueJson
  attributes?: OtlpKeyValueJson[]
  droppedAttributesCount?: number
  flags?: number
  traceId?: string
  spanId?: string
  eventName?: string
}

export * from './types-canonical.js'
