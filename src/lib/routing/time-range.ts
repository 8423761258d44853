/**
 * The time range a query reads, from its WHERE clauses, for routing (hot/any/cold) and caching (TTL by data age,
 * invalidation on late data). Conservative by construction, because a range that is too narrow would cache data that
 * is still changing or miss an invalidation:
 * - only conjuncts at the top of a WHERE count (`ts >= A AND ts < B`, `ts BETWEEN A AND B`, `A <= ts`); a WHERE
 *   with a top-level OR gives no bound;
 * - each SELECT that reads a pipeline table needs its own bounds, and one reading two pipeline tables (a join) gets
 *   none (which table a bound applies to would need name resolution);
 * - the query's range is the union over those SELECTs; a missing side is open (−∞, or "now" for the end).
 * Bounds are constant expressions: numbers (seconds for DateTime columns, nanoseconds for *_ns), date strings,
 * toDateTime/toDateTime64/parseDateTimeBestEffort/fromUnixTimestamp64*, now()/today() ± INTERVAL, {param:Type}.
 */
import type { GuardedQuery } from './guard.js'
import type { RouterPolicy } from './policy.js'
import { evaluate, type Value } from './time-expr.js'
import { identName, isKeyword, isOp, type Token } from './tokens.js'

export { parseDateText } from './time-expr.js'

export interface TimeRange {
  /** Epoch ms; undefined: unbounded below. */
  fromMs: number | undefined
  /** Epoch ms; undefined: unbounded above (reads up to now). */
  toMs: number | undefined
  /** False when the query reads no pipeline table (constants, system tables): there is no data range. */
  readsData: boolean
}

export function queryTimeRange(q: GuardedQuery, policy: RouterPolicy, nowMs: number, params: Record<string, string> = {}): TimeRange {
  const reading = q.kind === 'select' ? q.scopes.filter((s) => s.tables.length > 0) : []
  if (reading.length === 0) return { fromMs: undefined, toMs: undefined, readsData: false }
  let from: number | undefined = Infinity
  let to: number | undefined = -Infinity
  for (const scope of reading) {
    let lo: number | undefined
    let hi: number | undefined
    if (scope.tables.length === 1) {
      const table = policy.tables.get(scope.tables[0] as string)
      const cols = table ? { time: table.timeColumn, ns: table.nsColumn } : undefined
      for (const [a, b] of scope.filters) {
        if (!cols) break
        const r = whereBounds(q.tokens.slice(a, b), cols, nowMs, params)
        if (r.lo !== undefined) lo = lo === undefined ? r.lo : Math.max(lo, r.lo)
        if (r.hi !== undefined) hi = hi === undefined ? r.hi : Math.min(hi, r.hi)
      }
    }
    from = from === undefined || lo === undefined ? undefined : Math.min(from, lo)
    to = to === undefined || hi === undefined ? undefined : Math.max(to, hi)
  }
  return { fromMs: from, toMs: to, readsData: true }
}

interface Cols {
  time: string
  ns: string
}

/** Bounds from one WHERE expression's top-level conjuncts. */
export function whereBounds(expr: Token[], cols: Cols, nowMs: number, params: Record<string, string>): { lo?: number; hi?: number } {
  if (splitTop(expr, 'OR').length > 1) return {}
  const out: { lo?: number; hi?: number } = {}
  const add = (kind: 'lo' | 'hi', ms: number | undefined): void => {
    if (ms === undefined || !Number.isFinite(ms)) return
    out[kind] = out[kind] === undefined ? ms : kind === 'lo' ? Math.max(out[kind]!, ms) : Math.min(out[kind]!, ms)
  }
  for (let c of splitTop(expr, 'AND')) {
    while (c.length > 2 && isOp(c[0], '(') && matchingParen(c, 0) === c.length - 1) c = c.slice(1, -1)
    const inner = splitTop(c, 'AND')
    if (inner.length > 1) {
      const r = whereBounds(c, cols, nowMs, params)
      add('lo', r.lo)
      add('hi', r.hi)
      continue
    }
    const between = c.findIndex((t) => isKeyword(t, 'BETWEEN'))
    if (between > 0) {
      const unit = columnUnit(c.slice(0, between), cols)
      const and = c.findIndex((t, i) => i > between && isKeyword(t, 'AND'))
      if (unit && and > 0 && !isKeyword(c[between - 1], 'NOT')) {
        add('lo', toMs(evaluate(c.slice(between + 1, and), nowMs, params), unit))
        add('hi', toMs(evaluate(c.slice(and + 1), nowMs, params), unit))
      }
      continue
    }
    const opAt = c.findIndex((t) => isOp(t, '>', '>=', '<', '<=', '=', '=='))
    if (opAt <= 0) continue
    const op = (c[opAt] as Token).text
    const left = c.slice(0, opAt)
    const right = c.slice(opAt + 1)
    let unit = columnUnit(left, cols)
    let valueSide = right
    let flipped = false
    if (!unit) {
      unit = columnUnit(right, cols)
      valueSide = left
      flipped = true
    }
    if (!unit) continue
    const ms = toMs(evaluate(valueSide, nowMs, params), unit)
    const greater = op === '>' || op === '>='
    const less = op === '<' || op === '<='
    if (op === '=' || op === '==') {
      add('lo', ms)
      add('hi', ms)
    } else if ((greater && !flipped) || (less && flipped)) add('lo', ms)
    else add('hi', ms)
  }
  return out
}

/** 'ns' or 's' when the tokens are exactly a (possibly qualified) reference to the time column. */
function columnUnit(tokens: Token[], cols: Cols): 'ns' | 's' | undefined {
  if (tokens.length !== 1 && !(tokens.length === 3 && isOp(tokens[1], '.'))) return undefined
  const name = identName(tokens.at(-1))
  if (name === cols.ns) return 'ns'
  if (name === cols.time) return 's'
  return undefined
}

function toMs(v: Value | undefined, unit: 'ns' | 's'): number | undefined {
  if (!v) return undefined
  if (v.kind === 'time') return v.ms
  if (v.kind === 'num') return unit === 'ns' ? v.v / 1e6 : v.v * 1000
  return undefined
}

function splitTop(tokens: Token[], word: 'AND' | 'OR'): Token[][] {
  const parts: Token[][] = []
  let depth = 0
  let start = 0
  let pendingBetween = 0
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token
    if (isOp(t, '(', '[', '{')) depth++
    else if (isOp(t, ')', ']', '}')) depth--
    else if (depth === 0 && isKeyword(t, 'BETWEEN')) pendingBetween++
    else if (depth === 0 && isKeyword(t, word)) {
      // The AND of `x BETWEEN a AND b` belongs to the BETWEEN, not to the conjunction.
      if (word === 'AND' && pendingBetween > 0) {
        pendingBetween--
        continue
      }
      parts.push(tokens.slice(start, i))
      start = i + 1
    }
  }
  parts.push(tokens.slice(start))
  return parts
}

function matchingParen(tokens: Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    if (isOp(tokens[i], '(')) depth++
    else if (isOp(tokens[i], ')') && --depth === 0) return i
  }
  return -1
}
