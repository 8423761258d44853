/**
 * DDL for the pipeline's tables, generated per server feature set from the one description in tables.ts, and
 * applySchema(): ordered, recorded migrations so every agent can call it at start-up (idempotent: a second run
 * applies nothing).
 *
 *              modern (>= 22.2; chDB)                          ClickHouse 18.16
 *   time       DateTime64(9,'UTC') from the UInt64 ns column   DateTime('UTC') (seconds) from the ns column
 *   strings    LowCardinality(String) for low-cardinality      String
 *   retention  TTL toDateTime(t) + INTERVAL n DAY              none (drop partitions by hand / cron)
 *   dedup      insert_deduplication_token, table setting       dedup_token + dedup_seq columns stamped by the
 *              non_replicated_deduplication_window              store (see dedup.ts)
 * Features are decided one by one (version.ts), so servers in between get what they support.
 */
import { UsageError } from '../errors.js'
import { quoteString, quoteTable } from './sql.js'
import { TABLES, type ColumnSpec, type ColumnType, type TableSpec } from './tables.js'
import type { ServerInfo, Store, StoreFeatures } from './types.js'

export { TABLES, tableSpec, rowDefaults, type TableSpec, type ColumnSpec } from './tables.js'

/** Block hashes kept per table for insert_deduplication_token: replays older than this many inserts are not caught. */
export const DEDUP_WINDOW = 10_000
/** The stamp columns of servers without insert_deduplication_token (dedup.ts). */
export const DEDUP_TOKEN_COLUMN = 'dedup_token'
export const DEDUP_SEQ_COLUMN = 'dedup_seq'
/** ~55 years: keeps now + retention inside DateTime's range (until 2106) for the next few decades. */
export const MAX_RETENTION_DAYS = 20_000

export interface DdlOptions {
  database: string
  /** Retention per table name (days), overriding the table's default; 0 disables TTL. */
  retentionDays?: Record<string, number>
}

function columnType(t: ColumnType, f: StoreFeatures): string {
  return t === 'LowString' ? (f.lowCardinality ? 'LowCardinality(String)' : 'String') : t
}

function columnDdl(c: ColumnSpec, f: StoreFeatures): string {
  const def = c.default === undefined ? '' : ` DEFAULT ${typeof c.default === 'number' ? c.default : quoteString(c.default)}`
  const comment = c.comment ? ` COMMENT ${quoteString(c.comment)}` : ''
  return `\`${c.name}\` ${columnType(c.type, f)}${def}${comment}`
}

/** The derived time column: exact DateTime64(9) where the server has it, whole seconds otherwise. */
function timeColumnDdl(spec: TableSpec, f: StoreFeatures): string {
  const { column, from } = spec.time
  return f.dateTime64
    ? `\`${column}\` DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(toInt64(\`${from}\`), 'UTC')`
    : `\`${column}\` DateTime('UTC') MATERIALIZED toDateTime(intDiv(\`${from}\`, 1000000000), 'UTC')`
}

/** CREATE TABLE IF NOT EXISTS for one table on a server with features `f`. */
export function buildCreateTable(spec: TableSpec, f: StoreFeatures, opts: DdlOptions): string {
  const t = `\`${spec.time.column}\``
  const columns = [...spec.columns.map((c) => columnDdl(c, f)), timeColumnDdl(spec, f)]
  if (!f.insertDeduplicationToken) {
    columns.push(`\`${DEDUP_TOKEN_COLUMN}\` String COMMENT 'insert dedup token stamped by the store (servers < 22.2)'`)
    columns.push(`\`${DEDUP_SEQ_COLUMN}\` UInt32 COMMENT 'row index within its token'`)
  }
  const engine = spec.replacingVersion ? `ReplacingMergeTree(\`${spec.replacingVersion}\`)` : 'MergeTree()'
  const partition = spec.partition === 'day' ? `toDate(${t})` : `toYYYYMM(${t})`
  const orderBy = spec.orderBy.map((e) => e.replace(/\{t\}/g, t)).join(', ')
  const days = opts.retentionDays?.[spec.name] ?? spec.retentionDays
  // TTL is computed in DateTime, which ends in 2106: a longer retention wraps around and expires rows on insert.
  if (!(days >= 0 && days <= MAX_RETENTION_DAYS)) {
    throw new UsageError(`retention for ${spec.name} must be 0..${MAX_RETENTION_DAYS} days (got ${days})`)
  }
  const lines = [
    `CREATE TABLE IF NOT EXISTS ${quoteTable(`${opts.database}.${spec.name}`)}`,
    `(\n  ${columns.join(',\n  ')}\n)`,
    `ENGINE = ${engine}`,
    `PARTITION BY ${partition}`,
    `ORDER BY (${orderBy})`,
  ]
  if (f.ttl && days > 0) lines.push(`TTL toDateTime(${t}) + INTERVAL ${Math.floor(days)} DAY`)
  if (f.insertDeduplicationToken) lines.push(`SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`)
  return lines.join('\n')
}

