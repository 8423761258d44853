/**
 * Rows → ClickHouse RowBinary, for inserts into the described tables (tables.ts) on a ClickHouse server.
 *
 * Why: the consumer's CPU per row was dominated by JSONEachRow — one JSON text of the whole batch (2.1–2.4 µs per
 * span row, a 20 MB string per 37,500 rows) plus the garbage it leaves. RowBinary writes each value once into a
 * pooled byte buffer: no text, no escaping, no string per row (bench/ingest/consumer; docs/consumer.md). The server
 * also parses it with far less work. RowBinary has been in ClickHouse since long before 18.16 and is read the same way
 * by every version since: String = varint length + bytes (LowCardinality(String) is written as String), UIntN and
 * Float64 little-endian, Array = varint count + elements. The INSERT names the columns, so the MATERIALIZED time
 * column is computed by the server as before.
 *
 * The encoder never guesses: a value that does not have exactly its column's type (what the consumer's validation
 * guarantees, and what other callers usually pass), or a row with a key that is not a column, makes it give up with
 * `null`, and the store falls back to JSONEachRow for that batch. So behaviour on odd input (coercions, the server's
 * refusal of an unknown field) is exactly what it was; only the fast path is new.
 */
import { ByteWriter } from '../bytes.js'
import type { PositionalEncoder } from './sql.js'
import { columnZero, type ColumnSpec, type ColumnType, type TableSpec } from './tables.js'
import type { Row } from './types.js'

/** Thrown inside the encoder when a value does not fit; caught at the top, never escapes. */
class Unfit extends Error {}
const UNFIT = new Unfit('value does not fit its RowBinary column')

const TWO32 = 4294967296

/** UInt64 from a safe integer, a decimal string (exact to 2^64 - 1) or a bigint. */
function u64Of(w: ByteWriter, v: unknown): void {
  if (typeof v === 'string') return u64Decimal(w, v)
  if (typeof v === 'number') {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw UNFIT
    return w.u64(v % TWO32, Math.floor(v / TWO32))
  }
  if (typeof v === 'bigint' && v >= 0n && v < 1n << 64n) return w.u64(Number(v & 0xffffffffn), Number(v >> 32n))
  throw UNFIT
}

/**
 * Decimal text → two 32-bit halves without BigInt (nanosecond timestamps are 19 digits, past 2^53): the number
 * is a·10^9 + b with a < 10^11; a is split again at 2^16 so that every product stays exact in a double.
 */
function u64Decimal(w: ByteWriter, s: string): void {
  const n = s.length
  if (n === 0 || n > 20) throw UNFIT
  let a = 0
  let b = 0
  const split = n > 9 ? n - 9 : 0
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) throw UNFIT
    if (i < split) a = a * 10 + d
    else b = b * 10 + d
  }
  const a1 = Math.floor(a / 65536)
  const x = a1 * 1e9 // < 2^51
  const y = (a - a1 * 65536) * 1e9 + b // < 2^47
  const low = (x % 65536) * 65536 + y
  const hi = Math.floor(x / 65536) + Math.floor(low / TWO32)
  if (hi >= TWO32) throw UNFIT
  w.u64(low % TWO32, hi)
}

type Write = (w: ByteWriter, v: unknown) => void

const f64Of = (w: ByteWriter, v: unknown): void => {
  if (typeof v !== 'number') throw UNFIT
  w.f64(v)
}

function uintN(max: number, write: (w: ByteWriter, n: number) => void): Write {
  return (w, v) => {
    if (typeof v === 'boolean') return write(w, v ? 1 : 0)
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw UNFIT
    write(w, v)
  }
}

function arrayOf(elem: Write): Write {
  return (w, v) => {
    if (!Array.isArray(v)) throw UNFIT
    w.varint(v.length)
    for (let i = 0; i < v.length; i++) elem(w, v[i])
  }
}

const strOf: Write = (w, v) => {
  if (typeof v !== 'string') throw UNFIT
  w.str(v)
}

