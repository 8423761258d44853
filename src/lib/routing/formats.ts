/**
 * ClickHouse output formats, written by the router for replicas that hand back rows instead of bytes (the
 * in-process chDB store of `aiops up`). The input is ClickHouse's own JSONCompactEachRowWithNamesAndTypes: column
 * names, exact type names, and values as ClickHouse wrote them in JSON (64-bit integers as strings). Text follows
 * ClickHouse's serializations: TSV escaping, CSV quoting, `\N` for NULL, arrays/tuples/maps in their quoted text
 * form (`['a','b']`), tuples flattened into CSV fields.
 * Known loss: JSON has no NaN/Infinity, so a Float NaN/±Inf read through JSON prints as `nan`.
 */
export interface ResultSet {
  names: string[]
  types: string[]
  rows: unknown[][]
}

export interface FormatOptions {
  /** output_format_json_quote_64bit_integers (ClickHouse ≥ 24 defaults to 0; 18.16 to 1). */
  quote64: boolean
  elapsedS?: number
}

export interface Formatted {
  body: Buffer
  contentType: string
}

type Writer = (r: ResultSet, o: FormatOptions) => string

const TSV_TYPE = 'text/tab-separated-values; charset=UTF-8'
const JSON_TYPE = 'application/json; charset=UTF-8'

const WRITERS: Record<string, { write: Writer; type: string }> = {
  JSONEachRow: { write: (r, o) => r.rows.map((row) => jsonObject(r, row, o) + '\n').join(''), type: 'application/x-ndjson; charset=UTF-8' },
  JSONCompactEachRow: {
    write: (r, o) => r.rows.map((row) => '[' + row.map((v, i) => jsonValue(v, r.types[i] as string, o)).join(', ') + ']\n').join(''),
    type: 'application/x-ndjson; charset=UTF-8',
  },
  JSON: { write: (r, o) => jsonDocument(r, o, false), type: JSON_TYPE },
  JSONCompact: { write: (r, o) => jsonDocument(r, o, true), type: JSON_TYPE },
  TabSeparated: { write: (r) => tsv(r, 0), type: TSV_TYPE },
  TabSeparatedWithNames: { write: (r) => tsv(r, 1), type: TSV_TYPE },
  TabSeparatedWithNamesAndTypes: { write: (r) => tsv(r, 2), type: TSV_TYPE },
  CSV: { write: (r) => csv(r, 0), type: 'text/csv; charset=UTF-8; header=absent' },
  CSVWithNames: { write: (r) => csv(r, 1), type: 'text/csv; charset=UTF-8; header=present' },
  CSVWithNamesAndTypes: { write: (r) => csv(r, 2), type: 'text/csv; charset=UTF-8; header=present' },
}
const ALIASES: Record<string, string> = {
  TSV: 'TabSeparated', TSVWithNames: 'TabSeparatedWithNames', TSVWithNamesAndTypes: 'TabSeparatedWithNamesAndTypes',
}

export const ROW_FORMATS = [...Object.keys(WRITERS), ...Object.keys(ALIASES)]

/** The canonical name of a format we can write (case-insensitive like ClickHouse's aliases), or undefined. */
export function canonicalFormat(name: string): string | undefined {
  const lower = name.toLowerCase()
  const hit = ROW_FORMATS.find((f) => f.toLowerCase() === lower)
  return hit === undefined ? undefined : (ALIASES[hit] ?? hit)
}

export function formatResult(format: string, r: ResultSet, o: FormatOptions): Formatted {
  const name = canonicalFormat(format)
  const w = name === undefined ? undefined : WRITERS[name]
  if (!w) throw new Error(`format ${format} is not one the router writes (${ROW_FORMATS.join(', ')})`)
  return { body: Buffer.from(w.write(r, o), 'utf8'), contentType: w.type }
}

// ------------------------------------------------------------------------------------------------- types

interface TypeNode {
  name: string
  args: string[]
}

const typeCache = new Map<string, TypeNode>()

