/**
 * The binary body of bus envelope v3 (envelope.ts): the same columns and row arrays as v2's JSON, with every string
 * written once per message in a string table and referenced by index.
 *
 * Why: the envelope was the ingest path's largest single cost on both sides. The gateway's `JSON.stringify` took
 * 2.3 µs per span and the consumer's `JSON.parse` 1.6 µs per row. A message groups the rows of one trace (or
 * series), which repeat most of their strings: the trace id, the service, the resource attributes, the attribute
 * keys. A string table writes and decodes each of them once, and the bytes that gzip and Kafka carry shrink with it
 * (measured in bench/ingest; docs/gateway.md).
 *
 *   0x03 | signal (u8) | tenant (str) | id (str, empty: none) | ncols (varint) | col names (str…)
 *        | nstrings (varint) | strings (str…) | nrows (varint) | rows: nvals (varint, ≤ ncols) + tagged values
 *   str = varint byte length + UTF-8.  Tagged value = one tag byte, then:
 *     0 null (no such column in this row)   1 string: varint index   2 float64 LE   3 integer ≥ 0: varint
 *     4 array: varint count + tagged values  5 true   6 false   7 integer < 0: varint of its magnitude
 *     8 other JSON (objects): varint index of its JSON text
 *     9 the same value as the previous row's in this column (top level only): resource attributes, attribute keys
 *       and the like repeat row after row; the decoder hands out the previous row's value itself, so the consumer
 *       checks it once (src/agents/consumer/validate.ts)
 * Integers are safe integers (64-bit nanoseconds stay decimal strings, as in v2). Unlike v2's JSON, NaN and ±Infinity
 * survive (JSON turned them into null, which the consumer took for "no value").
 *
 * The decoder trusts nothing: every length and index is checked against what is left, arrays nest at most
 * MAX_DEPTH deep, and anything malformed is a BinaryEnvelopeError (the consumer dead-letters the record).
 */
import { ByteReader, ByteReadError, ByteWriter } from '../bytes.js'

export const BINARY_MAGIC = 0x03
const REPEAT = 9
const MAX_DEPTH = 32

export class BinaryEnvelopeError extends Error {}

export interface BinaryHead {
  /** Index into SIGNALS (envelope.ts). */
  signal: number
  tenant: string
  id?: string
}

export interface BinaryBody extends BinaryHead {
  cols: string[]
  rows: unknown[][]
}

/**
 * Strings are deduplicated against the same position in the previous row (column, and element index for arrays)
 * instead of through a hash map: in a message of one trace's spans nearly every repeated string sits where it sat
 * in the row before (trace id, service, resource attributes, attribute keys), and a Map lookup per string cost more
 * than `JSON.stringify` did (39% of the encoder in a profile). A string seen elsewhere gets a second table entry,
 * which only costs bytes; the table is a list, so the decoder does not care.
 */
const SLOTS_PER_COLUMN = 32 // the column itself, then its array's first 31 elements
const prevString: Array<string | undefined> = []
const prevIndex: number[] = []

// Reused between calls (encoding is synchronous): the writers for the string table and the rows.
const stringsOut = new ByteWriter(16 * 1024)
const rowsOut = new ByteWriter(64 * 1024)
let tableSize = 0

function stringIndex(s: string, slot: number): number {
  if (slot >= 0 && prevString[slot] === s) return prevIndex[slot]!
  const i = tableSize++
  stringsOut.str(s)
  if (slot >= 0) {
    prevString[slot] = s
    prevIndex[slot] = i
  }
  return i
}

/** `slot`: the value's position for deduplication (see above), -1 for none. */
function writeValue(w: ByteWriter, v: unknown, slot: number, depth: number): void {
  if (typeof v === 'string') {
    const i = stringIndex(v, slot)
    w.u8(1)
    w.varint(i)
  } else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      w.u8(v >= 0 ? 3 : 7)
      w.varint(Math.abs(v))
    } else {
      w.u8(2)
      w.f64(v)
    }
  } else if (v === null || v === undefined) {
    w.u8(0)
  } else if (Array.isArray(v)) {
    if (depth >= MAX_DEPTH) throw new TypeError(`arrays nested deeper than ${MAX_DEPTH} cannot go on the bus`)
    w.u8(4)
    w.varint(v.length)
    const first = depth === 0 && slot >= 0 ? slot + 1 : -1
    for (let i = 0; i < v.length; i++) writeValue(w, v[i], first >= 0 && i < SLOTS_PER_COLUMN - 1 ? first + i : -1, depth + 1)
  } else if (typeof v === 'boolean') {
    w.u8(v ? 5 : 6)
  } else if (typeof v === 'object') {
    const i = stringIndex(JSON.stringify(v), -1)
    w.u8(8)
    w.varint(i)
  } else {
    throw new TypeError(`a ${typeof v} value cannot go on the bus`)
  }
}

