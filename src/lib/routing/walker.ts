/**
 * The guard's walk over a statement's tokens (see guard.ts for what it enforces and why): it tracks parentheses as
 * query, function-call or grouping frames, finds every table position (FROM, JOIN, comma joins, IN, DESCRIBE
 * targets), rewrites pipeline tables into the tenant's view, and checks functions, SETTINGS and WHERE clauses on the
 * way. The output tokens are what the replica receives.
 */
import { quoteIdentifier, quoteString } from '../store/sql.js'
import { QueryRefusedError } from './errors.js'
import type { GuardedQuery, GuardOptions, ScopeInfo, StatementKind } from './guard.js'
import { ALLOWED_TABLE_FUNCTIONS, isDeniedFunction, type ReadableTable } from './policy.js'
import { STAR_ONLY_COLUMNS, checkNoRawTable, expandsColumns, parseSettingsClause, viewColumns } from './walker-checks.js'
import { CLAUSE_WORDS, FROM_LIST_WORDS, PAREN_KEYWORDS, WHERE_END, isOperatorIn, refusedFunction, upper } from './sql-words.js'
import { SqlSyntaxError, identName, isKeyword, isOp, serialize, synth, tokenize, type Token } from './tokens.js'

interface Frame {
  kind: 'query' | 'func' | 'group'
  scope: ScopeInfo | undefined
  inFrom: boolean
  /** Inside a WITH list (until its SELECT): `name AS (…)` defines a CTE visible in this frame and deeper. */
  inWith: boolean
  ctes: Set<string> | undefined
}

const newFrame = (kind: Frame['kind']): Frame => ({ kind, scope: undefined, inFrom: false, inWith: false, ctes: undefined })


export class Walker {
  private readonly out: Token[] = []
  private readonly scopes: ScopeInfo[] = []
  private readonly settings: Array<[string, string]> = []
  private readonly tables = new Set<string>()
  private readonly mentioned = new Set<string>()
  private readonly stack: Frame[] = [newFrame('query')]
  /** Tenant views list only the columns the query names (see viewColumns), unless it may expand all of them. */
  private readonly allColumns: boolean

  constructor(
    private readonly tokens: Token[],
    private readonly opts: GuardOptions,
    private readonly kind: StatementKind,
  ) {
    for (const t of tokens) {
      const name = identName(t)
      if (name !== undefined) this.mentioned.add(name)
    }
    this.allColumns = expandsColumns(tokens) || STAR_ONLY_COLUMNS.some((c) => this.mentioned.has(c))
  }

  run(format: string | undefined): GuardedQuery {
    const t = this.tokens
    let i = 0
    if (this.kind === 'describe' || this.kind === 'exists') {
      this.out.push(t[0] as Token)
      i = 1
      if (isKeyword(t[i], 'TABLE')) this.out.push(t[i++] as Token)
      i = this.tablePosition(i, false)
    }
    while (i < t.length) i = this.step(i)
    checkNoRawTable(this.out, this.opts.policy)
    return {
      kind: this.kind,
      sql: serialize(this.out),
      format,
      settings: this.settings,
      tables: [...this.tables],
      scopes: this.scopes,
      tokens: this.tokens,
    }
  }

  private get frame(): Frame {
    return this.stack.at(-1) as Frame
  }

  /** Processes the token at i (and any it consumes); returns the next index. */
  private step(i: number): number {
    const t = this.tokens
    const tok = t[i] as Token
    const word = upper(tok)
    if (isOp(tok, '(', '[', '{')) {
      this.stack.push(newFrame(this.parenKind(i)))
    } else if (isOp(tok, ')', ']', '}')) {
      this.stack.pop()
    } else if (isOp(tok, ',') && this.frame.inFrom && this.frame.kind === 'query') {
      this.out.push(tok)
      return this.tablePosition(i + 1, true)
    } else if (word === 'SELECT') {
      const frame = this.frame
      frame.kind = 'query'
      frame.scope = { tables: [], filters: [] }
      frame.inFrom = false
      frame.inWith = false
      this.scopes.push(frame.scope)
    } else if (word === 'WITH') {
      this.frame.inWith = true
    } else if (this.frame.inWith && isKeyword(t[i + 1], 'AS') && isOp(t[i + 2], '(') && (isKeyword(t[i - 1], 'WITH') || isOp(t[i - 1], ','))) {
      const name = identName(tok)
      if (name !== undefined) (this.frame.ctes ??= new Set()).add(name)
    } else if (word === 'FROM' && (this.frame.kind !== 'func' || this.namesTable(i + 1))) {
      this.frame.inFrom = true
      this.out.push(tok)
      return this.tablePosition(i + 1, true)
    } else if (word === 'JOIN' && !this.isArrayJoin(i)) {
      // A comma after a join's ON/USING starts another table (`FROM a JOIN b ON … , c`): stay in the table list.
      this.frame.inFrom = true
      this.out.push(tok)
      return this.tablePosition(i + 1, true)
    } else if (word === 'IN') {
      this.checkIn(i)
    } else if (word === 'SETTINGS' && identName(t[i + 1]) !== undefined && isOp(t[i + 2], '=')) {
      return this.settingsClause(i)
    } else if (word === 'PREWHERE' || word === 'WHERE') {
      return this.filterClause(i)
    } else if (word === 'SAMPLE' && this.frame.kind === 'query') {
      throw new QueryRefusedError('SAMPLE is not available: the tables have no sampling key', 'NOT_IMPLEMENTED')
    } else if ((tok.type === 'word' || tok.type === 'quoted') && isOp(t[i + 1], '(')) {
      const name = (identName(tok) as string).toLowerCase()
      if (isDeniedFunction(name)) throw refusedFunction(identName(tok) as string)
    }
    if (this.frame.inFrom && CLAUSE_WORDS.has(word) && !FROM_LIST_WORDS.has(word)) this.frame.inFrom = false
    this.out.push(tok)
    return i + 1
  }

