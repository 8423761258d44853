/**
 * The SQL vocabulary the guard needs: which words start writes, which may precede `(` without making a function
 * call, which end a FROM list or a WHERE expression; and the guard's refusals that several places raise.
 */
import { QueryRefusedError } from './errors.js'
import { isKeyword, isOp, type Token } from './tokens.js'

/** Statements ClickHouse knows that change something or reach outside a read (refused as READONLY, not as typos). */
export const WRITE_STATEMENTS = new Set([
  'INSERT', 'CREATE', 'DROP', 'ALTER', 'ATTACH', 'DETACH', 'RENAME', 'TRUNCATE', 'OPTIMIZE', 'KILL', 'SYSTEM', 'SET', 'USE', 'GRANT',
  'REVOKE', 'DELETE', 'UPDATE', 'EXCHANGE', 'UNDROP', 'BACKUP', 'RESTORE', 'CHECK', 'EXPLAIN', 'WATCH', 'MOVE', 'REPLACE', 'UNDO',
])

/** Words that may stand before `(` without making it a function call. */
export const PAREN_KEYWORDS = new Set([
  'IN', 'FROM', 'JOIN', 'AS', 'ON', 'USING', 'AND', 'OR', 'NOT', 'WHERE', 'PREWHERE', 'HAVING', 'SELECT', 'BY', 'WITH', 'UNION', 'ALL',
  'DISTINCT', 'THEN', 'ELSE', 'WHEN', 'CASE', 'IS', 'LIKE', 'ILIKE', 'BETWEEN', 'INTERVAL', 'ANY', 'EXISTS', 'GLOBAL', 'LIMIT', 'OFFSET',
  'SETTINGS', 'OVER', 'TABLE', 'EXCEPT', 'INTERSECT', 'DESCRIBE', 'DESC', 'TUPLE',
])
/** Words that end a FROM clause's table list; after a table name they are not an alias. */
export const CLAUSE_WORDS = new Set([
  'WHERE', 'PREWHERE', 'GROUP', 'ORDER', 'LIMIT', 'HAVING', 'SETTINGS', 'UNION', 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'ANY',
  'ALL', 'ASOF', 'SEMI', 'ANTI', 'GLOBAL', 'ARRAY', 'ON', 'USING', 'FINAL', 'SAMPLE', 'INTO', 'WINDOW', 'QUALIFY', 'EXCEPT', 'INTERSECT',
  'PASTE', 'FORMAT', 'OFFSET', 'FETCH', 'AS', 'LOCAL', 'WITH', 'SELECT', 'FROM',
])
/** Words that may appear inside a FROM list without ending it (aliases, joins and their conditions). */
export const FROM_LIST_WORDS = new Set(['AS', 'FINAL', 'ON', 'USING', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'ANY', 'ALL', 'ASOF', 'SEMI', 'ANTI', 'GLOBAL', 'JOIN', 'LOCAL'])
/** Clause keywords that end a WHERE expression. */
export const WHERE_END = new Set(['GROUP', 'HAVING', 'ORDER', 'LIMIT', 'SETTINGS', 'UNION', 'WINDOW', 'QUALIFY', 'INTERSECT', 'EXCEPT', 'INTO', 'FORMAT'])

export const upper = (t: Token | undefined): string => (t && t.type === 'word' ? t.text.toUpperCase() : '')

/** `x IN (…)`, `x NOT IN (…)`, `x GLOBAL IN (…)`: IN follows an expression. Otherwise it is the function in(…). */
export function isOperatorIn(t: Token[], i: number): boolean {
  let j = i - 1
  while (isKeyword(t[j], 'NOT', 'GLOBAL')) j--
  const prev = t[j]
  if (!prev) return false
  if (prev.type === 'quoted' || prev.type === 'number' || prev.type === 'string') return true
  if (isOp(prev, ')', ']', '}')) return true
  return prev.type === 'word' && !PAREN_KEYWORDS.has(prev.text.toUpperCase()) && !CLAUSE_WORDS.has(prev.text.toUpperCase())
}

export function rawTable(name: string): QueryRefusedError {
  return new QueryRefusedError(
    `${name} is used in a way the router cannot check; read it with FROM ${name} or JOIN ${name}`,
    'ACCESS_DENIED',
    { table: name },
  )
}

export function refusedFunction(name: string): QueryRefusedError {
  return new QueryRefusedError(
    `function ${name} is not allowed: it reads outside the tenant's rows (external data, tables by name, dictionaries)`,
    'ACCESS_DENIED',
    { function: name },
  )
}
