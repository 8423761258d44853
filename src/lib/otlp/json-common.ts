/**
 * OTLP/JSON → the canonical model (types.ts), following the OTLP spec's JSON rules: lowerCamelCase field names
 * (unknown ones ignored), trace/span ids as hex in any case, 64-bit integers as decimal strings or numbers, enums as
 * integers (their proto names are accepted too), doubles as numbers or "NaN"/"Infinity"/"-Infinity", bytes as base64,
 * `null` meaning the default. A value of the wrong JSON type is an OtlpDecodeError naming its path (the whole request
 * gets 400, as the collector's JSON unmarshaller does); ids are kept as sent (lowercased) and judged per item later.
 */
import { MAX_NESTING, OtlpDecodeError } from './errors.js'
import type { OtlpAnyValue, OtlpKeyValue, OtlpResource, OtlpScope } from './types.js'

export type JsonObject = Record<string, unknown>

export function fail(path: string, message: string): never {
  throw new OtlpDecodeError('json', `${path}: ${message}`, path)
}

function show(v: unknown): string {
  let s: string
  try {
    s = JSON.stringify(v) ?? String(v)
  } catch {
    // Nested too deep for JSON.stringify's recursion: describe it instead of echoing it.
    s = Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested object'
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/** Parses a request body. Any parser failure (syntax, nesting too deep for the parser) is a decode error. */
export function parseJsonBody(body: Uint8Array | string): JsonObject {
  let parsed: unknown
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch (err) {
    throw new OtlpDecodeError('json', `body is not valid JSON: ${(err as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('$', `expected a JSON object, got ${show(parsed)}`)
  return parsed as JsonObject
}

export function obj(v: unknown, path: string): JsonObject | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) fail(path, `expected an object, got ${show(v)}`)
  return v as JsonObject
}

export function arr(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) fail(path, `expected an array, got ${show(v)}`)
  return v
}

/** Maps a repeated message field; items get `path[i]`. */
export function list<T>(v: unknown, path: string, map: (item: JsonObject, path: string) => T): T[] {
  const a = arr(v, path)
  const out = new Array<T>(a.length)
  for (let i = 0; i < a.length; i++) {
    const p = `${path}[${i}]`
    out[i] = map(obj(a[i], p) ?? {}, p)
  }
  return out
}

export function str(v: unknown, path: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') fail(path, `expected a string, got ${show(v)}`)
  return v
}

export function bool(v: unknown, path: string): boolean {
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') fail(path, `expected true or false, got ${show(v)}`)
  return v
}

const UINT = /^(0|[1-9]\d*)$/
const INT = /^-?\d+$/
const U64_MAX = (1n << 64n) - 1n
const I64_MIN = -(1n << 63n)
const I64_MAX = (1n << 63n) - 1n

/**
 * int64/uint64/fixed64 → exact decimal string. A JSON number above 2^53 has already lost precision in JSON.parse;
 * senders that care write these as strings, as the protobuf-JSON mapping does.
 */
export function int64(v: unknown, path: string, signed = false): string {
  if (v === undefined || v === null) return '0'
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || (!signed && v < 0)) fail(path, `expected ${signed ? 'an' : 'a non-negative'} integer, got ${show(v)}`)
    return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString()
  }
  if (typeof v !== 'string') fail(path, `expected an integer (number or decimal string), got ${show(v)}`)
  if (UINT.test(v) && v.length <= 15) return v
  if (!INT.test(v)) fail(path, `expected a decimal integer string, got ${show(v)}`)
  const big = BigInt(v)
  if (signed ? big < I64_MIN || big > I64_MAX : big < 0n || big > U64_MAX) fail(path, `${v} is out of range for a 64-bit ${signed ? 'signed' : 'unsigned'} integer`)
  return big.toString()
}

/** uint32 / int32 fields (counts, flags, scale, offsets): numbers, or decimal strings as proto3 JSON allows. */
export function int32(v: unknown, path: string, min = 0, max = 0xffffffff): number {
  if (v === undefined || v === null) return 0
  const n = typeof v === 'string' && INT.test(v) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) fail(path, `expected an integer from ${min} to ${max}, got ${show(v)}`)
  return n
}

/** An enum: an integer, or one of its proto names (`SPAN_KIND_SERVER`). */
export function enumValue(v: unknown, path: string, names: readonly string[]): number {
  if (typeof v === 'string') {
    const i = names.indexOf(v)
    if (i >= 0) return i
  }
  return int32(v, path, -0x80000000, 0x7fffffff)
}

export function double(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number') return v
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN
    if (v === 'Infinity') return Infinity
    if (v === '-Infinity') return -Infinity
    const n = v.trim() === '' ? NaN : Number(v)
    if (!Number.isNaN(n)) return n
  }
  fail(path, `expected a number, got ${show(v)}`)
}

export function optionalDouble(v: unknown, path: string): number | undefined {
  return v === undefined || v === null ? undefined : double(v, path)
}

/** Hex id (trace, span): lowercased; its length and digits are validated per item by the converters. */
export function hexId(v: unknown, path: string): string {
  return str(v, path).toLowerCase()
}

export function anyValue(v: JsonObject, path: string, depth = 0): OtlpAnyValue {
  if (depth > MAX_NESTING) fail(path, `AnyValue nested deeper than ${MAX_NESTING}`)
  if (v.stringValue !== undefined && v.stringValue !== null) return { stringValue: str(v.stringValue, `${path}.stringValue`) }
  if (v.boolValue !== undefined && v.boolValue !== null) return { boolValue: bool(v.boolValue, `${path}.boolValue`) }
  if (v.intValue !== undefined && v.intValue !== null) return { intValue: int64(v.intValue, `${path}.intValue`, true) }
  if (v.doubleValue !== undefined && v.doubleValue !== null) return { doubleValue: double(v.doubleValue, `${path}.doubleValue`) }
  if (v.arrayValue !== undefined && v.arrayValue !== null) {
    const a = obj(v.arrayValue, `${path}.arrayValue`) ?? {}
    return { arrayValue: { values: list(a.values, `${path}.arrayValue.values`, (x, p) => anyValue(x, p, depth + 1)) } }
  }
  if (v.kvlistValue !== undefined && v.kvlistValue !== null) {
    const kv = obj(v.kvlistValue, `${path}.kvlistValue`) ?? {}
    return { kvlistValue: { values: keyValues(kv.values, `${path}.kvlistValue.values`, depth + 1) } }
  }
  if (v.bytesValue !== undefined && v.bytesValue !== null) {
    // Re-encoded so that either base64 alphabet (standard or URL-safe) comes out canonical.
    return { bytesValue: Buffer.from(str(v.bytesValue, `${path}.bytesValue`), 'base64').toString('base64') }
  }
  return {}
}

export function keyValues(v: unknown, path: string, depth = 0): OtlpKeyValue[] {
  return list(v, path, (kv, p) => ({ key: str(kv.key, `${p}.key`), value: anyValue(obj(kv.value, `${p}.value`) ?? {}, `${p}.value`, depth) }))
}

export function resource(v: unknown, path: string): OtlpResource {
  const r = obj(v, path) ?? {}
  return { attributes: keyValues(r.attributes, `${path}.attributes`), droppedAttributesCount: int32(r.droppedAttributesCount, `${path}.droppedAttributesCount`) }
}

export function scope(v: unknown, path: string): OtlpScope {
  const s = obj(v, path) ?? {}
  return {
    name: str(s.name, `${path}.name`),
    version: str(s.version, `${path}.version`),
    attributes: keyValues(s.attributes, `${path}.attributes`),
    droppedAttributesCount: int32(s.droppedAttributesCount, `${path}.droppedAttributesCount`),
  }
}
