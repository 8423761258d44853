/**
 * Protobuf encoding of the shared OTLP messages (AnyValue, KeyValue, Resource, InstrumentationScope) and of the
 * resource → scope → items nesting every Export*ServiceRequest has. Input is the OTLP/JSON object model (types.ts).
 */
import { UsageError } from '../errors.js'
import { MAX_NESTING } from './errors.js'
import { ProtoWriter, doubleValue, int64Parts } from './proto-writer.js'
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-reader.js'
import type { OtlpAnyValueJson, OtlpKeyValueJson, OtlpResourceJson, OtlpScopeJson } from './types.js'

export function writeAnyValue(w: ProtoWriter, v: OtlpAnyValueJson, depth = 0): void {
  if (depth > MAX_NESTING) throw new UsageError(`AnyValue nested deeper than ${MAX_NESTING}`)
  // oneof: written even when it holds the default, because presence is the point of a oneof.
  if (v.stringValue !== undefined) {
    w.tag(1, WIRE_LEN)
    w.string(v.stringValue)
  } else if (v.boolValue !== undefined) {
    w.tag(2, WIRE_VARINT)
    w.varint32(v.boolValue ? 1 : 0)
  } else if (v.intValue !== undefined) {
    const [lo, hi] = int64Parts(v.intValue, 'intValue', true)
    w.tag(3, WIRE_VARINT)
    w.varint64(lo, hi)
  } else if (v.doubleValue !== undefined) {
    w.tag(4, WIRE_FIXED64)
    w.double(doubleValue(v.doubleValue, 'doubleValue'))
  } else if (v.arrayValue !== undefined) {
    w.tag(5, WIRE_LEN)
    w.fork()
    for (const item of v.arrayValue.values ?? []) {
      w.tag(1, WIRE_LEN)
      w.fork()
      writeAnyValue(w, item, depth + 1)
      w.join()
    }
    w.join()
  } else if (v.kvlistValue !== undefined) {
    w.tag(6, WIRE_LEN)
    w.fork()
    writeKeyValues(w, 1, v.kvlistValue.values, depth + 1)
    w.join()
  } else if (v.bytesValue !== undefined) {
    w.tag(7, WIRE_LEN)
    w.bytes(Buffer.from(v.bytesValue, 'base64'))
  }
}

export function writeKeyValues(w: ProtoWriter, field: number, kvs: OtlpKeyValueJson[] | undefined, depth = 0): void {
  if (!kvs) return
  for (const kv of kvs) {
    w.tag(field, WIRE_LEN)
    w.fork()
    w.stringField(1, kv.key)
    if (kv.value) {
      w.tag(2, WIRE_LEN)
      w.fork()
      writeAnyValue(w, kv.value, depth)
      w.join()
    }
    w.join()
  }
}

export function writeResource(w: ProtoWriter, field: number, r: OtlpResourceJson | undefined): void {
  if (!r) return
  w.tag(field, WIRE_LEN)
  w.fork()
  writeKeyValues(w, 1, r.attributes)
  w.uint32Field(2, r.droppedAttributesCount)
  w.join()
}

export function writeScope(w: ProtoWriter, field: number, s: OtlpScopeJson | undefined): void {
  if (!s) return
  w.tag(field, WIRE_LEN)
  w.fork()
  w.stringField(1, s.name)
  w.stringField(2, s.version)
  writeKeyValues(w, 3, s.attributes)
  w.uint32Field(4, s.droppedAttributesCount)
  w.join()
}

export interface ResourceContainerJson<S> {
  resource?: OtlpResourceJson
  schemaUrl?: string
  scopes: S[] | undefined
}

/**
 * Request (field 1: Resource*) → Resource* (1 resource, 2 Scope*, 3 schema_url) → Scope* (1 scope, 2 items,
 * 3 schema_url): the nesting shared by traces, metrics and logs.
 */
export function encodeRequest<R, S extends { scope?: OtlpScopeJson; schemaUrl?: string }, I>(
  resources: R[] | undefined,
  open: (r: R) => ResourceContainerJson<S>,
  items: (s: S) => I[] | undefined,
  writeItem: (w: ProtoWriter, item: I) => void,
): Uint8Array {
  const w = new ProtoWriter()
  for (const r of resources ?? []) {
    const c = open(r)
    w.tag(1, WIRE_LEN)
    w.fork()
    writeResource(w, 1, c.resource)
    for (const s of c.scopes ?? []) {
      w.tag(2, WIRE_LEN)
      w.fork()
      writeScope(w, 1, s.scope)
      for (const item of items(s) ?? []) {
        w.tag(2, WIRE_LEN)
        w.fork()
        writeItem(w, item)
        w.join()
      }
      w.stringField(3, s.schemaUrl)
      w.join()
    }
    w.stringField(3, c.schemaUrl)
    w.join()
  }
  return w.finish()
}

/** Writes an int64 (string | number) as fixed64 / sfixed64, skipping zero (the proto3 default). */
export function fixed64Field(w: ProtoWriter, field: number, v: string | number | undefined, name: string, signed = false): void {
  w.fixed64Field(field, int64Parts(v, name, signed))
}
