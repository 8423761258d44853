/**
 * Store over a ClickHouse server's HTTP interface (@clickhouse/client). Works from 18.16 to current releases;
 * what the client sends that an old server does not understand is avoided here:
 *   - query parameters (param_x=... in the URL) are unknown settings before 19.11 → bound client-side (sql.ts);
 *   - insert_deduplication_token / deduplicate_insert are only sent where the server has them (dedup.ts);
 *   - 18.x error bodies ("Code: 62, e.displayText() = DB::Exception: ...") do not match the client's error
 *     regex, so they arrive as plain Errors; errors.ts reads the code from the text itself;
 *   - 64-bit integers are requested quoted in JSON (output_format_json_quote_64bit_integers=1: the default in
 *     18.16, no longer in 26.x), so UInt64 nanoseconds come back as exact strings.
 * Rows are encoded by us, not by the client's JSON.stringify (which throws on bigint): RowBinary for the described
 * tables (rowbinary.ts), JSONEachRow (sql.ts) for anything else.
 */
import { Readable } from 'node:stream'
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client'
import type { HealthResult } from '../bus/types.js'
import { AiopsError } from '../errors.js'
import { Deduplicator, type InsertBody, type InsertSettings } from './dedup.js'
import { abortReason, networkSummary, toStoreError } from './errors.js'
import { bindParams, quoteIdentifier, quoteString, quoteTable } from './sql.js'
import type { InsertOptions, QueryOptions, Row, ServerInfo, Store } from './types.js'
import { parseServerVersion, supportsQueryParams } from './version.js'

export interface ClickHouseStoreOptions {
  /** HTTP endpoint, e.g. http://127.0.0.1:8123 */
  url: string
  username?: string
  password?: string
  /** Default database for unqualified table names; created on first use if missing. */
  database?: string
  requestTimeoutMs?: number
}

const QUERY_SETTINGS = { output_format_json_quote_64bit_integers: 1 } as const