  private parenKind(i: number): Frame['kind'] {
    const next = upper(this.tokens[i + 1])
    if (next === 'SELECT' || next === 'WITH') return 'query'
    const prev = this.tokens[i - 1]
    if (prev && (prev.type === 'quoted' || (prev.type === 'word' && !PAREN_KEYWORDS.has(prev.text.toUpperCase())))) return 'func'
    return 'group'
  }

  /**
   * Inside a function call FROM is usually syntax (`extract(DAY FROM ts)`, `trim(BOTH ' ' FROM s)`), but modern
   * servers also parse `FROM t SELECT …`: a pipeline table or any qualified name after it is treated as a table.
   */
  private namesTable(j: number): boolean {
    const name = identName(this.tokens[j])
    if (name === undefined || isOp(this.tokens[j + 1], '(')) return false
    return isOp(this.tokens[j + 1], '.') || this.opts.policy.tables.has(name)
  }

  private isCte(name: string): boolean {
    return this.stack.some((f) => f.ctes?.has(name) === true)
  }

  private isArrayJoin(i: number): boolean {
    let j = i - 1
    while (isKeyword(this.tokens[j], 'LEFT', 'INNER')) j--
    return isKeyword(this.tokens[j], 'ARRAY')
  }

  /** `x IN table` reads a whole table unfiltered; `in(x, t)` is the same thing spelled as a function. */
  private checkIn(i: number): void {
    const t = this.tokens
    const next = t[i + 1]
    if (isOp(next, '(')) {
      if (!isOperatorIn(t, i)) throw refusedFunction('in')
      return
    }
    const name = identName(next)
    if (name === undefined) return
    if (isOp(t[i + 2], '(')) return // IN f(...): a function call's result, checked as a function
    if (!isOp(t[i + 2], '.') && this.isCte(name)) return
    throw new QueryRefusedError(
      `IN ${name} reads a table without the tenant filter; write IN (SELECT column FROM ${name} …) instead`,
      'ACCESS_DENIED',
      { table: name },
    )
  }

  /**
   * A table position (after FROM, JOIN, a comma in FROM, DESCRIBE/EXISTS). Classifies what is there and emits it,
   * rewritten when it is a pipeline table. Returns the index after the table expression.
   */
  private tablePosition(j: number, rewrite: boolean): number {
    const t = this.tokens
    const first = t[j]
    if (first === undefined) throw new SqlSyntaxError('a table is missing at the end of the query', t.at(-1)?.pos ?? 0)
    if (isOp(first, '(')) return j // a subquery: walked like any other
    const name1 = identName(first)
    if (name1 === undefined || (first.type === 'word' && CLAUSE_WORDS.has(first.text.toUpperCase()))) {
      throw new SqlSyntaxError(`expected a table, got ${first.text}`, first.pos)
    }
    if (isOp(t[j + 1], '(')) {
      if (!ALLOWED_TABLE_FUNCTIONS.has(name1.toLowerCase())) {
        throw new QueryRefusedError(
          `table function ${name1} is not allowed (allowed: ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')})`,
          'ACCESS_DENIED',
          { function: name1 },
        )
      }
      return j // the loop emits the call and walks its arguments
    }
    let db: string | undefined
    let name = name1
    let k = j + 1
    if (isOp(t[k], '.')) {
      const second = identName(t[k + 1])
      if (second === undefined) throw new SqlSyntaxError('expected a table name after the database', t[k]!.pos)
      if (isOp(t[k + 2], '.')) throw new SqlSyntaxError(`${name1}.${second}.… is not a table name`, t[k + 2]!.pos)
      db = name1
      name = second
      k += 2
    }
    const aliasStart = k
    if (isKeyword(t[k], 'AS')) {
      if (identName(t[k + 1]) === undefined) throw new SqlSyntaxError('expected an alias after AS', t[k]!.pos)
      k += 2
    } else if (t[k]?.type === 'quoted' || (t[k]?.type === 'word' && !CLAUSE_WORDS.has(upper(t[k])))) {
      k += 1
    }
    const alias = t.slice(aliasStart, k)
    const final = isKeyword(t[k], 'FINAL')
    if (final) k++
    if (isKeyword(t[k], 'SAMPLE')) throw new QueryRefusedError('SAMPLE is not available: the tables have no sampling key', 'NOT_IMPLEMENTED')

    const policy = this.opts.policy
    // A pipeline table's name is rewritten even where a CTE of the same name exists: reading the filtered table
    // instead of the CTE can only return fewer of the tenant's rows, never another tenant's.
    const table = db === undefined || db === policy.database ? policy.tables.get(name) : undefined
    const original = t.slice(j, k)
    if (table !== undefined) {
      this.tables.add(table.name)
      this.frame.scope?.tables.push(table.name)
      if (rewrite) this.out.push(...this.tenantView(table, final, alias, first.space))
      else this.out.push(...original.map((tok) => ({ ...tok, pos: -1 }))) // DESCRIBE/EXISTS: metadata only
      return k
    }
    const readable = (db === undefined && this.isCte(name)) || (db === 'system' && policy.systemTables.has(name))
    if (!readable) {
      const target = db === undefined ? name : `${db}.${name}`
      throw new QueryRefusedError(
        `table ${target} is not readable; tenants read ${[...policy.tables.keys()].join(', ')} (in ${policy.database}) and system.{${[...policy.systemTables].join(',')}}`,
        'ACCESS_DENIED',
        { table: target },
      )
    }
    this.out.push(...original)
    return k
  }

