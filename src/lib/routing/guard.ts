/**
 * The router's first line of tenant isolation: a tenant's SQL is tokenized, checked and rewritten so that whatever
 * it says, the only rows it can reach are its own.
 *
 * - One statement, read-only kinds only (SELECT/WITH, SHOW DATABASES|TABLES, DESCRIBE, EXISTS); no INTO OUTFILE.
 * - Every table reference (FROM, JOIN, comma joins, at any depth: subqueries, UNION branches, CTEs, scalar
 *   subqueries) is classified: a pipeline table becomes `(SELECT * FROM db.t WHERE tenant_id = '<tenant>') AS t`;
 *   an allow-listed system table stays; a CTE name stays; anything else is refused. Because the table itself is
 *   replaced, no predicate the tenant writes (OR 1=1, UNION, a join on another tenant's id) can widen it.
 * - Table functions only from an allow-list (numbers, zeros, values); functions that reach outside or read a table
 *   by name (url, file, remote, s3, merge, dictGet, joinGet, in(x, t), …) refused anywhere; `IN table` refused.
 * - SETTINGS clauses checked (no readonly=0, no lifting of limits).
 * The replica receives the router's serialization of these tokens, never the tenant's text (see tokens.ts).
 */
import { QueryRefusedError } from './errors.js'
import type { RouterPolicy, SettingLimits } from './policy.js'
import { WRITE_STATEMENTS, upper } from './sql-words.js'
import { SqlSyntaxError, identName, isKeyword, isOp, serialize, tokenize, type Token } from './tokens.js'
import { Walker } from './walker.js'

export type StatementKind = 'select' | 'show' | 'describe' | 'exists'

/** One SELECT (a UNION branch, a subquery): the pipeline tables it reads directly and its WHERE/PREWHERE spans. */
export interface ScopeInfo {
  tables: string[]
  /** [start, end) ranges in GuardedQuery.tokens. */
  filters: Array<[number, number]>
}

export interface GuardedQuery {
  kind: StatementKind
  /** The rewritten query the replica runs, without its FORMAT clause. */
  sql: string
  /** The FORMAT clause's format, if the query had one. */
  format: string | undefined
  /** Settings from SETTINGS clauses (checked; they stay in `sql`). */
  settings: Array<[string, string]>
  /** Pipeline tables read (each once). */
  tables: string[]
  scopes: ScopeInfo[]
  /** The tenant's tokens (FORMAT removed), for time-range analysis. */
  tokens: Token[]
}

export interface GuardOptions {
  tenant: string
  policy: RouterPolicy
  limits: SettingLimits
}

export function guardQuery(sql: string, opts: GuardOptions): GuardedQuery {
  const all = tokenize(sql)
  const semi = all.findIndex((t) => isOp(t, ';'))
  if (semi >= 0 && semi !== all.length - 1) {
    throw new QueryRefusedError('multi-statement queries are not allowed: send one statement per request', 'SYNTAX_ERROR')
  }
  const withoutSemi = semi >= 0 ? all.slice(0, semi) : all
  if (withoutSemi.length === 0) throw new SqlSyntaxError('empty query', 0)
  checkBalanced(withoutSemi)
  const { tokens, format } = extractFormat(withoutSemi)
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (isKeyword(tokens[i], 'INTO') && isKeyword(tokens[i + 1], 'OUTFILE')) {
      throw new QueryRefusedError('INTO OUTFILE is not allowed: results come back in the response', 'ACCESS_DENIED')
    }
  }
  const kind = statementKind(tokens)
  if (kind === 'show') {
    checkShow(tokens, opts.policy)
    return { kind, sql: serialize(tokens), format, settings: [], tables: [], scopes: [], tokens }
  }
  return new Walker(tokens, opts, kind).run(format)
}

function checkBalanced(tokens: Token[]): void {
  const stack: string[] = []
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' }
  for (const t of tokens) {
    if (t.type !== 'op') continue
    if (t.text === '(' || t.text === '[' || t.text === '{') stack.push(t.text)
    else if (pairs[t.text]) {
      if (stack.pop() !== pairs[t.text]) throw new SqlSyntaxError(`unbalanced ${t.text}`, t.pos)
    }
  }
  if (stack.length > 0) throw new SqlSyntaxError(`unclosed ${stack.at(-1)}`, tokens.at(-1)!.pos)
}

/** Removes the top-level `FORMAT name` clause; the router applies the format itself. */
function extractFormat(tokens: Token[]): { tokens: Token[]; format: string | undefined } {
  let depth = 0
  let found = -1
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token
    if (isOp(t, '(', '[', '{')) depth++
    else if (isOp(t, ')', ']', '}')) depth--
    else if (depth === 0 && isKeyword(t, 'FORMAT') && !isOp(tokens[i + 1], '(') && i > 0) {
      if (found >= 0) throw new SqlSyntaxError('more than one FORMAT clause', t.pos)
      if (identName(tokens[i + 1]) === undefined) throw new SqlSyntaxError('FORMAT needs a format name', t.pos)
      found = i
    }
  }
  if (found < 0) return { tokens, format: undefined }
  return { tokens: [...tokens.slice(0, found), ...tokens.slice(found + 2)], format: identName(tokens[found + 1]) }
}

function statementKind(tokens: Token[]): StatementKind {
  const first = upper(tokens[0])
  if (first === 'SELECT' || first === 'WITH' || isOp(tokens[0], '(')) return 'select'
  if (first === 'SHOW') return 'show'
  if (first === 'DESCRIBE' || first === 'DESC') return 'describe'
  if (first === 'EXISTS') return 'exists'
  if (!WRITE_STATEMENTS.has(first)) {
    throw new SqlSyntaxError(`expected SELECT, WITH, SHOW, DESCRIBE or EXISTS, got ${tokens[0]?.text ?? 'nothing'}`, tokens[0]?.pos ?? 0)
  }
  throw new QueryRefusedError(
    `${first} statements are not allowed: the router is read-only (SELECT, WITH, SHOW TABLES|DATABASES, DESCRIBE, EXISTS)`,
    'READONLY',
  )
}

function checkShow(tokens: Token[], policy: RouterPolicy): void {
  const what = upper(tokens[1])
  if (what === 'DATABASES') return
  if (what === 'TABLES') {
    if (!isKeyword(tokens[2], 'FROM', 'IN')) return
    const db = identName(tokens[3])
    if (db === policy.database || db === 'system') return
    throw new QueryRefusedError(`SHOW TABLES FROM ${db}: only ${policy.database} and system are readable`, 'ACCESS_DENIED')
  }
  throw new QueryRefusedError(`SHOW ${tokens[1]?.text ?? ''} is not allowed (SHOW DATABASES and SHOW TABLES are)`, 'ACCESS_DENIED')
}
