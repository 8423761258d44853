/**
 * Store over embedded ClickHouse (chDB, `npm i chdb`): the engine runs inside this process and keeps its data
 * under `path`, so `aiops up` needs no server. Same SQL, same schema, same dedup semantics as the server.
 *
 * Calls are serialised: one statement at a time on the session, in call order. chDB's engine is a process-wide
 * singleton with one connection per data path; its async calls run on the libuv pool, but interleaving several
 * on one session buys little (the engine parallelises a query internally) and a close() racing an operation
 * aborts the engine for the whole process. A queue makes close() wait for the work in flight.
 * Consequences: throughput is one statement at a time, and a slow query delays inserts behind it; one process
 * can open only one chDB path (a second ChdbStore on another path fails until the first is closed).
 *
 * The `chdb` module is imported on first use, so a CLI that never touches the embedded store does not load it.
 */
import { mkdir } from 'node:fs/promises'
import type { Session } from 'chdb'
import type { HealthResult } from '../bus/types.js'
import { AiopsError, DependencyError } from '../errors.js'
import { Deduplicator, type InsertBody, type InsertSettings } from './dedup.js'
import { abortReason, messageOf, toStoreError } from './errors.js'
import { parseJSONEachRow, quoteTable } from './sql.js'
import type { InsertOptions, QueryOptions, Row, ServerInfo, Store } from './types.js'
import { parseServerVersion } from './version.js'

export interface ChdbStoreOptions {
  /** Data directory; created if missing. */
  path: string
  /** Default database for unqualified table names; created on open if missing. */
  database?: string
}

/** chDB failures that no retry can fix: another path already open in this process, bad bound values, no binary. */
const PERMANENT_CHDB_CODES = new Set([
  'CHDB_CONNECTION', 'CHDB_BIND', 'CHDB_PLATFORM', 'CHDB_LIBCHDB_PATH', 'CHDB_LIBCHDB_DIR', 'CHDB_INSERT',
])

export class ChdbStore implements Store {
  readonly kind = 'chdb' as const
  private session?: Session
  private tail: Promise<unknown> = Promise.resolve()
  private closed = false
  private info?: ServerInfo
  private readonly dedup: Deduplicator

  constructor(private readonly opts: ChdbStoreOptions) {
    this.dedup = new Deduplicator({
      dependency: 'chdb',
      positionalFormat: 'JSONCompactEachRow', // chDB's raw insert takes text formats only
      select: (sql) => this.query(sql),
      write: (table, body, settings, signal) => this.write(table, body, settings, signal),
    })
  }

  async insert(table: string, rows: Row[], opts: InsertOptions = {}): Promise<void> {
    if (this.closed) throw closedError()
    if (rows.length === 0) return
    const qt = quoteTable(table)
    const info = await this.serverInfo()
    try {
      await this.dedup.insert(table, rows, opts.dedupToken, info, opts.signal)
    } catch (err) {
      const mapped = this.mapError(abortReason(opts.signal) ?? err, `insert into ${qt}`)
      if (mapped.details.clickhouseCode === 60) this.dedup.forget(table)
      throw mapped
    }
  }

  query<T = Row>(sql: string, opts: QueryOptions = {}): Promise<T[]> {
    return this.serial('query', opts.signal, async (s) => {
      const o = { format: 'JSONEachRow', ...(opts.signal ? { signal: opts.signal } : {}) }
      const r = opts.params ? await s.queryBindAsync(sql, normalizeParams(opts.params), o) : await s.queryAsync(sql, o)
      return parseJSONEachRow<T>(r.text())
    })
  }

  async exec(sql: string, opts: QueryOptions = {}): Promise<void> {
    await this.serial('statement', opts.signal, async (s) => {
      const o = opts.signal ? { signal: opts.signal } : {}
      if (opts.params) await s.queryBindAsync(sql, normalizeParams(opts.params), o)
      else await s.queryAsync(sql, o)
    })
  }

