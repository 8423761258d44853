/**
 * OTLP in and out: protobuf and JSON decoders to one canonical model, the protobuf encoder (load generator, tests),
 * conversion to store rows with per-item validation, and OTLP/HTTP response bodies. `SIGNAL_CODECS` gathers, per
 * signal, what the gateway needs to take one request apart.
 */
import type { Signal } from './envelope.js'
import type { ConvertOptions, Converted } from './convert-common.js'
import { traceRows } from './convert-traces.js'
import { metricRows } from './convert-metrics.js'
import { logRows } from './convert-logs.js'
import { decodeTraceRequest } from './proto-traces.js'
import { decodeMetricsRequest } from './proto-metrics.js'
import { decodeLogsRequest } from './proto-logs.js'
import { decodeLogsRequestJson, decodeTraceRequestJson } from './json-decode.js'
import { decodeMetricsRequestJson } from './json-metrics.js'
import type { OtlpEncoding } from './responses.js'
import type { OtlpLogsRequest, OtlpMetricsRequest, OtlpTraceRequest } from './types.js'

export * from './types.js'
export { OtlpDecodeError, MAX_NESTING } from './errors.js'
export { encodeExportTraceRequest, encodeExportMetricsRequest, encodeExportLogsRequest } from './encode.js'
export { decodeTraceRequest, decodeMetricsRequest, decodeLogsRequest }
export { decodeTraceRequestJson, decodeMetricsRequestJson, decodeLogsRequestJson }
export { traceRows, metricRows, logRows }
export { type ConvertOptions, type Converted, rejectionMessage, anyValueText } from './convert-common.js'
export { exponentialToExplicit } from './exphist.js'
export { seriesKey } from './convert-metrics.js'
export { exportResponseBody, statusBody, CONTENT_TYPES, type OtlpEncoding } from './responses.js'

type AnyRequest = OtlpTraceRequest | OtlpMetricsRequest | OtlpLogsRequest

export interface SignalCodec<R extends AnyRequest = AnyRequest> {
  /** What partial_success counts: "spans", "data points", "log records". */
  noun: string
  decode(body: Uint8Array, encoding: OtlpEncoding): R
  /** Items in a decoded request, before validation (what rate limits and the received counter count). */
  count(req: R): number
  rows(req: R, opts: ConvertOptions): Converted
}

const traces: SignalCodec<OtlpTraceRequest> = {
  noun: 'spans',
  decode: (body, enc) => (enc === 'json' ? decodeTraceRequestJson(body) : decodeTraceRequest(body)),
  count: (req) => sum(req.resourceSpans, (rs) => sum(rs.scopeSpans, (ss) => ss.spans.length)),
  rows: traceRows,
}

const metrics: SignalCodec<OtlpMetricsRequest> = {
  noun: 'data points',
  decode: (body, enc) => (enc === 'json' ? decodeMetricsRequestJson(body) : decodeMetricsRequest(body)),
  count: (req) =>
    sum(req.resourceMetrics, (rm) =>
      sum(rm.scopeMetrics, (sm) => sum(sm.metrics, (m) => (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints.length ?? 0)),
    ),
  rows: metricRows,
}

const logs: SignalCodec<OtlpLogsRequest> = {
  noun: 'log records',
  decode: (body, enc) => (enc === 'json' ? decodeLogsRequestJson(body) : decodeLogsRequest(body)),
  count: (req) => sum(req.resourceLogs, (rl) => sum(rl.scopeLogs, (sl) => sl.logRecords.length)),
  rows: logRows,
}

export const SIGNAL_CODECS: Record<Signal, SignalCodec> = {
  traces: traces as unknown as SignalCodec,
  metrics: metrics as unknown as SignalCodec,
  logs: logs as unknown as SignalCodec,
}

function sum<T>(items: T[], f: (t: T) => number): number {
  let n = 0
  for (const t of items) n += f(t)
  return n
}
