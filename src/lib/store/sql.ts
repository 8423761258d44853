/**
 * SQL text helpers shared by both backends: identifier/literal quoting, JSONEachRow encoding that keeps
 * 64-bit integers exact, and client-side {name:Type} binding for servers older than 19.11 (which have no
 * query parameters). Server-side binding is used wherever the server has it; this is the fallback.
 */
import { UsageError } from '../errors.js'
import type { Row } from './types.js'

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `db`.`table` from "table" or "db.table"; anything else is refused (table names are interpolated into SQL). */
export function quoteTable(table: string): string {
  const parts = table.split('.')
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new UsageError(`invalid table name ${JSON.stringify(table)}: use name or database.name (letters, digits, _)`)
  }
  return parts.map((p) => `\`${p}\``).join('.')
}

export function splitTable(table: string): { database?: string; name: string } {
  const i = table.indexOf('.')
  return i < 0 ? { name: table } : { database: table.slice(0, i), name: table.slice(i + 1) }
}

export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`'
}

/** A ClickHouse string literal. Escapes backslash, quote and control characters; the rest is passed as UTF-8. */
export function quoteString(s: string): string {
  let out = "'"
  for (const ch of s) {
    switch (ch) {
      case '\\': out += '\\\\'; break
      case "'": out += "\\'"; break
      case '\n': out += '\\n'; break
      case '\r': out += '\\r'; break
      case '\t': out += '\\t'; break
      case '\0': out += '\\0'; break
      default: out += ch
    }
  }
  return out + "'"
}

// ---------------------------------------------------------------------------------------------- JSONEachRow

/**
 * One JSON value as ClickHouse's JSONEachRow reader wants it. Unlike JSON.stringify: bigint is written as a
 * bare integer (exact UInt64 nanoseconds), booleans as 1/0 (18.16 does not read true/false into UInt8), NaN
 * and ±Infinity as "nan"/"inf" (JSON has no spelling for them; 18.16 and 26.x both read the quoted form and
 * neither the bare one), and a Date as Unix seconds.
 */
export function encodeJSONValue(v: unknown): string {
  switch (typeof v) {
    case 'string': return JSON.stringify(v)
    case 'bigint': return v.toString()
    case 'boolean': return v ? '1' : '0'
    case 'number':
      if (Number.isFinite(v)) return String(v)
      return Number.isNaN(v) ? '"nan"' : v > 0 ? '"inf"' : '"-inf"'
    case 'undefined': return 'null'
    case 'object': {
      if (v === null) return 'null'
      if (Array.isArray(v)) return '[' + v.map(encodeJSONValue).join(',') + ']'
      if (v instanceof Date) return String(Math.floor(v.getTime() / 1000))
      const parts: string[] = []
      for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(JSON.stringify(k) + ':' + encodeJSONValue(x))
      return '{' + parts.join(',') + '}'
    }
    default:
      throw new UsageError(`cannot store a ${typeof v} value`)
  }
}

/** The dedup stamp of ClickHouse 18.16 inserts (store/dedup.ts): one token for the insert and each row's position. */
export interface RowStamp {
  tokenColumn: string
  token: string
  seqColumn: string
  /** Row i of the insert gets seq(i). */
  seq: (i: number) => number
}

/** Rows → a positional format (RowBinary, JSONCompactEachRow) for one described table: the INSERT names the columns. */
export interface PositionalEncoder {
  /** The INSERT's column list for a batch with or without a stamp (the stamp's two columns come last). */
  columns(stamp?: RowStamp): string[]
  /** The body, or null when some value or key does not fit its column (the caller falls back to JSONEachRow). */
  encode(rows: readonly Row[], stamp?: RowStamp): Buffer | null
}

/**
 * Rows → JSONEachRow bytes. `stamp` adds the dedup fields to every row (replacing the row's own keys of those
 * names); `defaults` fill keys the row lacks, because ClickHouse 18.16 inserts the type's zero, not the column
 * DEFAULT, for an omitted field. Keys whose value is undefined are omitted.
 *
 * On the fast path the stamp is written INTO the row objects (two properties added in place): copying each row to
 * add them made V8 fall back to slow dictionary objects and tripled the encoding cost (6 µs/row vs 2 µs measured on
 * 37,500 span rows). The rows are the caller's insert batch; a retry of the same insert stamps the same values.
 *
 * Fast path (telemetry batches: every row plain and complete): the whole batch is one JSON.stringify of the array,
 * brackets cut off, rows separated by commas — ClickHouse's JSONEachRow reader skips a comma between rows (checked on
 * 18.16 and chDB 26). One native call instead of one per row is ~40% less CPU per row and far less garbage
 * (bench/ingest/consumer: the encoder was the consumer's largest item after GC).
 */
export function encodeJSONEachRow(rows: readonly Row[], opts: { defaults?: Row; stamp?: RowStamp } = {}): Buffer {
  const defaultKeys = opts.defaults ? Object.keys(opts.defaults) : []
  const stamp = opts.stamp
  if (rows.every((row) => isPlainRow(row) && hasAll(row, defaultKeys))) {
    if (stamp) {
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as Row
        row[stamp.tokenColumn] = stamp.token
        row[stamp.seqColumn] = stamp.seq(i)
      }
    }
    const json = Buffer.from(JSON.stringify(rows), 'utf8')
    return json.subarray(1, json.length - 1)
  }
  const lines: string[] = new Array<string>(rows.length)
  const defaults = opts.defaults ? Object.entries(opts.defaults) : []
  const skip = stamp ? new Set([stamp.tokenColumn, stamp.seqColumn]) : undefined
  const stampText = stamp ? `${JSON.stringify(stamp.tokenColumn)}:${JSON.stringify(stamp.token)},${JSON.stringify(stamp.seqColumn)}:` : ''
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row
    let line = ''
    for (const k in row) {
      const v = row[k]
      if (v === undefined || skip?.has(k)) continue
      line += (line ? ',' : '') + JSON.stringify(k) + ':' + encodeJSONValue(v)
    }
    for (const [k, v] of defaults) if (row[k] === undefined) line += (line ? ',' : '') + JSON.stringify(k) + ':' + encodeJSONValue(v)
    if (stamp) line += (line ? ',' : '') + stampText + String(stamp.seq(i))
    lines[i] = '{' + line + '}\n'
  }
  return Buffer.from(lines.join(''), 'utf8')
}

function hasAll(row: Row, keys: readonly string[]): boolean {
  for (const k of keys) if (row[k] === undefined) return false
  return true
}

/** True when JSON.stringify writes the row exactly as encodeJSONValue would: no bigint, NaN/Infinity, boolean, Date or nested object. */
function isPlainRow(row: Row): boolean {
  for (const k in row) {
    const v = row[k]
    if (typeof v === 'string') continue
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false
      continue
    }
    if (v === null || v === undefined) continue // JSON.stringify omits undefined keys, as the slow path does
    if (!Array.isArray(v)) return false
    for (const x of v) if (typeof x !== 'string' && !(typeof x === 'number' && Number.isFinite(x))) return false
  }
  return true
}

export function parseJSONEachRow<T>(text: string): T[] {
  const out: T[] = []
  for (const line of text.split('\n')) if (line.trim() !== '') out.push(JSON.parse(line) as T)
  return out
}

// ------------------------------------------------------------------------------ client-side {name:Type} binding

/**
 * Replaces every {name:Type} placeholder outside string literals, quoted identifiers and comments with a typed
 * literal, so the same SQL works on servers without query parameters. Every value is validated against its
 * type and escaped; a value that does not fit is a UsageError (the server would refuse it too).
 */
export function bindParams(sql: string, params: Record<string, unknown>): string {
  let out = ''
  let i = 0
  while (i < sql.length) {
    const c = sql[i] as string
    if (c === "'" || c === '"' || c === '`') {
      const end = skipQuoted(sql, i, c)
      out += sql.slice(i, end)
      i = end
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      out += sql.slice(i, end < 0 ? sql.length : end)
      i = end < 0 ? sql.length : end
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      const stop = end < 0 ? sql.length : end + 2
      out += sql.slice(i, stop)
      i = stop
    } else if (c === '{') {
      const ph = readPlaceholder(sql, i)
      if (!ph) {
        out += c
        i++
        continue
      }
      if (!(ph.name in params)) throw new UsageError(`query parameter ${ph.name} is not set (SQL uses {${ph.name}:${ph.type}})`)
      out += formatLiteral(params[ph.name], ph.type, ph.name)
      i = ph.end
    } else {
      out += c
      i++
    }
  }
  return out
}