  async serverInfo(): Promise<ServerInfo> {
    if (!this.info) {
      const [row] = await this.query<{ v: string }>('SELECT version() AS v')
      this.info = parseServerVersion(row?.v ?? '', 'chdb')
    }
    return this.info
  }

  async ping(): Promise<HealthResult> {
    if (this.closed) return { ok: false, error: 'store is closed' }
    try {
      await this.query('SELECT 1 AS ok')
      return { ok: true }
    } catch (err) {
      return { ok: false, error: messageOf(err) }
    }
  }

  /** Waits for queued work, then releases the engine connection. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.tail.catch(() => {})
    this.session?.close()
    this.session = undefined
  }

  // ------------------------------------------------------------------------------------------------ internals

  private write(table: string, insert: InsertBody, settings: InsertSettings, signal?: AbortSignal): Promise<void> {
    return this.serial('insert', signal, async (s) => {
      // Raw passthrough: the payload goes to the engine's parser as bytes, never re-parsed in JS. An abort only
      // settles the promise early; the engine finishes the write, so callers that may retry pass a dedupToken.
      if (insert.format === 'RowBinary') throw new Error('chDB raw inserts take text formats only') // positionalFormat says so
      const columns = insert.format === 'JSONEachRow' ? {} : { columns: insert.columns }
      await s.insert({ table, values: insert.body, format: insert.format, ...columns, settings, ...(signal ? { signal } : {}) })
    })
  }

  /** Runs `fn` on the session after every earlier call has settled, mapping failures to store errors. */
  private serial<T>(op: string, signal: AbortSignal | undefined, fn: (s: Session) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError())
    const run = this.tail.then(async () => {
      if (this.closed) throw closedError()
      const aborted = abortReason(signal) // aborted while queued: do not start it
      if (aborted) throw aborted
      try {
        return await fn(await this.open())
      } catch (err) {
        throw this.mapError(abortReason(signal) ?? err, op)
      }
    })
    this.tail = run.catch(() => {})
    return run
  }

  private async open(): Promise<Session> {
    if (this.session) return this.session
    await mkdir(this.opts.path, { recursive: true })
    const chdb = await import('chdb')
    // 64-bit integers as JSON strings: UInt64 nanoseconds must survive JSON.parse exactly (26.x defaults to bare numbers).
    const s = new chdb.Session(this.opts.path, { connectionArgs: ['--output_format_json_quote_64bit_integers=1'] })
    try {
      const db = this.opts.database
      if (db && db !== 'default') {
        await s.queryAsync(`CREATE DATABASE IF NOT EXISTS ${quoteTable(db)}`)
        await s.queryAsync(`USE ${quoteTable(db)}`) // sticks for the session: unqualified names resolve here
      }
    } catch (err) {
      s.close()
      throw err
    }
    this.session = s
    return s
  }

  private mapError(err: unknown, op: string): AiopsError {
    if (err instanceof AiopsError) return err
    const e = err as { code?: unknown; clickhouseCode?: unknown } | undefined
    const code = e?.code
    // An engine error (it carries ClickHouse's code) is classified by that code; the rest by chDB's own code.
    if (typeof e?.clickhouseCode !== 'number' && typeof code === 'string' && PERMANENT_CHDB_CODES.has(code)) {
      return new DependencyError('chdb', `chdb refused ${op}: ${messageOf(err)}`, {
        retriable: false,
        cause: err,
        details: { op, chdbCode: code },
        suggestions:
          code === 'CHDB_CONNECTION'
            ? ['one process can open one chDB data directory at a time: check store.chdb.path, or close the other store']
            : ['check the statement and the values passed to it'],
      })
    }
    return toStoreError(err, { dependency: 'chdb', op, locationHint: `store.chdb.path (${this.opts.path})` })
  }
}

function closedError(): AiopsError {
  return new AiopsError('chdb store is closed', { code: 'AIOPS_STORE_CLOSED' })
}

/** chDB binds bigint/number/string/array/null itself; a Date becomes Unix seconds, as the HTTP client does. */
function normalizeParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(params)) out[k] = v instanceof Date ? Math.floor(v.getTime() / 1000) : v
  return out
}