export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse' as const
  private readonly client: ClickHouseClient
  private readonly dedup: Deduplicator
  private info?: Promise<ServerInfo>
  private dbReady?: Promise<void>
  private closed = false

  constructor(private readonly opts: ClickHouseStoreOptions) {
    this.client = this.makeClient(opts.database)
    this.dedup = new Deduplicator({
      dependency: 'clickhouse',
      positionalFormat: 'RowBinary',
      select: (sql) => this.run(`read for insert dedup`, () => this.rawQuery(sql, undefined)),
      write: (table, body, settings, signal) => this.write(table, body, settings, signal),
    })
  }

  async insert(table: string, rows: Row[], opts: InsertOptions = {}): Promise<void> {
    if (this.closed) throw closedError()
    if (rows.length === 0) return
    const qt = quoteTable(table) // validates before any I/O
    const info = await this.serverInfo()
    try {
      await this.dedup.insert(table, rows, opts.dedupToken, info, opts.signal)
    } catch (err) {
      const mapped = toStoreError(abortReason(opts.signal) ?? err, this.ctx(`insert into ${qt}`))
      if (mapped.details.clickhouseCode === 60) this.dedup.forget(table)
      throw mapped
    }
  }

  async query<T = Row>(sql: string, opts: QueryOptions = {}): Promise<T[]> {
    return this.run('query', async () => {
      if (!opts.params) return this.rawQuery<T>(sql, undefined, opts.signal)
      if (supportsQueryParams(await this.serverInfo())) return this.rawQuery<T>(sql, opts.params, opts.signal)
      return this.rawQuery<T>(bindParams(sql, opts.params), undefined, opts.signal)
    }, opts.signal)
  }

  async exec(sql: string, opts: QueryOptions = {}): Promise<void> {
    await this.run('statement', async () => {
      let query = sql
      let query_params: Record<string, unknown> | undefined
      if (opts.params) {
        if (supportsQueryParams(await this.serverInfo())) query_params = opts.params
        else query = bindParams(sql, opts.params)
      }
      await this.client.command({ query, ...(query_params ? { query_params } : {}), ...(opts.signal ? { abort_signal: opts.signal } : {}) })
    }, opts.signal)
  }

  serverInfo(): Promise<ServerInfo> {
    this.info ??= this.run('version check', async () => {
      const rows = await this.rawQuery<{ v: string }>('SELECT version() AS v', undefined)
      return parseServerVersion(rows[0]?.v ?? '')
    }).catch((err: unknown) => {
      this.info = undefined // a failed probe (server down) must not stick
      throw err
    })
    return this.info
  }

  async ping(): Promise<HealthResult> {
    if (this.closed) return { ok: false, error: 'store is closed' }
    try {
      const r = await this.client.ping()
      if (r.success) return { ok: true }
      return { ok: false, error: describeNetworkError(r.error, this.opts.url) }
    } catch (err) {
      return { ok: false, error: describeNetworkError(err, this.opts.url) }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.client.close()
  }

  // ------------------------------------------------------------------------------------------------ internals

  private makeClient(database: string | undefined): ClickHouseClient {
    return createClient({
      url: this.opts.url,
      username: this.opts.username ?? 'default',
      password: this.opts.password ?? '',
      ...(database ? { database } : {}),
      request_timeout: this.opts.requestTimeoutMs ?? 30_000,
      application: 'aiops',
      // The client logs every failed request at ERROR on its own; we raise typed errors and log where handled.
      log: { level: ClickHouseLogLevel.OFF },
    })
  }

  /**
   * The configured database is created on first use: every request names it, and a server that lacks it
   * refuses them all, including the CREATE DATABASE that applySchema would send. Checked before creating, so
   * a read-only user on an existing database never issues DDL.
   */
  private ensureDatabase(): Promise<void> {
    const db = this.opts.database
    if (!db || db === 'default') return Promise.resolve()
    this.dbReady ??= (async () => {
      quoteTable(db)
      const admin = this.makeClient(undefined)
      try {
        const rs = await admin.query({ query: `SELECT name FROM system.databases WHERE name = ${quoteString(db)}`, format: 'JSONEachRow' })
        if ((await rs.json()).length === 0) await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteTable(db)}` })
      } finally {
        await admin.close()
      }
    })().catch((err: unknown) => {
      this.dbReady = undefined
      throw err
    })
    return this.dbReady
  }

  private async rawQuery<T>(query: string, params: Record<string, unknown> | undefined, signal?: AbortSignal): Promise<T[]> {
    await this.ensureDatabase()
    const rs = await this.client.query({
      query,
      format: 'JSONEachRow',
      clickhouse_settings: QUERY_SETTINGS,
      ...(params ? { query_params: params } : {}),
      ...(signal ? { abort_signal: signal } : {}),
    })
    return rs.json<T>()
  }

  /** One INSERT with the body streamed as-is; the response is drained so the socket is reused. */
  private async write(table: string, insert: InsertBody, settings: InsertSettings, signal?: AbortSignal): Promise<void> {
    await this.ensureDatabase()
    const target = insert.format !== 'JSONEachRow' ? `${quoteTable(table)} (${insert.columns.map(quoteIdentifier).join(', ')})` : quoteTable(table)
    const r = await this.client.exec({
      query: `INSERT INTO ${target} FORMAT ${insert.format}`,
      values: Readable.from([insert.body]),
      clickhouse_settings: settings,
      ...(signal ? { abort_signal: signal } : {}),
    })
    for await (const _chunk of r.stream) {
      // drain
    }
  }

  private async run<T>(op: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) throw closedError()
    try {
      await this.ensureDatabase()
      return await fn()
    } catch (err) {
      throw toStoreError(abortReason(signal) ?? err, this.ctx(op))
    }
  }

  private ctx(op: string) {
    return { dependency: 'clickhouse' as const, op, locationHint: `store.clickhouse.url (${redact(this.opts.url)})` }
  }
}

function closedError(): AiopsError {
  return new AiopsError('clickhouse store is closed', { code: 'AIOPS_STORE_CLOSED' })
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

/** "ECONNREFUSED 127.0.0.1:8123 (clickhouse at ...)": what is wrong first, so health output reads at a glance. */
function describeNetworkError(err: unknown, url: string): string {
  return `${networkSummary(err)} (clickhouse at ${redact(url)})`
}