function skipQuoted(sql: string, start: number, q: string): number {
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]
    if (c === '\\') i += 2
    else if (c === q && sql[i + 1] === q) i += 2
    else if (c === q) return i + 1
    else i++
  }
  return sql.length
}

function readPlaceholder(sql: string, start: number): { name: string; type: string; end: number } | undefined {
  const m = /^\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/.exec(sql.slice(start, start + 200))
  if (!m) return undefined
  let depth = 0
  for (let i = start + m[0].length; i < sql.length; i++) {
    const c = sql[i]
    if (c === "'") i = skipQuoted(sql, i, "'") - 1
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === '}' && depth === 0) return { name: m[1] as string, type: sql.slice(start + m[0].length, i).trim(), end: i + 1 }
  }
  return undefined
}

const NUMERIC = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/
const INTEGER = /^-?\d+$/

function unwrap(type: string, wrapper: string): string | undefined {
  const p = wrapper + '('
  return type.startsWith(p) && type.endsWith(')') ? type.slice(p.length, -1).trim() : undefined
}

/** A literal of ClickHouse type `type` holding `value`, written so that even 18.16 parses it. */
export function formatLiteral(value: unknown, type: string, name = 'value'): string {
  const bad = (why: string): never => {
    throw new UsageError(`query parameter ${name}: ${why} (type ${type})`)
  }
  const nullable = unwrap(type, 'Nullable')
  if (nullable !== undefined) {
    return value === null || value === undefined ? `CAST(NULL AS ${type})` : `CAST(${formatLiteral(value, nullable, name)} AS ${type})`
  }
  const lc = unwrap(type, 'LowCardinality')
  if (lc !== undefined) return formatLiteral(value, lc, name)
  if (value === null || value === undefined) return bad('null is only allowed for Nullable types')
  if (type === 'Identifier') return typeof value === 'string' ? quoteIdentifier(value) : bad('expected a string')
  const elem = unwrap(type, 'Array')
  if (elem !== undefined) {
    if (!Array.isArray(value)) return bad('expected an array')
    return `CAST([${value.map((v: unknown) => formatLiteral(v, elem, name)).join(', ')}] AS ${type})`
  }
  if (type === 'String') return typeof value === 'string' ? quoteString(value) : quoteString(String(value))
  if (/^(FixedString|UUID|Enum8|Enum16|IPv4|IPv6)\b/.test(type)) return `CAST(${quoteString(String(value))} AS ${type})`
  if (/^(Date|DateTime|DateTime64)\b/.test(type)) {
    if (value instanceof Date) return `CAST(${Math.floor(value.getTime() / 1000)} AS ${type})`
    if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return `CAST(${value} AS ${type})`
    return typeof value === 'string' ? `CAST(${quoteString(value)} AS ${type})` : bad('expected a Date, Unix seconds or a string')
  }
  if (/^(U?Int\d+|Float\d+|Decimal|Bool)/.test(type)) {
    if (typeof value === 'boolean') return `CAST(${value ? 1 : 0} AS ${type})`
    const s = typeof value === 'bigint' || typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : ''
    if (/^Float/.test(type) && /^[-+]?(nan|inf)$/i.test(s)) return `CAST(${quoteString(s.toLowerCase())} AS ${type})`
    if (!(/^(U?Int)/.test(type) ? INTEGER : NUMERIC).test(s)) bad(`${JSON.stringify(s)} is not a number of this type`)
    return `CAST(${quoteString(s)} AS ${type})`
  }
  return bad('this type cannot be bound on servers older than 19.11; inline the value or upgrade')
}
