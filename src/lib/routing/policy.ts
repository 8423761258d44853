/**
 * What a tenant's SQL may touch, as data: the readable tables (the pipeline's tables, each filtered to the tenant's
 * rows), the system tables that hold metadata only, the table functions that read nothing stored, the functions
 * that are refused anywhere, and the settings a tenant may send. Everything not listed is refused: a new
 * ClickHouse table function or setting is closed until someone decides it is safe.
 */
import { TABLES } from '../store/tables.js'
import { QueryRefusedError } from './errors.js'

export interface ReadableTable {
  name: string
  /** The derived (MATERIALIZED) time column: `SELECT *` does not return it, so the tenant view adds it by name. */
  timeColumn: string
  /** The integer-nanosecond column the time column is computed from. */
  nsColumn: string
  /** Every column the schema gives it, the time column included (tenant views list the ones a query names). */
  columns: readonly string[]
}

export interface RouterPolicy {
  /** The database holding the pipeline's tables. */
  database: string
  tables: ReadonlyMap<string, ReadableTable>
  systemTables: ReadonlySet<string>
}

export function buildPolicy(database: string, systemTables: readonly string[]): RouterPolicy {
  const tables = new Map<string, ReadableTable>()
  for (const t of TABLES) {
    tables.set(t.name, { name: t.name, timeColumn: t.time.column, nsColumn: t.time.from, columns: [...t.columns.map((c) => c.name), t.time.column] })
  }
  return { database, tables, systemTables: new Set(systemTables) }
}

/** Table functions that read no stored data. Everything else (url, file, remote, s3, merge, …) is refused. */
export const ALLOWED_TABLE_FUNCTIONS = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'values', 'generateseries', 'generate_series'])

/**
 * Functions refused wherever they appear (lower case): everything that reaches outside the database or reads a
 * table by name (dictionaries, joinGet, the functional forms of IN), and the table functions, which newer servers
 * also accept as scalar functions (`file('…')`).
 */
const DENIED_FUNCTIONS = new Set([
  'url', 'urlcluster', 'file', 'filecluster', 'remote', 'remotesecure', 'cluster', 'clusterallreplicas', 's3', 's3cluster', 's3queue',
  'gcs', 'cosn', 'oss', 'hdfs', 'hdfscluster', 'mysql', 'postgresql', 'jdbc', 'odbc', 'mongodb', 'redis', 'sqlite', 'input', 'merge',
  'executable', 'executablepool', 'azureblobstorage', 'azureblobstoragecluster', 'iceberg', 'icebergs3', 'icebergazure', 'iceberghdfs',
  'deltalake', 'hudi', 'dictionary', 'loop', 'view', 'viewifpermitted', 'viewexplain', 'mergetreeindex', 'mergetreeprojection',
  'joinget', 'joingetornull', 'modelevaluate', 'catboostevaluate', 'notin', 'globalin', 'globalnotin', 'nullin', 'notnullin',
  'globalnullin', 'globalnotnullin', 'hastokentable', 'getsubcolumn', 'filesystemcapacity', 'filesystemfree', 'filesystemavailable',
])

export function isDeniedFunction(lowerName: string): boolean {
  return DENIED_FUNCTIONS.has(lowerName) || lowerName.startsWith('dictget') || lowerName.startsWith('dicthas') || lowerName.startsWith('dictis')
}

/** Settings that only change how results look, or how a query is planned, never what it may read or how long. */
const SAFE_SETTING_PREFIXES = ['output_format_', 'format_', 'date_time_output_format', 'date_time_input_format', 'input_format_']
const SAFE_SETTINGS = new Set([
  'join_use_nulls', 'any_join_distinct_right_table_keys', 'joined_subquery_requires_alias', 'prefer_column_name_to_alias',
  'enable_optimize_predicate_expression', 'extremes', 'totals_mode', 'totals_auto_threshold', 'aggregate_functions_null_for_empty',
  'count_distinct_implementation', 'use_uncompressed_cache', 'log_comment', 'session_timezone', 'max_block_size', 'join_default_strictness',
  'union_default_mode', 'transform_null_in', 'cast_keep_nullable', 'optimize_move_to_prewhere', 'allow_experimental_analyzer',
  'enable_analyzer', 'allow_suspicious_low_cardinality_types', 'low_cardinality_allow_in_native_format', 'output_format_json_quote_64bit_integers',
])

/** Limits a tenant may lower but never raise or lift (0 means "no limit" to ClickHouse, so 0 is refused). */
export const LOWER_ONLY_SETTINGS = new Set([
  'max_execution_time', 'max_result_rows', 'max_result_bytes', 'max_rows_to_read', 'max_bytes_to_read', 'max_memory_usage',
])

/** HTTP-level parameters the router handles itself; they are consumed, never forwarded as settings. */
export const HTTP_ONLY_PARAMS = new Set([
  'query', 'database', 'default_format', 'query_id', 'user', 'password', 'quota_key', 'enable_http_compression', 'http_zlib_compression_level',
  'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'wait_end_of_query', 'buffer_size', 'cancel_http_readonly_queries_on_client_close',
  'max_query_size', 'http_response_buffer_size', 'add_http_cors_header', 'role', 'default_database',
])

export interface SettingLimits {
  /** Current per-tenant values of the lower-only settings (0: none set by the router; then any positive value is a lowering). */
  max_execution_time: number
  max_result_rows: number
  max_result_bytes: number
}

/**
 * Checks one setting a tenant sent (URL parameter or SETTINGS clause). Returns the value to forward, or undefined to
 * drop it (readonly 1/2: the router sets readonly itself). Throws QueryRefusedError naming the setting and why.
 */
export function checkSetting(name: string, value: string, limits: SettingLimits): string | undefined {
  const lower = name.toLowerCase()
  if (lower === 'readonly') {
    if (value.trim() === '1' || value.trim() === '2') return undefined
    throw new QueryRefusedError(`setting readonly=${value} is not allowed: the router only runs read-only queries`, 'READONLY', {
      setting: name,
    })
  }
  if (LOWER_ONLY_SETTINGS.has(lower)) {
    const n = Number(value)
    const cap = (limits as unknown as Record<string, number>)[lower] ?? 0
    if (!Number.isFinite(n) || n <= 0 || (cap > 0 && n > cap)) {
      throw new QueryRefusedError(
        `setting ${name}=${value} would lift the tenant's limit${cap > 0 ? ` (${cap})` : ''}; only a positive value${cap > 0 ? ` ≤ ${cap}` : ''} is accepted`,
        'SETTING_CONSTRAINT_VIOLATION',
        { setting: name, limit: cap },
      )
    }
    return value
  }
  if (SAFE_SETTINGS.has(lower) || SAFE_SETTING_PREFIXES.some((p) => lower.startsWith(p))) return value
  throw new QueryRefusedError(
    `setting ${name} is not allowed through the router (only output formatting and planning settings are); remove it from the query or URL`,
    'SETTING_CONSTRAINT_VIOLATION',
    { setting: name },
  )
}

/** Tenant ids end up in SQL literals, cache keys and metric labels: keep them to a safe alphabet. */
export const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
