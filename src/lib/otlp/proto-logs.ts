/**
 * Protobuf decoding of ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1, logs/v1): resource logs →
 * scope logs → log records.
 */
import { readAnyValue, readKeyValue, readRequest, readResourceContainer, readScopeContainer } from './proto-common.js'
import { type ProtoReader, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, wireTable } from './proto-reader.js'
import type { OtlpLogRecord, OtlpLogsRequest, OtlpScopeLogs } from './types.js'

export function decodeLogsRequest(bytes: Uint8Array): OtlpLogsRequest {
  return { resourceLogs: readRequest(bytes, 'ExportLogsServiceRequest', readResourceLogs) }
}

function readResourceLogs(r: ProtoReader): OtlpLogsRequest['resourceLogs'][number] {
  const c = readResourceContainer(r, 'ResourceLogs', readScopeLogs)
  return { resource: c.resource, scopeLogs: c.children, schemaUrl: c.schemaUrl }
}

function readScopeLogs(r: ProtoReader): OtlpScopeLogs {
  const c = readScopeContainer(r, 'ScopeLogs', readLogRecord)
  return { scope: c.scope, logRecords: c.items, schemaUrl: c.schemaUrl }
}

export function newLogRecord(): OtlpLogRecord {
  return {
    timeUnixNano: '0',
    observedTimeUnixNano: '0',
    severityNumber: 0,
    severityText: '',
    body: {},
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  }
}

const LOG_RECORD = wireTable({
  1: WIRE_FIXED64, 2: WIRE_VARINT, 3: WIRE_LEN, 5: WIRE_LEN, 6: WIRE_LEN, 7: WIRE_VARINT, 8: WIRE_FIXED32, 9: WIRE_LEN,
  10: WIRE_LEN, 11: WIRE_FIXED64, 12: WIRE_LEN,
})

function readLogRecord(r: ProtoReader): OtlpLogRecord {
  const outer = r.enter()
  const l = newLogRecord()
  while (r.pos < r.limit) {
    switch (r.next('LogRecord', LOG_RECORD)) {
      case 1:
        l.timeUnixNano = r.fixed64()
        break
      case 11:
        l.observedTimeUnixNano = r.fixed64()
        break
      case 2:
        l.severityNumber = r.int32()
        break
      case 3:
        l.severityText = r.string()
        break
      case 5:
        l.body = readAnyValue(r, 0)
        break
      case 6:
        l.attributes.push(readKeyValue(r))
        break
      case 7:
        l.droppedAttributesCount = r.uint32()
        break
      case 8:
        l.flags = r.fixed32()
        break
      case 9:
        l.traceId = r.hex()
        break
      case 10:
        l.spanId = r.hex()
        break
      case 12:
        l.eventName = r.string()
        break
    }
  }
  r.leave(outer)
  return l
}