export function buildMigrationsTable(database: string): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteTable(`${database}.schema_migrations`)}`,
    "(`id` String, `applied_at` DateTime('UTC'), `server_version` String, `variant` String)",
    'ENGINE = MergeTree()',
    'ORDER BY id',
  ].join('\n')
}

export interface Migration {
  /** Stable, ordered id; never rename one that has shipped. */
  id: string
  statements(f: StoreFeatures, opts: DdlOptions): string[]
}

const createTable = (name: string): Migration['statements'] => (f, opts) => {
  const spec = TABLES.find((t) => t.name === name)
  if (!spec) throw new Error(`no table description for ${name}`)
  return [buildCreateTable(spec, f, opts)]
}

/**
 * Append only. Each statement must be safe to run again (IF NOT EXISTS, ...): a crash between running a
 * migration and recording it re-runs it on the next start.
 */
export const MIGRATIONS: readonly Migration[] = [
  { id: '0001_spans', statements: createTable('spans') },
  { id: '0002_metric_points', statements: createTable('metric_points') },
  { id: '0003_logs', statements: createTable('logs') },
  { id: '0004_anomalies', statements: createTable('anomalies') },
  { id: '0005_incidents', statements: createTable('incidents') },
]

/** "modern" or "compat" plus what differs, recorded with each migration so an operator can tell which DDL ran. */
export function variantOf(f: StoreFeatures): string {
  const off = (Object.keys(f) as Array<keyof StoreFeatures>).filter((k) => !f[k])
  return off.length === 0 ? 'modern' : `compat(no ${off.join(', no ')})`
}

export type ApplySchemaOptions = DdlOptions

/**
 * Creates the database, the migrations table and every table not yet recorded. Concurrent callers (several
 * agents starting together) are safe: statements are idempotent and the applied set is read with DISTINCT.
 */
export async function applySchema(store: Store, opts: ApplySchemaOptions): Promise<{ applied: string[]; version: ServerInfo }> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.database)) {
    throw new UsageError(`invalid database name ${JSON.stringify(opts.database)}: letters, digits and _ only`, {
      suggestions: ['check store.clickhouse.database / store.chdb.database'],
    })
  }
  const version = await store.serverInfo()
  const f = version.features
  await store.exec(`CREATE DATABASE IF NOT EXISTS ${quoteTable(opts.database)}`)
  await store.exec(buildMigrationsTable(opts.database))
  const done = new Set(
    (await store.query<{ id: string }>(`SELECT DISTINCT id FROM ${quoteTable(`${opts.database}.schema_migrations`)}`)).map((r) => r.id),
  )
  const applied: string[] = []
  for (const m of MIGRATIONS) {
    if (done.has(m.id)) continue
    for (const sql of m.statements(f, opts)) await store.exec(sql)
    await store.insert(`${opts.database}.schema_migrations`, [
      { id: m.id, applied_at: new Date().toISOString().slice(0, 19).replace('T', ' '), server_version: version.version, variant: variantOf(f) },
    ])
    applied.push(m.id)
  }
  return { applied, version }
}