/** Equal for tag 9: the same value, or arrays of the same strings and numbers (element by element, one level). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    if (x !== b[i] || (typeof x !== 'string' && typeof x !== 'number')) return false
  }
  return true
}

export function encodeBinaryEnvelope(b: BinaryBody): Buffer {
  tableSize = 0
  stringsOut.pos = 0
  rowsOut.pos = 0
  const slots = b.cols.length * SLOTS_PER_COLUMN
  prevString.length = Math.max(prevString.length, slots)
  prevString.fill(undefined, 0, slots)
  try {
    let prev: unknown[] | undefined
    for (const row of b.rows) {
      rowsOut.varint(row.length)
      for (let i = 0; i < row.length; i++) {
        const v = row[i]
        if (prev !== undefined && i < prev.length && v !== null && v !== undefined && sameValue(v, prev[i])) rowsOut.u8(REPEAT)
        else writeValue(rowsOut, v, i * SLOTS_PER_COLUMN, 0)
      }
      prev = row
    }
    const head = new ByteWriter(64)
    head.u8(BINARY_MAGIC)
    head.u8(b.signal)
    head.str(b.tenant)
    head.str(b.id ?? '')
    head.varint(b.cols.length)
    for (const c of b.cols) head.str(c)
    head.varint(tableSize)
    const tail = new ByteWriter(8)
    tail.varint(b.rows.length)
    const out = Buffer.allocUnsafe(head.pos + stringsOut.pos + tail.pos + rowsOut.pos)
    let at = head.buf.copy(out, 0, 0, head.pos)
    at += stringsOut.buf.copy(out, at, 0, stringsOut.pos)
    at += tail.buf.copy(out, at, 0, tail.pos)
    rowsOut.buf.copy(out, at, 0, rowsOut.pos)
    return out
  } finally {
    prevString.fill(undefined, 0, slots) // do not keep the last message's strings alive
  }
}

function readValue(r: ByteReader, strings: string[], depth: number): unknown {
  const tag = r.u8()
  switch (tag) {
    case 0:
      return null
    case 1:
      return stringAt(r, strings)
    case 2:
      return r.f64()
    case 3:
      return r.varint()
    case 4: {
      if (depth >= MAX_DEPTH) throw new ByteReadError(`arrays nested deeper than ${MAX_DEPTH}`, r.pos)
      const n = r.varint()
      if (n > r.left) throw new ByteReadError(`array of ${n} values past the end`, r.pos)
      const a = new Array<unknown>(n)
      for (let i = 0; i < n; i++) a[i] = readValue(r, strings, depth + 1)
      return a
    }
    case 5:
      return true
    case 6:
      return false
    case 7:
      return -r.varint()
    case 8: {
      const text = stringAt(r, strings)
      try {
        return JSON.parse(text) as unknown
      } catch {
        throw new ByteReadError('a JSON value that does not parse', r.pos)
      }
    }
    default:
      throw new ByteReadError(`unknown value tag ${tag}`, r.pos - 1)
  }
}

function stringAt(r: ByteReader, strings: string[]): string {
  const i = r.varint()
  if (i >= strings.length) throw new ByteReadError(`string ${i} of a table of ${strings.length}`, r.pos)
  return strings[i]!
}

/** Decodes a v3 body (the caller checked the magic byte). Throws BinaryEnvelopeError naming the byte. */
export function decodeBinaryEnvelope(value: Buffer): BinaryBody {
  const r = new ByteReader(value, 1)
  try {
    const signal = r.u8()
    const tenant = r.str()
    const id = r.str()
    const ncols = r.varint()
    if (ncols > r.left) throw new ByteReadError(`${ncols} columns past the end`, r.pos)
    const cols = new Array<string>(ncols)
    for (let i = 0; i < ncols; i++) cols[i] = r.str()
    const nstrings = r.varint()
    if (nstrings > r.left) throw new ByteReadError(`${nstrings} strings past the end`, r.pos)
    const strings = new Array<string>(nstrings)
    for (let i = 0; i < nstrings; i++) strings[i] = r.str()
    const nrows = r.varint()
    if (nrows > r.left) throw new ByteReadError(`${nrows} rows past the end`, r.pos)
    const rows = new Array<unknown[]>(nrows)
    let prev: unknown[] = []
    for (let k = 0; k < nrows; k++) {
      const n = r.varint()
      if (n > ncols) throw new ByteReadError(`row ${k} has ${n} values for ${ncols} columns`, r.pos)
      const vals = new Array<unknown>(n)
      for (let i = 0; i < n; i++) {
        if (r.buf[r.pos] === REPEAT) {
          if (i >= prev.length) throw new ByteReadError(`row ${k} repeats column ${i}, which the row before does not have`, r.pos)
          r.pos++
          vals[i] = prev[i]
        } else vals[i] = readValue(r, strings, 0)
      }
      rows[k] = vals
      prev = vals
    }
    if (r.left !== 0) throw new ByteReadError(`${r.left} bytes after the last row`, r.pos)
    return id === '' ? { signal, tenant, cols, rows } : { signal, tenant, id, cols, rows }
  } catch (err) {
    if (err instanceof ByteReadError) throw new BinaryEnvelopeError(`binary envelope: ${err.message}`)
    throw err
  }
}