const WRITERS: Record<ColumnType, Write> = {
  String: strOf,
  LowString: strOf,
  UInt8: uintN(0xff, (w, n) => w.u8(n)),
  UInt16: uintN(0xffff, (w, n) => w.u16(n)),
  UInt32: uintN(0xffffffff, (w, n) => w.u32(n)),
  UInt64: u64Of,
  Float64: f64Of,
  'Array(String)': arrayOf(strOf),
  'Array(Float64)': arrayOf(f64Of),
  'Array(UInt64)': arrayOf(u64Of),
}

interface Column {
  name: string
  write: Write
  /** Written when the row has no value: the column DEFAULT (18.16 does not apply it to listed columns) or zero. */
  missing: (w: ByteWriter) => void
}

function column(c: ColumnSpec): Column {
  const write = WRITERS[c.type]
  const probe = new ByteWriter(64)
  write(probe, c.default ?? columnZero(c.type)) // the default is written once here, so a bad one fails at start-up
  const bytes = Buffer.from(probe.buf.subarray(0, probe.pos))
  return {
    name: c.name,
    write,
    missing: (w) => {
      w.ensure(bytes.length)
      bytes.copy(w.buf, w.pos)
      w.pos += bytes.length
    },
  }
}

/** A String value's RowBinary bytes, made once per batch for the stamp token every row repeats. */
function stampBytes(s: string): Buffer {
  const w = new ByteWriter(s.length + 8)
  w.str(s)
  return Buffer.from(w.buf.subarray(0, w.pos))
}

export function rowBinaryEncoder(spec: TableSpec): PositionalEncoder {
  const cols = spec.columns.map(column)
  const names = cols.map((c) => c.name)
  const known = new Set(names)
  // Kept between batches (encode is synchronous and take() copies out): it grows to the largest batch, about 8 MB
  // per 37,500 span rows, instead of being reallocated and regrown for every insert.
  const writer = new ByteWriter(1 << 20)
  // Per column: the last value encoded and where its bytes are in `writer` (see the copy in encode).
  const lastValue: unknown[] = new Array(cols.length)
  const lastStart: number[] = new Array<number>(cols.length).fill(0)
  const lastEnd: number[] = new Array<number>(cols.length).fill(0)
  return {
    columns: (stamp) => (stamp ? [...names, stamp.tokenColumn, stamp.seqColumn] : names),
    encode(rows, stamp) {
      writer.pos = 0
      const token = stamp ? stampBytes(stamp.token) : undefined
      lastValue.fill(undefined, 0, cols.length)
      try {
        for (let r = 0; r < rows.length; r++) {
          const row = rows[r] as Row
          let present = 0
          for (let i = 0; i < cols.length; i++) {
            const c = cols[i] as Column
            const v = row[c.name]
            if (v === undefined || v === null) c.missing(writer)
            else {
              present++
              if (v === lastValue[i] && typeof v === 'object') {
                // The very array the row before had here (bus envelope v3 hands out one array for a repeated value:
                // resource attributes, attribute keys): copy its bytes instead of encoding it again.
                const start = lastStart[i]!
                const len = lastEnd[i]! - start
                writer.ensure(len)
                writer.buf.copyWithin(writer.pos, start, start + len)
                writer.pos += len
                continue
              }
              const start = writer.pos
              c.write(writer, v)
              lastValue[i] = v
              lastStart[i] = start
              lastEnd[i] = writer.pos
            }
          }
          // A key that is no column must fail as it does in JSONEachRow (the server refuses unknown fields).
          let keys = 0
          for (const _k in row) keys++
          if (keys !== present) {
            for (const k in row) if (!known.has(k) && row[k] !== undefined && row[k] !== null) return null
          }
          if (token) {
            writer.ensure(token.length)
            token.copy(writer.buf, writer.pos)
            writer.pos += token.length
            writer.u32(stamp!.seq(r))
          }
        }
      } catch (err) {
        if (err instanceof Unfit) return null
        throw err
      } finally {
        lastValue.fill(undefined, 0, cols.length) // do not keep the batch's values alive
      }
      return writer.take()
    },
  }
}
