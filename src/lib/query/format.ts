/** Human renderings of a query result: an aligned table, JSON rows, or TSV with a header line. */
import type { QueryResult } from './types.js'

export type QueryFormat = 'table' | 'json' | 'tsv'

const MAX_CELL = 60

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

function fit(s: string): string {
  const flat = s.replace(/[\r\n\t]/g, ' ')
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat
}

function columnsOf(r: QueryResult): string[] {
  return r.columns.length > 0 ? r.columns.map((c) => c.name) : Object.keys(r.rows[0] ?? {})
}

export function renderTable(r: QueryResult): string {
  const names = columnsOf(r)
  if (names.length === 0) return `ok (${r.elapsedMs} ms)`
  const body = r.rows.map((row) => names.map((n) => fit(cell(row[n]))))
  const widths = names.map((n, i) => Math.max(n.length, ...body.map((cells) => cells[i]!.length)))
  const numeric = r.columns.map((c) => /^(Nullable\()?(U?Int|Float|Decimal)/.test(c.type))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()
  const out = [line(names), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)]
  const more = r.truncated ? `, cut at --limit ${r.rowCount}: add LIMIT or raise --limit` : ''
  out.push(`${r.rowCount} row${r.rowCount === 1 ? '' : 's'} in ${r.elapsedMs} ms${more}`)
  return out.join('\n')
}

export function renderTsv(r: QueryResult): string {
  const names = columnsOf(r)
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n')
  return [names.join('\t'), ...r.rows.map((row) => names.map((n) => esc(cell(row[n]))).join('\t'))].join('\n')
}

export function renderJson(r: QueryResult): string {
  return JSON.stringify(r.rows, null, 2)
}

export function render(r: QueryResult, format: QueryFormat): string {
  return format === 'json' ? renderJson(r) : format === 'tsv' ? renderTsv(r) : renderTable(r)
}
