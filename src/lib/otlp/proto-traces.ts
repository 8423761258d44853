/**
 * Protobuf decoding of ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1, trace/v1): resource spans →
 * scope spans → spans with events, links and status. Ids come out as lowercase hex of whatever length was sent;
 * validating them (16/8 bytes, not all zero) is per item, in convert-traces.ts, so one bad span rejects only itself.
 */
import { readKeyValue, readRequest, readResourceContainer, readScopeContainer } from './proto-common.js'
import { type ProtoReader, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, wireTable } from './proto-reader.js'
import type { OtlpScopeSpans, OtlpSpan, OtlpSpanEvent, OtlpSpanLink, OtlpTraceRequest } from './types.js'

export function decodeTraceRequest(bytes: Uint8Array): OtlpTraceRequest {
  return { resourceSpans: readRequest(bytes, 'ExportTraceServiceRequest', readResourceSpans) }
}

function readResourceSpans(r: ProtoReader): OtlpTraceRequest['resourceSpans'][number] {
  const c = readResourceContainer(r, 'ResourceSpans', readScopeSpans)
  return { resource: c.resource, scopeSpans: c.children, schemaUrl: c.schemaUrl }
}

function readScopeSpans(r: ProtoReader): OtlpScopeSpans {
  const c = readScopeContainer(r, 'ScopeSpans', readSpan)
  return { scope: c.scope, spans: c.items, schemaUrl: c.schemaUrl }
}

export function newSpan(): OtlpSpan {
  return {
    traceId: '',
    spanId: '',
    traceState: '',
    parentSpanId: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { message: '', code: 0 },
  }
}

const SPAN = wireTable({
  1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN, 4: WIRE_LEN, 5: WIRE_LEN, 6: WIRE_VARINT, 7: WIRE_FIXED64, 8: WIRE_FIXED64,
  9: WIRE_LEN, 10: WIRE_VARINT, 11: WIRE_LEN, 12: WIRE_VARINT, 13: WIRE_LEN, 14: WIRE_VARINT, 15: WIRE_LEN, 16: WIRE_FIXED32,
})

function readSpan(r: ProtoReader): OtlpSpan {
  const outer = r.enter()
  const s = newSpan()
  while (r.pos < r.limit) {
    switch (r.next('Span', SPAN)) {
      case 1:
        s.traceId = r.hex()
        break
      case 2:
        s.spanId = r.hex()
        break
      case 3:
        s.traceState = r.string()
        break
      case 4:
        s.parentSpanId = r.hex()
        break
      case 5:
        s.name = r.string()
        break
      case 6:
        s.kind = r.int32()
        break
      case 7:
        s.startTimeUnixNano = r.fixed64()
        break
      case 8:
        s.endTimeUnixNano = r.fixed64()
        break
      case 9:
        s.attributes.push(readKeyValue(r))
        break
      case 10:
        s.droppedAttributesCount = r.uint32()
        break
      case 11:
        s.events.push(readEvent(r))
        break
      case 12:
        s.droppedEventsCount = r.uint32()
        break
      case 13:
        s.links.push(readLink(r))
        break
      case 14:
        s.droppedLinksCount = r.uint32()
        break
      case 15:
        s.status = readStatus(r)
        break
      case 16:
        s.flags = r.fixed32()
        break
    }
  }
  r.leave(outer)
  return s
}

const EVENT = wireTable({ 1: WIRE_FIXED64, 2: WIRE_LEN, 3: WIRE_LEN, 4: WIRE_VARINT })

function readEvent(r: ProtoReader): OtlpSpanEvent {
  const outer = r.enter()
  const e: OtlpSpanEvent = { timeUnixNano: '0', name: '', attributes: [], droppedAttributesCount: 0 }
  while (r.pos < r.limit) {
    switch (r.next('Span.Event', EVENT)) {
      case 1:
        e.timeUnixNano = r.fixed64()
        break
      case 2:
        e.name = r.string()
        break
      case 3:
        e.attributes.push(readKeyValue(r))
        break
      case 4:
        e.droppedAttributesCount = r.uint32()
        break
    }
  }
  r.leave(outer)
  return e
}

const LINK = wireTable({ 1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN, 4: WIRE_LEN, 5: WIRE_VARINT, 6: WIRE_FIXED32 })

function readLink(r: ProtoReader): OtlpSpanLink {
  const outer = r.enter()
  const l: OtlpSpanLink = { traceId: '', spanId: '', traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 }
  while (r.pos < r.limit) {
    switch (r.next('Span.Link', LINK)) {
      case 1:
        l.traceId = r.hex()
        break
      case 2:
        l.spanId = r.hex()
        break
      case 3:
        l.traceState = r.string()
        break
      case 4:
        l.attributes.push(readKeyValue(r))
        break
      case 5:
        l.droppedAttributesCount = r.uint32()
        break
      case 6:
        l.flags = r.fixed32()
        break
    }
  }
  r.leave(outer)
  return l
}

/** Status: field 1 is reserved (the old deprecated_code), 2 message, 3 code. */
const STATUS = wireTable({ 2: WIRE_LEN, 3: WIRE_VARINT })

function readStatus(r: ProtoReader): OtlpSpan['status'] {
  const outer = r.enter()
  const st = { message: '', code: 0 }
  while (r.pos < r.limit) {
    switch (r.next('Status', STATUS)) {
      case 2:
        st.message = r.string()
        break
      case 3:
        st.code = r.int32()
        break
    }
  }
  r.leave(outer)
  return st
}
