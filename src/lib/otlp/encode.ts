/**
 * OTLP protobuf encoders: the OTLP/JSON object model (types.ts) → the bytes an OTLP/HTTP exporter POSTs with
 * `Content-Type: application/x-protobuf`. Used by the load generator (`aiops loadtest`), the benchmarks and tests.
 * Ids are hex strings (any case), 64-bit integers decimal strings or numbers, enums integers. Input that cannot be
 * encoded (non-hex id, non-integer timestamp) throws a UsageError naming the field.
 */
import { encodeRequest, fixed64Field, writeAnyValue, writeKeyValues } from './encode-common.js'
import { writeMetric } from './encode-metrics.js'
import { WIRE_LEN } from './proto-reader.js'
import { type ProtoWriter, hexBytes } from './proto-writer.js'
import type { OtlpLogRecordJson, OtlpLogsRequestJson, OtlpMetricsRequestJson, OtlpSpanJson, OtlpTraceRequestJson } from './types.js'

export function encodeExportTraceRequest(req: OtlpTraceRequestJson): Uint8Array {
  return encodeRequest(
    req.resourceSpans,
    (r) => ({ resource: r.resource, schemaUrl: r.schemaUrl, scopes: r.scopeSpans }),
    (s) => s.spans,
    writeSpan,
  )
}

export function encodeExportMetricsRequest(req: OtlpMetricsRequestJson): Uint8Array {
  return encodeRequest(
    req.resourceMetrics,
    (r) => ({ resource: r.resource, schemaUrl: r.schemaUrl, scopes: r.scopeMetrics }),
    (s) => s.metrics,
    writeMetric,
  )
}

export function encodeExportLogsRequest(req: OtlpLogsRequestJson): Uint8Array {
  return encodeRequest(
    req.resourceLogs,
    (r) => ({ resource: r.resource, schemaUrl: r.schemaUrl, scopes: r.scopeLogs }),
    (s) => s.logRecords,
    writeLogRecord,
  )
}

function writeSpan(w: ProtoWriter, s: OtlpSpanJson): void {
  w.bytesField(1, hexBytes(s.traceId, 'span.traceId'))
  w.bytesField(2, hexBytes(s.spanId, 'span.spanId'))
  w.stringField(3, s.traceState)
  w.bytesField(4, hexBytes(s.parentSpanId, 'span.parentSpanId'))
  w.stringField(5, s.name)
  w.enumField(6, s.kind)
  fixed64Field(w, 7, s.startTimeUnixNano, 'span.startTimeUnixNano')
  fixed64Field(w, 8, s.endTimeUnixNano, 'span.endTimeUnixNano')
  writeKeyValues(w, 9, s.attributes)
  w.uint32Field(10, s.droppedAttributesCount)
  for (const e of s.events ?? []) {
    w.tag(11, WIRE_LEN)
    w.fork()
    fixed64Field(w, 1, e.timeUnixNano, 'span.events.timeUnixNano')
    w.stringField(2, e.name)
    writeKeyValues(w, 3, e.attributes)
    w.uint32Field(4, e.droppedAttributesCount)
    w.join()
  }
  w.uint32Field(12, s.droppedEventsCount)
  for (const l of s.links ?? []) {
    w.tag(13, WIRE_LEN)
    w.fork()
    w.bytesField(1, hexBytes(l.traceId, 'span.links.traceId'))
    w.bytesField(2, hexBytes(l.spanId, 'span.links.spanId'))
    w.stringField(3, l.traceState)
    writeKeyValues(w, 4, l.attributes)
    w.uint32Field(5, l.droppedAttributesCount)
    w.fixed32Field(6, l.flags)
    w.join()
  }
  w.uint32Field(14, s.droppedLinksCount)
  if (s.status) {
    w.tag(15, WIRE_LEN)
    w.fork()
    w.stringField(2, s.status.message)
    w.enumField(3, s.status.code)
    w.join()
  }
  w.fixed32Field(16, s.flags)
}

function writeLogRecord(w: ProtoWriter, l: OtlpLogRecordJson): void {
  fixed64Field(w, 1, l.timeUnixNano, 'logRecord.timeUnixNano')
  w.enumField(2, l.severityNumber)
  w.stringField(3, l.severityText)
  if (l.body) {
    w.tag(5, WIRE_LEN)
    w.fork()
    writeAnyValue(w, l.body)
    w.join()
  }
  writeKeyValues(w, 6, l.attributes)
  w.uint32Field(7, l.droppedAttributesCount)
  w.fixed32Field(8, l.flags)
  w.bytesField(9, hexBytes(l.traceId, 'logRecord.traceId'))
  w.bytesField(10, hexBytes(l.spanId, 'logRecord.spanId'))
  fixed64Field(w, 11, l.observedTimeUnixNano, 'logRecord.observedTimeUnixNano')
  w.stringField(12, l.eventName)
}
