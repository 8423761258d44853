/**
 * Bus record → store-ready rows, or the reason it can't be stored. Every check the store would make (and a few it
 * would not: a row for another tenant, a parallel attribute array of the wrong length) is made here, per record, so
 * that one bad record goes to the dead-letter topic instead of failing the whole insert and blocking its partition.
 *
 * Checks are a pure function of the record bytes (no clock, no config): a replay after a crash must rebuild exactly
 * the same rows from the same records, or the batch's dedup token would describe different data.
 */
import type { ConsumedRecord } from '../../lib/bus/types.js'
import { decodeEnvelopeParts, EnvelopeError, SIGNAL_TABLE, type EnvelopeParts } from '../../lib/otlp/envelope.js'
import { decimalLess, isDigits, stripZeros } from '../../lib/store/decimal.js'
import { tableSpec, type ColumnType, type TableSpec } from '../../lib/store/tables.js'
import type { Row } from '../../lib/store/types.js'

export type RejectReason =
  | EnvelopeError['reason']
  | 'unknown_column'
  | 'missing_column'
  | 'bad_value'
  | 'tenant_mismatch'
  | 'store_rejected'

export const REJECT_REASONS: readonly RejectReason[] = [
  'not_json', 'bad_version', 'bad_signal', 'bad_tenant', 'bad_rows', 'bad_id',
  'unknown_column', 'missing_column', 'bad_value', 'tenant_mismatch', 'store_rejected',
]

export interface AcceptedRecord {
  ok: true
  record: ConsumedRecord
  table: string
  tenant: string
  /** The envelope's id (gateway-stamped, for dropping producer-retry copies); absent on older messages. */
  id?: string
  rows: Row[]
}

export interface RejectedRecord {
  ok: false
  record: ConsumedRecord
  reason: RejectReason
  message: string
}

export type DecodedRecord = AcceptedRecord | RejectedRecord

class RowError extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message)
  }
}

const UINT64_MAX = 18446744073709551615n
/** DateTime (what ClickHouse 18.16 derives the time column into) ends in February 2106. */
const MAX_TIME_NS = 4294967295n * 1_000_000_000n
const SPECIAL_FLOAT = /^[+-]?(nan|inf|infinity)$/i
const LIMITS: Partial<Record<ColumnType, number>> = { UInt8: 0xff, UInt16: 0xffff, UInt32: 0xffffffff }

type Check = (v: unknown) => unknown

const describe = (v: unknown): string => {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s
}

function uint64(v: unknown): string | number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  // Up to 19 digits always fits (< 10^19 < 2^64): only a 20-digit value needs the exact comparison.
  if (typeof v === 'string' && isDigits(v) && (v.length < 20 || BigInt(v) <= UINT64_MAX)) return v
  throw new TypeError(`expected an unsigned 64-bit integer (number or decimal string), got ${describe(v)}`)
}

function float(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && SPECIAL_FLOAT.test(v)) {
    // JSON has no spelling for NaN/Infinity; the store writes JS NaN/±Infinity in the form every server reads.
    const neg = v.startsWith('-')
    return /nan/i.test(v) ? Number.NaN : neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
  }
  throw new TypeError(`expected a number, got ${describe(v)}`)
}

const MAX_TIME_TEXT = MAX_TIME_NS.toString() // 19 digits

/**
 * 0 < ns <= MAX_TIME_NS for a value uint64() accepted, without a BigInt per row (that was measurable): numbers are
 * safe integers (< 2^53, far below the maximum); decimal strings compare as text once leading zeros are gone.
 */
function timeInRange(ts: string | number): boolean {
  if (typeof ts === 'number') return ts > 0
  const digits = stripZeros(ts)
  return digits !== '0' && !decimalLess(MAX_TIME_TEXT, digits)
}

/** A checker per column type: returns the value to store (normalised) or throws TypeError with what was expected. */
function checker(type: ColumnType): Check {
  switch (type) {
    case 'String':
    case 'LowString':
      return (v) => {
        if (typeof v !== 'string') throw new TypeError(`expected a string, got ${describe(v)}`)
        return v
      }
    case 'UInt8':
    case 'UInt16':
    case 'UInt32': {
      const max = LIMITS[type]!
      return (v) => {
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max) return v
        throw new TypeError(`expected an integer from 0 to ${max}, got ${describe(v)}`)
      }
    }
    case 'UInt64':
      return uint64
    case 'Float64':
      return float
    case 'Array(String)':
      return (v) => {
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v
        throw new TypeError(`expected an array of strings, got ${describe(v)}`)
      }
    case 'Array(Float64)':
      return (v) => {
        if (!Array.isArray(v)) throw new TypeError(`expected an array of numbers, got ${describe(v)}`)
        return v.map(float)
      }
    case 'Array(UInt64)':
      return (v) => {
        if (!Array.isArray(v)) throw new TypeError(`expected an array of unsigned integers, got ${describe(v)}`)
        return v.map(uint64)
      }
  }
}

/** What validation needs to know about one table, computed once. */
interface TableRules {
  spec: TableSpec
  checks: Map<string, Check>
  /** [keys column, values column] pairs that must have the same length. */
  pairs: Array<[string, string]>
}

const rulesCache = new Map<string, TableRules>()

