/**
 * Pieces of the guard's walk that need no walk state: the SETTINGS clause check, the safety net run over the
 * rewritten tokens, and whether a query may expand a table's columns (which decides what tenant views list).
 */
import { quoteIdentifier } from '../store/sql.js'
import { checkSetting, type ReadableTable, type RouterPolicy, type SettingLimits } from './policy.js'
import { rawTable } from './sql-words.js'
import { SqlSyntaxError, identName, isKeyword, isOp, stringValue, synth, type Token } from './tokens.js'

/**
 * `SETTINGS name = value, …` at tokens[i]: every setting checked (a refused one throws), readonly=1/2 dropped (the
 * router sets readonly itself). Returns the tokens to emit (nothing when every setting was dropped) and the end.
 */
export function parseSettingsClause(t: Token[], i: number, limits: SettingLimits): { end: number; kept: Token[]; settings: Array<[string, string]> } {
  const pairs: Token[][] = []
  const settings: Array<[string, string]> = []
  let k = i + 1
  for (;;) {
    const name = identName(t[k])
    if (name === undefined || !isOp(t[k + 1], '=')) throw new SqlSyntaxError('expected name = value in SETTINGS', t[k]?.pos ?? 0)
    let v = k + 2
    const neg = isOp(t[v], '-')
    if (neg) v++
    const valTok = t[v]
    if (!valTok || (valTok.type !== 'number' && valTok.type !== 'string' && valTok.type !== 'word')) {
      throw new SqlSyntaxError(`expected a value for setting ${name}`, t[k + 1]!.pos)
    }
    const value = (neg ? '-' : '') + (valTok.type === 'string' ? stringValue(valTok) : valTok.text)
    if (checkSetting(name, value, limits) !== undefined) {
      settings.push([name, value])
      pairs.push(t.slice(k, v + 1))
    }
    k = v + 1
    if (!isOp(t[k], ',')) break
    k++
  }
  const kept: Token[] = []
  if (pairs.length > 0) {
    kept.push(t[i] as Token)
    pairs.forEach((pair, n) => {
      if (n > 0) kept.push(synth('op', ',', false))
      kept.push(...pair)
    })
  }
  return { end: k, kept, settings }
}

/**
 * Safety net: after the rewrite, a pipeline table name may only appear as a column qualifier (`spans.x`), an alias
 * (`AS spans`, and then as a reference to that alias), a CTE name or inside the router's own views (tokens with
 * pos < 0). Anywhere else the walk did not
 * recognise a table position the replica would see (syntax this guard does not know): refuse rather than guess.
 */
export function checkNoRawTable(out: Token[], policy: RouterPolicy): void {
  const { tables, database } = policy
  // A column alias named like a table (`count() AS spans … ORDER BY spans`) makes later bare uses references to it.
  const aliases = new Set<string>()
  for (let k = 1; k < out.length; k++) {
    const name = identName(out[k])
    if ((out[k] as Token).pos >= 0 && name !== undefined && isKeyword(out[k - 1], 'AS')) aliases.add(name)
  }
  for (let k = 0; k < out.length; k++) {
    const tok = out[k] as Token
    if (tok.pos < 0) continue
    const name = identName(tok)
    if (name === undefined) continue
    if (name === database && isOp(out[k + 1], '.') && tables.has(identName(out[k + 2]) ?? '') && !isOp(out[k + 3], '.')) {
      throw rawTable(`${database}.${identName(out[k + 2])}`)
    }
    if (!tables.has(name) || aliases.has(name)) continue
    const prev = out[k - 1]
    const next = out[k + 1]
    if (isOp(next, '.', '(') || isOp(prev, '.') || isKeyword(prev, 'AS') || isKeyword(next, 'AS')) continue
    throw rawTable(name)
  }
}

/** Columns some schemas have outside the table descriptions (18.16's dedup stamps): a query naming one gets `*`. */
export const STAR_ONLY_COLUMNS = ['dedup_token', 'dedup_seq']

/** The query may expand a table's columns: a `*` that is not `f(*)` (multiplication included, to be safe), or COLUMNS(…). */
export function expandsColumns(t: Token[]): boolean {
  for (let i = 0; i < t.length; i++) {
    if (isOp(t[i], '*') && !(isOp(t[i - 1], '(') && isOp(t[i + 1], ')'))) return true
    if (isKeyword(t[i], 'COLUMNS') && isOp(t[i + 1], '(')) return true
  }
  return false
}

/**
 * A tenant view's select list. Only the table's columns the query names anywhere: a column can only be referred to
 * by its name, so no reference is lost, and ClickHouse 18.16 plans a wide `SELECT *` view (with predicate pushdown)
 * measurably slower than a narrow one (≈0.5 ms per query on spans). `*` where the query may expand columns
 * (`allColumns`), plus the time column by name when named (`*` leaves out MATERIALIZED columns). Fewer columns can
 * only narrow what a query sees: the rows are the tenant's either way.
 */
export function viewColumns(table: ReadableTable, mentioned: ReadonlySet<string>, allColumns: boolean): string {
  if (allColumns) return mentioned.has(table.timeColumn) ? `*, ${quoteIdentifier(table.timeColumn)}` : '*'
  const named = table.columns.filter((c) => mentioned.has(c))
  return (named.length > 0 ? named : ['tenant_id']).map(quoteIdentifier).join(', ')
}