/** `Array(Nullable(String))` → {name: 'Array', args: ['Nullable(String)']}; `Tuple(a UInt8, b String)` keeps `a UInt8`. */
export function parseType(t: string): TypeNode {
  const hit = typeCache.get(t)
  if (hit) return hit
  const open = t.indexOf('(')
  let node: TypeNode
  if (open < 0 || !t.endsWith(')')) node = { name: t.trim(), args: [] }
  else {
    const args: string[] = []
    let depth = 0
    let quote = false
    let start = open + 1
    for (let i = open + 1; i < t.length - 1; i++) {
      const c = t[i]
      if (c === "'" && t[i - 1] !== '\\') quote = !quote
      else if (quote) continue
      else if (c === '(') depth++
      else if (c === ')') depth--
      else if (c === ',' && depth === 0) {
        args.push(t.slice(start, i).trim())
        start = i + 1
      }
    }
    args.push(t.slice(start, t.length - 1).trim())
    node = { name: t.slice(0, open).trim(), args }
  }
  if (typeCache.size < 10_000) typeCache.set(t, node)
  return node
}

/** Element type of a Tuple argument written as `name Type`. */
const tupleElementType = (arg: string): string => {
  const m = /^[A-Za-z_][A-Za-z0-9_]*\s+(.+)$/.exec(arg)
  return m && !/^[A-Z][A-Za-z0-9]*\(/.test(arg) ? (m[1] as string) : arg
}

/** Tuple elements in order, whether ClickHouse wrote the tuple as a JSON array or (named) as an object. */
const tupleItems = (v: unknown): unknown[] => (Array.isArray(v) ? v : Object.values(v as Record<string, unknown>))

const unwrap = (t: string): TypeNode => {
  let n = parseType(t)
  while ((n.name === 'Nullable' || n.name === 'LowCardinality') && n.args[0] !== undefined) n = parseType(n.args[0])
  return n
}

const INT64 = /^U?Int(64|128|256)$/
const QUOTED_TEXT = /^(String|FixedString|Date|Date32|DateTime|DateTime64|UUID|Enum8|Enum16|IPv4|IPv6|Object|JSON)$/

// -------------------------------------------------------------------------------------------------- JSON

function jsonValue(v: unknown, type: string, o: FormatOptions): string {
  if (v === null || v === undefined) return 'null'
  const t = unwrap(type)
  if (INT64.test(t.name) && (typeof v === 'string' || typeof v === 'number')) return o.quote64 ? `"${v}"` : String(v)
  if (t.name === 'Array' && Array.isArray(v)) return '[' + v.map((x) => jsonValue(x, t.args[0] ?? 'String', o)).join(',') + ']'
  if (t.name === 'Tuple' && Array.isArray(v)) return '[' + v.map((x, i) => jsonValue(x, tupleElementType(t.args[i] ?? 'String'), o)).join(',') + ']'
  if ((t.name === 'Map' || t.name === 'Tuple') && v && typeof v === 'object') {
    // A named tuple is a JSON object, like a map; its element types come from the tuple's arguments.
    const valueType = (i: number): string => (t.name === 'Map' ? (t.args[1] ?? 'String') : tupleElementType(t.args[i] ?? 'String'))
    return '{' + Object.entries(v as Record<string, unknown>).map(([k, x], i) => JSON.stringify(k) + ':' + jsonValue(x, valueType(i), o)).join(',') + '}'
  }
  return JSON.stringify(v)
}

function jsonObject(r: ResultSet, row: unknown[], o: FormatOptions): string {
  return '{' + row.map((v, i) => JSON.stringify(r.names[i]) + ':' + jsonValue(v, r.types[i] as string, o)).join(',') + '}'
}

function jsonDocument(r: ResultSet, o: FormatOptions, compact: boolean): string {
  const meta = r.names.map((n, i) => `\t\t{\n\t\t\t"name": ${JSON.stringify(n)},\n\t\t\t"type": ${JSON.stringify(r.types[i])}\n\t\t}`).join(',\n')
  const data = r.rows
    .map((row) =>
      compact
        ? '\t\t[' + row.map((v, i) => jsonValue(v, r.types[i] as string, o)).join(', ') + ']'
        : '\t\t{\n' + row.map((v, i) => `\t\t\t${JSON.stringify(r.names[i])}: ${jsonValue(v, r.types[i] as string, o)}`).join(',\n') + '\n\t\t}',
    )
    .join(',\n')
  const elapsed = o.elapsedS ?? 0
  return (
    `{\n\t"meta":\n\t[\n${meta}\n\t],\n\n\t"data":\n\t[\n${data}${data ? '\n' : ''}\t],\n\n\t"rows": ${r.rows.length},\n\n` +
    `\t"statistics":\n\t{\n\t\t"elapsed": ${elapsed},\n\t\t"rows_read": 0,\n\t\t"bytes_read": 0\n\t}\n}\n`
  )
}

// ------------------------------------------------------------------------------------------------ text

const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\0': '\\0', "'": "\\'" }

function escapeTsv(s: string): string {
  return s.replace(/[\\\t\n\r\b\f\0']/g, (c) => TSV_ESCAPES[c] as string)
}

/** The quoted form used inside arrays, tuples and maps: `'a\'b'`, numbers bare, NULL. */
function quotedText(v: unknown, type: string): string {
  if (v === null || v === undefined) return 'NULL'
  const t = unwrap(type)
  if (t.name === 'Array' && Array.isArray(v)) return '[' + v.map((x) => quotedText(x, t.args[0] ?? 'String')).join(',') + ']'
  if (t.name === 'Tuple' && v && typeof v === 'object') return '(' + tupleItems(v).map((x, i) => quotedText(x, tupleElementType(t.args[i] ?? 'String'))).join(',') + ')'
  if (t.name === 'Map' && v && typeof v === 'object') {
    return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => quotedText(k, t.args[0] ?? 'String') + ':' + quotedText(x, t.args[1] ?? 'String')).join(',') + '}'
  }
  if (QUOTED_TEXT.test(t.name) || typeof v === 'string') {
    return INT64.test(t.name) || /^(Decimal|Float|U?Int)/.test(t.name) ? String(v) : "'" + escapeTsv(String(v)) + "'"
  }
  return plainNumber(v)
}

function plainNumber(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v).replace('e+', 'e') : 'nan'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return String(v)
}

function tsvField(v: unknown, type: string): string {
  if (v === null || v === undefined) return unwrap(type).name === 'Float64' || unwrap(type).name === 'Float32' ? 'nan' : '\\N'
  const t = unwrap(type)
  if (t.name === 'Array' || t.name === 'Tuple' || t.name === 'Map') return quotedText(v, type)
  if (typeof v === 'string') return escapeTsv(v)
  return plainNumber(v)
}

function tsv(r: ResultSet, header: number): string {
  let s = ''
  if (header >= 1) s += r.names.map(escapeTsv).join('\t') + '\n'
  if (header >= 2) s += r.types.map(escapeTsv).join('\t') + '\n'
  for (const row of r.rows) s += row.map((v, i) => tsvField(v, r.types[i] as string)).join('\t') + '\n'
  return s
}

const csvQuote = (s: string): string => '"' + s.replace(/"/g, '""') + '"'

function csvFields(v: unknown, type: string): string[] {
  const t = unwrap(type)
  if (v === null || v === undefined) return [t.name === 'Float64' || t.name === 'Float32' ? 'nan' : '\\N']
  if (t.name === 'Tuple' && v && typeof v === 'object') return tupleItems(v).flatMap((x, i) => csvFields(x, tupleElementType(t.args[i] ?? 'String')))
  if (t.name === 'Array' || t.name === 'Map') return [csvQuote(quotedText(v, type))]
  if (typeof v === 'string') return [INT64.test(t.name) || /^(Decimal|Float|U?Int)/.test(t.name) ? v : csvQuote(v)]
  return [plainNumber(v)]
}

/** CSV writes a tuple as one field per element, and names them `col.1`, `col.2` (or `col.name` when named). */
function csvHeader(name: string, type: string): Array<[string, string]> {
  const t = unwrap(type)
  if (t.name !== 'Tuple') return [[name, type]]
  return t.args.flatMap((arg, i) => {
    const named = /^([A-Za-z_][A-Za-z0-9_]*)\s+(.+)$/.exec(arg)
    const sub = named && !/^[A-Z][A-Za-z0-9]*\(/.test(arg) ? named : undefined
    return csvHeader(`${name}.${sub ? sub[1] : i + 1}`, sub ? (sub[2] as string) : arg)
  })
}

function csv(r: ResultSet, header: number): string {
  let s = ''
  const cols = r.names.flatMap((n, i) => csvHeader(n, r.types[i] as string))
  if (header >= 1) s += cols.map(([n]) => csvQuote(n)).join(',') + '\n'
  if (header >= 2) s += cols.map(([, t]) => csvQuote(t)).join(',') + '\n'
  for (const row of r.rows) s += row.flatMap((v, i) => csvFields(v, r.types[i] as string)).join(',') + '\n'
  return s
}