function rulesFor(table: string): TableRules {
  let r = rulesCache.get(table)
  if (!r) {
    const spec = tableSpec(table)
    if (!spec) throw new Error(`no table description for ${table}`) // SIGNAL_TABLE names only described tables
    const checks = new Map(spec.columns.map((c) => [c.name, checker(c.type)] as const))
    const pairs = spec.columns
      .filter((c) => c.name.endsWith('_keys') && checks.has(c.name.replace(/_keys$/, '_values')))
      .map((c) => [c.name, c.name.replace(/_keys$/, '_values')] as [string, string])
    r = { spec, checks, pairs }
    rulesCache.set(table, r)
  }
  return r
}

/**
 * Checks one row in place: known columns only, values of the column's type (normalised where JSON cannot spell a
 * value), tenant_id equal to the envelope's tenant (filled in when absent), and a time column the store can
 * partition by. Throws RowError naming the column and what it accepts.
 */
function checkRow(row: Row, tenant: string, rules: TableRules): void {
  for (const key in row) {
    const check = rules.checks.get(key)
    if (!check) {
      throw new RowError('unknown_column', `column ${key} is not in table ${rules.spec.name}; columns are ${[...rules.checks.keys()].join(', ')}`)
    }
    const v = row[key]
    if (v === undefined || v === null) {
      delete row[key] // absent: the store fills the column default
      continue
    }
    try {
      row[key] = check(v)
    } catch (err) {
      throw new RowError('bad_value', `column ${key}: ${(err as Error).message}`)
    }
  }
  checkRowRules(row, tenant, rules)
}

/**
 * The v2 form of checkRow: the row arrives as an array in `cols` order with each column's check looked up once per
 * message (`checks`), and the row object is built from the checked values. Same checks, order and messages.
 */
function checkArrayRow(vals: unknown[], cols: string[], checks: ReadonlyArray<Check | undefined>, tenant: string, rules: TableRules, last: LastChecked): Row {
  const row: Row = {}
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]
    if (v === null || v === undefined) continue // v2: null is "no such column in this row"
    const key = cols[i]!
    if (v === last.input[i]) {
      // The value the row before had in this column (v3 hands out the same array): checks are pure, so reuse.
      row[key] = last.output[i]
      continue
    }
    const check = checks[i]
    if (!check) {
      throw new RowError('unknown_column', `column ${key} is not in table ${rules.spec.name}; columns are ${[...rules.checks.keys()].join(', ')}`)
    }
    let out: unknown
    try {
      out = check(v)
    } catch (err) {
      throw new RowError('bad_value', `column ${key}: ${(err as Error).message}`)
    }
    row[key] = out
    last.input[i] = v
    last.output[i] = out
  }
  checkRowRules(row, tenant, rules)
  return row
}

/** Per column, the last value checked in this message and what the check made of it. */
interface LastChecked {
  input: unknown[]
  output: unknown[]
}

/** The checks across columns: tenant_id (filled in when absent), the time column, parallel attribute arrays. */
function checkRowRules(row: Row, tenant: string, rules: TableRules): void {
  const t = row.tenant_id
  if (t === undefined) row.tenant_id = tenant
  else if (t !== tenant) throw new RowError('tenant_mismatch', `row tenant_id ${describe(t)} differs from the envelope's tenant ${describe(tenant)}`)
  const timeCol = rules.spec.time.from
  const ts = row[timeCol]
  if (ts === undefined) throw new RowError('missing_column', `column ${timeCol} is required (the table is partitioned by it)`)
  if (!timeInRange(ts as string | number)) {
    throw new RowError('bad_value', `column ${timeCol}: ${String(ts)} ns is outside 1970..2106, the range of the store's time column`)
  }
  for (const [k, v] of rules.pairs) {
    const a = row[k] as unknown[] | undefined
    const b = row[v] as unknown[] | undefined
    if ((a?.length ?? 0) !== (b?.length ?? 0)) {
      throw new RowError('bad_value', `columns ${k} and ${v} must have the same length (${a?.length ?? 0} vs ${b?.length ?? 0})`)
    }
  }
}

/** Decodes and validates one bus record. Never throws: a bad record comes back as {ok:false, reason, message}. */
export function decodeRecord(record: ConsumedRecord): DecodedRecord {
  let envelope: EnvelopeParts
  try {
    envelope = decodeEnvelopeParts(record.value)
  } catch (err) {
    if (err instanceof EnvelopeError) return { ok: false, record, reason: err.reason, message: err.message }
    return { ok: false, record, reason: 'not_json', message: (err as Error).message }
  }
  const table = SIGNAL_TABLE[envelope.signal]
  const rules = rulesFor(table)
  const { tenant } = envelope
  let rows: Row[]
  let i = 0
  try {
    if (envelope.v === 1) {
      rows = envelope.rows
      for (; i < rows.length; i++) checkRow(rows[i]!, tenant, rules)
    } else {
      const { cols, rows: arrays } = envelope
      const checks = cols.map((c) => rules.checks.get(c))
      const last: LastChecked = { input: new Array<unknown>(cols.length), output: new Array<unknown>(cols.length) }
      rows = new Array<Row>(arrays.length)
      for (; i < arrays.length; i++) rows[i] = checkArrayRow(arrays[i]!, cols, checks, tenant, rules, last)
    }
  } catch (err) {
    if (!(err instanceof RowError)) throw err
    return { ok: false, record, reason: err.reason, message: `row ${i}: ${err.message}` }
  }
  return envelope.id === undefined
    ? { ok: true, record, table, tenant, rows }
    : { ok: true, record, table, tenant, id: envelope.id, rows }
}
