/**
 * The bus message between gateway and consumer: one message per (tenant, partition key) group of store-ready rows.
 * Grouping spans of one trace (or points of one series) into one message keeps Kafka's per-key order and cuts the
 * message count by the fan-in of a request (100 spans of ~10 traces → ~10 messages), which is what lets a gateway
 * core reach tens of thousands of spans per second through kafkajs.
 *
 * Format v3 (written): binary, the v2 columns and row arrays with each string written once per message in a string
 * table (envelope-binary.ts). The first byte is 0x03, which no JSON text starts with, so one decoder reads all three.
 * Against v2, about a third of the bytes, and 25–40% less CPU to encode (gateway) and to decode (consumer); docs/gateway.md.
 * Upgrade consumers and detectors before gateways: a reader from before v3 dead-letters v3 records as not_json.
 * Format v2 (still read): JSON `{"v":2,"id":"k3J9xQ-1a","signal":"traces","tenant":"acme","cols":["trace_id",…],
 * "rows":[["4bf9…",…],…]}` — column names once per message, each row an array in `cols` order (null: the row has no
 * such column). Against v1 (`rows` as objects, names repeated per row) this is 26% fewer bytes for spans and 40% less
 * encoding time, and every byte saved is saved again by gzip, kafkajs's record encoding, the brokers and the
 * consumer's JSON.parse (measured in bench/ingest; docs/gateway.md).
 * Format v1 (still read, so records already on the bus or in a gateway spool from before v2 are consumed):
 * `{"v":1,"id":…,"signal":…,"tenant":…,"rows":[{…}]}`.
 * Rows use the column names of src/lib/store/tables.ts; UInt64 nanosecond fields are decimal strings (exact beyond
 * 2^53). `id` (optional in v1) is unique per envelope: the gateway stamps it once, so a producer retry that writes the
 * same envelope at a second offset carries the same id and the consumer drops the copy
 * (src/agents/consumer/dedup-window.ts).
 */
import { AiopsError } from '../errors.js'
import type { Row } from '../store/types.js'
import { BINARY_MAGIC, BinaryEnvelopeError, decodeBinaryEnvelope, encodeBinaryEnvelope } from './envelope-binary.js'

/** The version written; decodeEnvelope also reads the JSON versions in READ_VERSIONS. */
export const ENVELOPE_VERSION = 3
const READ_VERSIONS: readonly unknown[] = [1, 2]
export type Signal = 'traces' | 'metrics' | 'logs'
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs']

/** Which store table each signal's rows go to. */
export const SIGNAL_TABLE: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'logs' }

export interface BusEnvelope {
  v: 1 | 2 | 3
  /** Unique per envelope (see above); absent on messages from before it was added. */
  id?: string
  signal: Signal
  tenant: string
  rows: Row[]
}

/** A message that cannot be decoded: it goes to the dead-letter topic with `reason`, never blocks a partition. */
export class EnvelopeError extends AiopsError {
  constructor(
    readonly reason: 'not_json' | 'bad_version' | 'bad_signal' | 'bad_tenant' | 'bad_rows' | 'bad_id',
    message: string,
  ) {
    super(message, { code: 'AIOPS_BAD_ENVELOPE', retriable: false, details: { reason } })
  }
}

/** The current format (v3, binary). */
export function encodeEnvelope(e: Omit<BusEnvelope, 'v'>): Buffer {
  const { cols, rows } = columnar(e.rows)
  const head = { signal: SIGNALS.indexOf(e.signal), tenant: e.tenant, ...(e.id !== undefined ? { id: e.id } : {}) }
  return encodeBinaryEnvelope({ ...head, cols, rows })
}

/** v2 (JSON): what gateways wrote before v3, and still write with gateway.envelopeVersion 2 while readers are upgraded. */
export function encodeEnvelopeV2(e: Omit<BusEnvelope, 'v'>): Buffer {
  const { cols, rows } = columnar(e.rows)
  const body = e.id === undefined
    ? { v: 2, signal: e.signal, tenant: e.tenant, cols, rows }
    : { v: 2, id: e.id, signal: e.signal, tenant: e.tenant, cols, rows }
  return Buffer.from(JSON.stringify(body))
}

/**
 * Rows → column names + value arrays. Rows made by one converter share their key order, so the common case is one
 * pass comparing each key with the expected column; a row with other keys switches to the general path (a union of
 * all keys, first-seen order).
 */
function columnar(rows: Row[]): { cols: string[]; rows: unknown[][] } {
  if (rows.length === 0) return { cols: [], rows: [] }
  const cols = Object.keys(rows[0]!)
  const n = cols.length
  const out: unknown[][] = new Array(rows.length)
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    const vals = new Array(n)
    let i = 0
    for (const k in row) {
      if (i >= n || cols[i] !== k) return columnarUnion(rows)
      vals[i++] = row[k]
    }
    if (i !== n) return columnarUnion(rows)
    out[r] = vals
  }
  return { cols, rows: out }
}

function columnarUnion(rows: Row[]): { cols: string[]; rows: unknown[][] } {
  const index = new Map<string, number>()
  for (const row of rows) for (const k in row) if (!index.has(k)) index.set(k, index.size)
  const out = rows.map((row) => {
    const vals: unknown[] = new Array(index.size).fill(null)
    for (const k in row) vals[index.get(k)!] = row[k] === undefined ? null : row[k]
    return vals
  })
  return { cols: [...index.keys()], rows: out }
}