  /** `(SELECT <columns> FROM db.t [FINAL] WHERE tenant_id = '…') AS alias` */
  private tenantView(table: ReadableTable, final: boolean, alias: Token[], space: boolean): Token[] {
    const db = this.opts.policy.database
    const sql = `SELECT ${viewColumns(table, this.mentioned, this.allColumns)} FROM ${quoteIdentifier(db)}.${quoteIdentifier(table.name)}${final ? ' FINAL' : ''} WHERE tenant_id = ${quoteString(this.opts.tenant)}`
    const inner = tokenize(sql).map((tok) => ({ ...tok, pos: -1 }))
    const tail = alias.length > 0 ? alias : [synth('word', 'AS'), synth('quoted', quoteIdentifier(table.name))]
    return [synth('op', '(', space), ...inner, synth('op', ')', false), ...tail]
  }

  private settingsClause(i: number): number {
    const { end, kept, settings } = parseSettingsClause(this.tokens, i, this.opts.limits)
    this.settings.push(...settings)
    this.out.push(...kept)
    return end
  }

  /**
   * WHERE/PREWHERE: records the expression for time-range analysis. PREWHERE becomes WHERE (the table is a
   * subquery now, and ClickHouse refuses PREWHERE on one); with both, `WHERE (a) AND (b)` keeps the meaning.
   */
  private filterClause(i: number): number {
    const t = this.tokens
    const end = this.clauseEnd(i + 1, true)
    this.frame.scope?.filters.push([i + 1, end])
    if (!isKeyword(t[i], 'PREWHERE')) {
      this.out.push(t[i] as Token)
      return i + 1
    }
    if (!isKeyword(t[end], 'WHERE')) {
      this.out.push({ ...(t[i] as Token), text: 'WHERE' })
      return i + 1
    }
    // PREWHERE a WHERE b → WHERE (a) AND (b): emit the PREWHERE part now, the WHERE part by walking it.
    const whereEnd = this.clauseEnd(end + 1, false)
    this.frame.scope?.filters.push([end + 1, whereEnd])
    this.out.push({ ...(t[i] as Token), text: 'WHERE' }, synth('op', '('))
    let k = i + 1
    while (k < end) k = this.step(k)
    this.out.push(synth('op', ')'), synth('word', 'AND'), synth('op', '('))
    k = end + 1
    while (k < whereEnd) k = this.step(k)
    this.out.push(synth('op', ')'))
    return whereEnd
  }

  /** Index of the token that ends a WHERE expression starting at `from` (a clause keyword at this depth, `)`, or the end). */
  private clauseEnd(from: number, stopAtWhere: boolean): number {
    const t = this.tokens
    let depth = 0
    for (let k = from; k < t.length; k++) {
      const tok = t[k] as Token
      if (isOp(tok, '(', '[', '{')) depth++
      else if (isOp(tok, ')', ']', '}')) {
        if (depth === 0) return k
        depth--
      } else if (depth === 0 && tok.type === 'word') {
        const w = tok.text.toUpperCase()
        if (WHERE_END.has(w) || (stopAtWhere && w === 'WHERE')) return k
      }
    }
    return t.length
  }
}
