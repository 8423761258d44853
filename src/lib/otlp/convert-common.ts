/**
 * Shared pieces of the OTLP → store-row conversion (rows follow src/lib/store/tables.ts): attribute flattening into the
 * tables' parallel key/value string arrays, the service name, id and timestamp checks, and the result every converter
 * returns (rows plus counted, explained rejections for the OTLP partial_success response).
 */
import type { Row } from '../store/types.js'
import type { OtlpAnyValue, OtlpKeyValue } from './types.js'

export interface ConvertOptions {
  tenant: string
  /** Receive time in ns (decimal string): stamped as observed time on log records that carry none. */
  nowNs?: string
}

export interface Converted {
  rows: Row[]
  /** Items in the request (rows + rejected). */
  received: number
  /** Items refused by validation: OTLP's rejected_spans / rejected_data_points / rejected_log_records. */
  rejected: number
  /** The first few rejection reasons, each naming the item's path and the fix. */
  messages: string[]
}

/** How many rejection reasons a response carries; the rest are counted, not listed. */
export const MAX_MESSAGES = 5

export class Rejections {
  count = 0
  readonly messages: string[] = []
  add(path: string, reason: string): void {
    this.count++
    if (this.messages.length < MAX_MESSAGES) this.messages.push(`${path}: ${reason}`)
  }
}

/** The summary sent back in partial_success.error_message. */
export function rejectionMessage(c: Converted, noun: string): string {
  if (c.rejected === 0) return ''
  const more = c.rejected - c.messages.length
  return `${c.rejected} ${noun} rejected: ${c.messages.join('; ')}${more > 0 ? `; and ${more} more` : ''}`
}

/** AnyValue → the string stored in an attribute column: scalars as text, bytes base64, arrays and maps as JSON. */
export function anyValueText(v: OtlpAnyValue): string {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return v.intValue
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false'
  if (v.doubleValue !== undefined) return String(v.doubleValue)
  if (v.bytesValue !== undefined) return v.bytesValue
  if (v.arrayValue !== undefined || v.kvlistValue !== undefined) return JSON.stringify(anyValuePlain(v))
  return ''
}

/** AnyValue → a plain JSON value (arrays and maps keep their structure). */
export function anyValuePlain(v: OtlpAnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.intValue !== undefined) return Number.isSafeInteger(Number(v.intValue)) ? Number(v.intValue) : v.intValue
  if (v.doubleValue !== undefined) return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue)
  if (v.bytesValue !== undefined) return v.bytesValue
  if (v.arrayValue !== undefined) return v.arrayValue.values.map(anyValuePlain)
  if (v.kvlistValue !== undefined) return Object.fromEntries(v.kvlistValue.values.map((kv) => [kv.key, anyValuePlain(kv.value)]))
  return null
}

/** Attributes → parallel key and value arrays (the tables' `*_keys` / `*_values`). */
export function flatten(attrs: OtlpKeyValue[], keys: string[] = [], values: string[] = []): { keys: string[]; values: string[] } {
  for (const kv of attrs) {
    keys.push(kv.key)
    values.push(anyValueText(kv.value))
  }
  return { keys, values }
}

export function attr(attrs: OtlpKeyValue[], key: string): OtlpAnyValue | undefined {
  for (const kv of attrs) if (kv.key === key) return kv.value
  return undefined
}

/** `service.name` of a resource; OTel's own fallback when it is missing. */
export function serviceName(attrs: OtlpKeyValue[]): string {
  const v = attr(attrs, 'service.name')
  return v?.stringValue || 'unknown_service'
}

/** What every row of one resource shares: service and the resource attribute arrays (built once per resource). */
export interface ResourceInfo {
  service: string
  keys: string[]
  values: string[]
}

export function resourceInfo(attrs: OtlpKeyValue[]): ResourceInfo {
  const { keys, values } = flatten(attrs)
  return { service: serviceName(attrs), keys, values }
}

const HEX32 = /^[0-9a-f]{32}$/
const HEX16 = /^[0-9a-f]{16}$/
const ZERO32 = '0'.repeat(32)
const ZERO16 = '0'.repeat(16)

/** Why a trace id is unusable, or undefined when it is a valid one (16 bytes, not all zero). */
export function traceIdProblem(id: string): string | undefined {
  if (id === '') return 'traceId is missing (16 bytes, 32 hex characters)'
  if (!HEX32.test(id)) return `traceId must be 16 bytes (32 hex characters), got ${describeId(id)}`
  if (id === ZERO32) return 'traceId is all zeros, which OTLP defines as invalid'
  return undefined
}

export function spanIdProblem(id: string, field = 'spanId'): string | undefined {
  if (id === '') return `${field} is missing (8 bytes, 16 hex characters)`
  if (!HEX16.test(id)) return `${field} must be 8 bytes (16 hex characters), got ${describeId(id)}`
  if (id === ZERO16) return `${field} is all zeros, which OTLP defines as invalid`
  return undefined
}

function describeId(id: string): string {
  if (!/^[0-9a-f]*$/.test(id)) return `non-hex ${JSON.stringify(id.length > 40 ? `${id.slice(0, 37)}...` : id)}`
  return id.length % 2 === 0 ? `${id.length / 2} bytes` : `${id.length} hex characters`
}

export const isZeroSpanId = (id: string): boolean => id === ZERO16

/**
 * Latest timestamp we store: 2106-02-07 (2^32 − 1 seconds), where ClickHouse 18.16's DateTime — the type of the
 * derived time column there — ends. Anything later is a unit mistake (µs or ms sent as ns would be far earlier).
 */
export const MAX_TIME_NS = '4294967295000000000'

/** Why a nanosecond timestamp (canonical decimal string) is unusable, or undefined. */
export function timeProblem(ns: string, field: string): string | undefined {
  if (ns === '0') return `${field} is missing (nanoseconds since the Unix epoch)`
  if (ns.length > MAX_TIME_NS.length || (ns.length === MAX_TIME_NS.length && ns > MAX_TIME_NS)) {
    return `${field} ${ns} is after 2106-02-07; send nanoseconds since the Unix epoch`
  }
  return undefined
}

/**
 * end − start for canonical ns strings, exactly, without BigInt: seconds and nanoseconds are subtracted apart, so the
 * result is exact whenever it is below 2^53 ns (104 days). Negative when end < start.
 */
export function durationNs(start: string, end: string): number {
  const s = splitNs(start)
  const e = splitNs(end)
  return (e[0] - s[0]) * 1e9 + (e[1] - s[1])
}

function splitNs(ns: string): [number, number] {
  return ns.length <= 9 ? [0, Number(ns)] : [Number(ns.slice(0, -9)), Number(ns.slice(-9))]
}

/** Comparison of canonical (no leading zeros) unsigned decimal strings. */
export function compareNs(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
}
