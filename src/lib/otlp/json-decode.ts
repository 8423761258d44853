/**
 * OTLP/JSON decoders for traces and logs (metrics: json-metrics.ts): request body → the canonical model, the same
 * objects the protobuf decoders return, so everything downstream (validation, rows, sampling) has one input.
 */
import { enumValue, hexId, int32, int64, keyValues, list, obj, parseJsonBody, resource, scope, str, anyValue } from './json-common.js'
import type { JsonObject } from './json-common.js'
import type { OtlpLogRecord, OtlpLogsRequest, OtlpSpan, OtlpTraceRequest } from './types.js'

export const SPAN_KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER',
] as const
export const STATUS_CODE_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const
/** SeverityNumber names by value (0..24). */
export const SEVERITY_NAMES: readonly string[] = [
  'SEVERITY_NUMBER_UNSPECIFIED',
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((s) => [1, 2, 3, 4].map((i) => `SEVERITY_NUMBER_${s}${i === 1 ? '' : i}`)),
]

export function decodeTraceRequestJson(body: Uint8Array | string): OtlpTraceRequest {
  const root = parseJsonBody(body)
  return {
    resourceSpans: list(root.resourceSpans, 'resourceSpans', (rs, p) => ({
      resource: resource(rs.resource, `${p}.resource`),
      scopeSpans: list(rs.scopeSpans, `${p}.scopeSpans`, (ss, q) => ({
        scope: scope(ss.scope, `${q}.scope`),
        spans: list(ss.spans, `${q}.spans`, span),
        schemaUrl: str(ss.schemaUrl, `${q}.schemaUrl`),
      })),
      schemaUrl: str(rs.schemaUrl, `${p}.schemaUrl`),
    })),
  }
}

function span(s: JsonObject, p: string): OtlpSpan {
  const status = obj(s.status, `${p}.status`) ?? {}
  return {
    traceId: hexId(s.traceId, `${p}.traceId`),
    spanId: hexId(s.spanId, `${p}.spanId`),
    traceState: str(s.traceState, `${p}.traceState`),
    parentSpanId: hexId(s.parentSpanId, `${p}.parentSpanId`),
    flags: int32(s.flags, `${p}.flags`),
    name: str(s.name, `${p}.name`),
    kind: enumValue(s.kind, `${p}.kind`, SPAN_KIND_NAMES),
    startTimeUnixNano: int64(s.startTimeUnixNano, `${p}.startTimeUnixNano`),
    endTimeUnixNano: int64(s.endTimeUnixNano, `${p}.endTimeUnixNano`),
    attributes: keyValues(s.attributes, `${p}.attributes`),
    droppedAttributesCount: int32(s.droppedAttributesCount, `${p}.droppedAttributesCount`),
    events: list(s.events, `${p}.events`, (e, q) => ({
      timeUnixNano: int64(e.timeUnixNano, `${q}.timeUnixNano`),
      name: str(e.name, `${q}.name`),
      attributes: keyValues(e.attributes, `${q}.attributes`),
      droppedAttributesCount: int32(e.droppedAttributesCount, `${q}.droppedAttributesCount`),
    })),
    droppedEventsCount: int32(s.droppedEventsCount, `${p}.droppedEventsCount`),
    links: list(s.links, `${p}.links`, (l, q) => ({
      traceId: hexId(l.traceId, `${q}.traceId`),
      spanId: hexId(l.spanId, `${q}.spanId`),
      traceState: str(l.traceState, `${q}.traceState`),
      attributes: keyValues(l.attributes, `${q}.attributes`),
      droppedAttributesCount: int32(l.droppedAttributesCount, `${q}.droppedAttributesCount`),
      flags: int32(l.flags, `${q}.flags`),
    })),
    droppedLinksCount: int32(s.droppedLinksCount, `${p}.droppedLinksCount`),
    status: { message: str(status.message, `${p}.status.message`), code: enumValue(status.code, `${p}.status.code`, STATUS_CODE_NAMES) },
  }
}

export function decodeLogsRequestJson(body: Uint8Array | string): OtlpLogsRequest {
  const root = parseJsonBody(body)
  return {
    resourceLogs: list(root.resourceLogs, 'resourceLogs', (rl, p) => ({
      resource: resource(rl.resource, `${p}.resource`),
      scopeLogs: list(rl.scopeLogs, `${p}.scopeLogs`, (sl, q) => ({
        scope: scope(sl.scope, `${q}.scope`),
        logRecords: list(sl.logRecords, `${q}.logRecords`, logRecord),
        schemaUrl: str(sl.schemaUrl, `${q}.schemaUrl`),
      })),
      schemaUrl: str(rl.schemaUrl, `${p}.schemaUrl`),
    })),
  }
}

function logRecord(l: JsonObject, p: string): OtlpLogRecord {
  const body = obj(l.body, `${p}.body`)
  return {
    timeUnixNano: int64(l.timeUnixNano, `${p}.timeUnixNano`),
    observedTimeUnixNano: int64(l.observedTimeUnixNano, `${p}.observedTimeUnixNano`),
    severityNumber: enumValue(l.severityNumber, `${p}.severityNumber`, SEVERITY_NAMES),
    severityText: str(l.severityText, `${p}.severityText`),
    body: body ? anyValue(body, `${p}.body`) : {},
    attributes: keyValues(l.attributes, `${p}.attributes`),
    droppedAttributesCount: int32(l.droppedAttributesCount, `${p}.droppedAttributesCount`),
    flags: int32(l.flags, `${p}.flags`),
    traceId: hexId(l.traceId, `${p}.traceId`),
    spanId: hexId(l.spanId, `${p}.spanId`),
    eventName: str(l.eventName, `${p}.eventName`),
  }
}