/**
 * A decoded envelope before v2 rows become objects: the consumer validates v2 rows as arrays (column checks resolved
 * once per message, not once per value) and builds each row object once. v1 rows are objects already.
 */
export type EnvelopeParts = Omit<BusEnvelope, 'rows'> & ({ v: 1; rows: Row[] } | { v: 2 | 3; cols: string[]; rows: unknown[][] })

export function decodeEnvelope(value: Buffer): BusEnvelope {
  const p = decodeEnvelopeParts(value)
  const rows = p.v === 1 ? p.rows : rowsFromColumns(p.cols, p.rows)
  const out: BusEnvelope = { v: p.v, signal: p.signal, tenant: p.tenant, rows }
  if (p.id !== undefined) out.id = p.id
  return out
}

/** Everything decodeEnvelope checks (the same EnvelopeErrors), without making v2/v3 rows into objects. */
export function decodeEnvelopeParts(value: Buffer): EnvelopeParts {
  if (value[0] === BINARY_MAGIC) return decodeV3(value)
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (err) {
    throw new EnvelopeError('not_json', `message is not JSON: ${(err as Error).message}`)
  }
  const e = parsed as (Partial<BusEnvelope> & { cols?: unknown; rows?: unknown }) | null
  if (!e || typeof e !== 'object') throw new EnvelopeError('not_json', 'message is not a JSON object')
  if (!READ_VERSIONS.includes(e.v)) throw new EnvelopeError('bad_version', `envelope version ${String(e.v)} is not one of ${READ_VERSIONS.join(', ')}`)
  if (!SIGNALS.includes(e.signal as Signal)) throw new EnvelopeError('bad_signal', `signal ${String(e.signal)} is not one of ${SIGNALS.join(', ')}`)
  if (e.id !== undefined && (typeof e.id !== 'string' || e.id === '')) throw new EnvelopeError('bad_id', 'id must be a non-empty string when present')
  if (typeof e.tenant !== 'string' || e.tenant === '') throw new EnvelopeError('bad_tenant', 'tenant must be a non-empty string')
  const head = { signal: e.signal!, tenant: e.tenant, ...(e.id !== undefined ? { id: e.id } : {}) }
  if (e.v === 1) return { v: 1, ...head, rows: objectRows(e.rows) }
  return { v: 2, ...head, ...columnRows(e.cols, e.rows) }
}

function decodeV3(value: Buffer): EnvelopeParts {
  let b
  try {
    b = decodeBinaryEnvelope(value)
  } catch (err) {
    if (err instanceof BinaryEnvelopeError) throw new EnvelopeError('bad_rows', err.message)
    throw err
  }
  const signal = SIGNALS[b.signal]
  if (signal === undefined) throw new EnvelopeError('bad_signal', `signal ${b.signal} is not one of 0..${SIGNALS.length - 1} (${SIGNALS.join(', ')})`)
  if (b.tenant === '') throw new EnvelopeError('bad_tenant', 'tenant must be a non-empty string')
  return { v: 3, signal, tenant: b.tenant, ...(b.id !== undefined ? { id: b.id } : {}), ...columnRows(b.cols, b.rows) }
}

function objectRows(rows: unknown): Row[] {
  if (!Array.isArray(rows) || !rows.every((r) => r && typeof r === 'object' && !Array.isArray(r))) {
    throw new EnvelopeError('bad_rows', 'rows must be an array of objects')
  }
  return rows as Row[]
}

/** The v2 shape checks: distinct column names (never __proto__), rows as arrays of at most one value per column. */
function columnRows(cols: unknown, rows: unknown): { cols: string[]; rows: unknown[][] } {
  // '__proto__' would set a row's prototype on assignment when rows become objects (JSON.parse makes it a plain key).
  if (!Array.isArray(cols) || !cols.every((c) => typeof c === 'string' && c !== '' && c !== '__proto__') || new Set(cols).size !== cols.length) {
    throw new EnvelopeError('bad_rows', 'cols must be an array of distinct non-empty column names (not __proto__)')
  }
  if (!Array.isArray(rows)) throw new EnvelopeError('bad_rows', 'rows must be an array of arrays')
  for (let r = 0; r < rows.length; r++) {
    const vals = rows[r] as unknown
    if (!Array.isArray(vals) || vals.length > cols.length) {
      throw new EnvelopeError('bad_rows', `row ${r} must be an array of at most ${cols.length} values (one per column)`)
    }
  }
  return { cols: cols as string[], rows: rows as unknown[][] }
}

/** v2 → row objects; a null value means "no such column in this row" (rows never hold null values). */
function rowsFromColumns(names: string[], rows: unknown[][]): Row[] {
  const out: Row[] = new Array(rows.length)
  for (let r = 0; r < rows.length; r++) {
    const vals = rows[r]!
    const row: Row = {}
    for (let i = 0; i < vals.length; i++) if (vals[i] !== null) row[names[i]!] = vals[i]
    out[r] = row
  }
  return out
}
