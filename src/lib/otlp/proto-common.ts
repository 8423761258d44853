/**
 * Protobuf decoding of the messages every signal shares (opentelemetry/proto/common/v1, resource/v1): AnyValue,
 * KeyValue, InstrumentationScope, Resource. Each decoder reads one length-delimited message at the reader's position
 * and returns its canonical form (types.ts); unknown fields are skipped. A message field sent twice keeps the last.
 */
import { MAX_NESTING } from './errors.js'
import { ProtoReader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, wireTable } from './proto-reader.js'
import type { OtlpAnyValue, OtlpKeyValue, OtlpResource, OtlpScope } from './types.js'

const ANY_VALUE = wireTable({ 1: WIRE_LEN, 2: WIRE_VARINT, 3: WIRE_VARINT, 4: WIRE_FIXED64, 5: WIRE_LEN, 6: WIRE_LEN, 7: WIRE_LEN })
const LIST = wireTable({ 1: WIRE_LEN })
const KEY_VALUE = wireTable({ 1: WIRE_LEN, 2: WIRE_LEN })
const SCOPE = wireTable({ 1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN, 4: WIRE_VARINT })
const RESOURCE = wireTable({ 1: WIRE_LEN, 2: WIRE_VARINT })

export function readAnyValue(r: ProtoReader, depth: number): OtlpAnyValue {
  if (depth > MAX_NESTING) r.fail(`AnyValue nested deeper than ${MAX_NESTING}`)
  const outer = r.enter()
  // oneof: the last value field on the wire wins, as in every protobuf runtime.
  let v: OtlpAnyValue = {}
  while (r.pos < r.limit) {
    switch (r.next('AnyValue', ANY_VALUE)) {
      case 1:
        v = { stringValue: r.string() }
        break
      case 2:
        v = { boolValue: r.bool() }
        break
      case 3:
        v = { intValue: r.int64() }
        break
      case 4:
        v = { doubleValue: r.double() }
        break
      case 5:
        v = { arrayValue: { values: readArrayValue(r, depth + 1) } }
        break
      case 6:
        v = { kvlistValue: { values: readKeyValueList(r, depth + 1) } }
        break
      case 7:
        v = { bytesValue: r.base64() }
        break
    }
  }
  r.leave(outer)
  return v
}

function readArrayValue(r: ProtoReader, depth: number): OtlpAnyValue[] {
  const outer = r.enter()
  const values: OtlpAnyValue[] = []
  while (r.pos < r.limit) if (r.next('ArrayValue', LIST) === 1) values.push(readAnyValue(r, depth))
  r.leave(outer)
  return values
}

function readKeyValueList(r: ProtoReader, depth: number): OtlpKeyValue[] {
  const outer = r.enter()
  const values: OtlpKeyValue[] = []
  while (r.pos < r.limit) if (r.next('KeyValueList', LIST) === 1) values.push(readKeyValue(r, depth))
  r.leave(outer)
  return values
}

export function readKeyValue(r: ProtoReader, depth = 0): OtlpKeyValue {
  const outer = r.enter()
  let key = ''
  let value: OtlpAnyValue = {}
  while (r.pos < r.limit) {
    switch (r.next('KeyValue', KEY_VALUE)) {
      case 1:
        key = r.string()
        break
      case 2:
        value = readAnyValue(r, depth + 1)
        break
    }
  }
  r.leave(outer)
  return { key, value }
}

export function readScope(r: ProtoReader): OtlpScope {
  const outer = r.enter()
  const scope = emptyScope()
  while (r.pos < r.limit) {
    switch (r.next('InstrumentationScope', SCOPE)) {
      case 1:
        scope.name = r.string()
        break
      case 2:
        scope.version = r.string()
        break
      case 3:
        scope.attributes.push(readKeyValue(r))
        break
      case 4:
        scope.droppedAttributesCount = r.uint32()
        break
    }
  }
  r.leave(outer)
  return scope
}

export function readResource(r: ProtoReader): OtlpResource {
  const outer = r.enter()
  const resource = emptyResource()
  while (r.pos < r.limit) {
    switch (r.next('Resource', RESOURCE)) {
      case 1:
        resource.attributes.push(readKeyValue(r))
        break
      case 2:
        resource.droppedAttributesCount = r.uint32()
        break
    }
  }
  r.leave(outer)
  return resource
}

/**
 * ResourceSpans / ResourceMetrics / ResourceLogs and their Scope* share one shape: resource or scope in field 1, the
 * repeated children in field 2, schema_url in field 3.
 */
const CONTAINER = wireTable({ 1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN })

export function readResourceContainer<C>(r: ProtoReader, message: string, readChild: (r: ProtoReader) => C): { resource: OtlpResource; children: C[]; schemaUrl: string } {
  const outer = r.enter()
  const out = { resource: emptyResource(), children: [] as C[], schemaUrl: '' }
  while (r.pos < r.limit) {
    switch (r.next(message, CONTAINER)) {
      case 1:
        out.resource = readResource(r)
        break
      case 2:
        out.children.push(readChild(r))
        break
      case 3:
        out.schemaUrl = r.string()
        break
    }
  }
  r.leave(outer)
  return out
}

export function readScopeContainer<I>(r: ProtoReader, message: string, readItem: (r: ProtoReader) => I): { scope: OtlpScope; items: I[]; schemaUrl: string } {
  const outer = r.enter()
  const out = { scope: emptyScope(), items: [] as I[], schemaUrl: '' }
  while (r.pos < r.limit) {
    switch (r.next(message, CONTAINER)) {
      case 1:
        out.scope = readScope(r)
        break
      case 2:
        out.items.push(readItem(r))
        break
      case 3:
        out.schemaUrl = r.string()
        break
    }
  }
  r.leave(outer)
  return out
}

/** The top level of every Export*ServiceRequest: repeated resource containers in field 1. */
export function readRequest<C>(bytes: Uint8Array, message: string, readChild: (r: ProtoReader) => C): C[] {
  const r = new ProtoReader(toBuffer(bytes))
  const out: C[] = []
  while (r.pos < r.limit) if (r.next(message, LIST) === 1) out.push(readChild(r))
  return out
}

export const emptyResource = (): OtlpResource => ({ attributes: [], droppedAttributesCount: 0 })
export const emptyScope = (): OtlpScope => ({ name: '', version: '', attributes: [], droppedAttributesCount: 0 })

/** Wraps a request body for the reader without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
