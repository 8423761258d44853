/**
 * The pipeline's tables, described once. schema.ts turns each description into DDL for a given server's feature
 * set (DateTime64(9) + LowCardinality + TTL + native insert dedup on modern ClickHouse; DateTime + String + no TTL
 * + dedup stamp columns on 18.16), and the store reads the same description for insert defaults and dedup hints.
 *
 * Conventions: every record carries tenant_id; timestamps are written as integer nanoseconds (UInt64 `*_ns`, exact
 * on every version); a derived, MATERIALIZED time column (`time.column`) is what partitions, sort keys and TTLs
 * use. Attributes are two parallel Array(String) columns (keys, values): Map is too new for 18.16.
 */

/** Column types, abstract where they differ by version. 'LowString' is LowCardinality(String) where available. */
export type ColumnType =
  | 'String' | 'LowString' | 'UInt8' | 'UInt16' | 'UInt32' | 'UInt64' | 'Float64'
  | 'Array(String)' | 'Array(Float64)' | 'Array(UInt64)'

export interface ColumnSpec {
  name: string
  type: ColumnType
  /** DEFAULT in the DDL, and filled in by the store when a row lacks the key (18.16 ignores DEFAULT for omitted fields). */
  default?: string | number
  comment?: string
}

export interface TableSpec {
  name: string
  columns: ColumnSpec[]
  /** The derived time column: DateTime64(9) (or DateTime on old servers) computed from the UInt64 ns column `from`. */
  time: { column: string; from: string }
  partition: 'day' | 'month'
  /** Sort key; `{t}` stands for the time column. */
  orderBy: string[]
  /** ReplacingMergeTree(version) for mutable records (incidents): the newest version wins at merge/FINAL. */
  replacingVersion?: string
  /** Default retention for TTL (servers that support it). */
  retentionDays: number
  /**
   * Columns whose batch values narrow the dedup check on servers without insert_deduplication_token: they lead
   * the sort key, so `col IN (batch values)` lets the primary index skip granules. See dedup.ts.
   */
  dedupPrune: string[]
}

const attrs = (prefix: string): ColumnSpec[] => [
  { name: `${prefix}_keys`, type: 'Array(String)' },
  { name: `${prefix}_values`, type: 'Array(String)' },
]

export const TABLES: readonly TableSpec[] = [
  {
    name: 'spans',
    columns: [
      { name: 'tenant_id', type: 'LowString' },
      { name: 'trace_id', type: 'String', comment: 'hex' },
      { name: 'span_id', type: 'String', comment: 'hex' },
      { name: 'parent_span_id', type: 'String', comment: 'hex; empty for a root span' },
      { name: 'service', type: 'LowString' },
      { name: 'name', type: 'LowString' },
      { name: 'kind', type: 'LowString', comment: 'SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL' },
      { name: 'start_time_ns', type: 'UInt64' },
      { name: 'end_time_ns', type: 'UInt64' },
      { name: 'duration_ns', type: 'UInt64' },
      { name: 'status_code', type: 'LowString', comment: 'UNSET, OK, ERROR' },
      { name: 'status_message', type: 'String' },
      { name: 'http_status', type: 'UInt16', comment: '0 when not an HTTP span' },
      ...attrs('attr'),
      ...attrs('resource'),
      { name: 'sample_weight', type: 'Float64', default: 1, comment: 'how many spans this one stands for (1/sample rate)' },
    ],
    time: { column: 'start_time', from: 'start_time_ns' },
    partition: 'day',
    orderBy: ['tenant_id', 'service', 'toStartOfHour({t})', 'trace_id'],
    retentionDays: 7,
    dedupPrune: ['tenant_id', 'service'],
  },
  {
    name: 'metric_points',
    columns: [
      { name: 'tenant_id', type: 'LowString' },
      { name: 'name', type: 'LowString' },
      { name: 'series', type: 'String', comment: 'canonical series key: name plus sorted attributes' },
      { name: 'service', type: 'LowString' },
      { name: 'ts_ns', type: 'UInt64' },
      { name: 'value', type: 'Float64' },
      { name: 'kind', type: 'LowString', comment: 'gauge, sum, histogram' },
      { name: 'unit', type: 'LowString' },
      ...attrs('attr'),
      ...attrs('resource'),
      { name: 'count', type: 'UInt64', comment: 'histograms: observations' },
      { name: 'sum', type: 'Float64', comment: 'histograms: sum of observations' },
      { name: 'bucket_bounds', type: 'Array(Float64)' },
      { name: 'bucket_counts', type: 'Array(UInt64)' },
      { name: 'sample_weight', type: 'Float64', default: 1 },
    ],
    time: { column: 'ts', from: 'ts_ns' },
    partition: 'day',
    orderBy: ['tenant_id', 'name', 'series', '{t}'],
    retentionDays: 30,
    dedupPrune: ['tenant_id', 'name'],
  },
  {
    name: 'logs',
    columns: [
      { name: 'tenant_id', type: 'LowString' },
      { name: 'service', type: 'LowString' },
      { name: 'ts_ns', type: 'UInt64' },
      { name: 'observed_ns', type: 'UInt64' },
      { name: 'trace_id', type: 'String' },
      { name: 'span_id', type: 'String' },
      { name: 'severity_text', type: 'LowString' },
      { name: 'severity_number', type: 'UInt8' },
      { name: 'body', type: 'String' },
      ...attrs('attr'),
      ...attrs('resource'),
      { name: 'sample_weight', type: 'Float64', default: 1 },
    ],
    time: { column: 'ts', from: 'ts_ns' },
    partition: 'day',
    orderBy: ['tenant_id', 'service', '{t}'],
    retentionDays: 7,
    dedupPrune: ['tenant_id', 'service'],
  },
  {
    name: 'anomalies',
    columns: [
      { name: 'tenant_id', type: 'LowString' },
      { name: 'id', type: 'String' },
      { name: 'series', type: 'String' },
      { name: 'metric', type: 'LowString' },
      { name: 'service', type: 'LowString' },
      { name: 'ts_ns', type: 'UInt64' },
      { name: 'score', type: 'Float64' },
      { name: 'tier', type: 'LowString', comment: 'onnx, statistical, rules' },
      { name: 'detector', type: 'LowString' },
      { name: 'value', type: 'Float64' },
      { name: 'expected', type: 'Float64' },
      { name: 'details', type: 'String', comment: 'JSON' },
    ],
    time: { column: 'ts', from: 'ts_ns' },
    partition: 'month',
    orderBy: ['tenant_id', 'toStartOfHour({t})', 'series'],
    retentionDays: 90,
    dedupPrune: ['tenant_id'],
  },
  {
    name: 'incidents',
    columns: [
      { name: 'tenant_id', type: 'LowString' },
      { name: 'id', type: 'String' },
      { name: 'status', type: 'LowString', comment: 'open, resolved' },
      { name: 'severity', type: 'LowString' },
      { name: 'title', type: 'String' },
      { name: 'opened_ns', type: 'UInt64' },
      { name: 'updated_ns', type: 'UInt64', comment: 'version: the newest row of an id wins' },
      { name: 'closed_ns', type: 'UInt64', comment: '0 while open' },
      { name: 'services', type: 'Array(String)' },
      { name: 'anomaly_ids', type: 'Array(String)' },
      { name: 'root_causes', type: 'String', comment: 'JSON: ranked candidates with evidence' },
    ],
    time: { column: 'opened', from: 'opened_ns' },
    partition: 'month',
    orderBy: ['tenant_id', 'id'],
    replacingVersion: 'updated_ns',
    retentionDays: 365,
    dedupPrune: ['tenant_id'],
  },
]

export function tableSpec(name: string): TableSpec | undefined {
  return TABLES.find((t) => t.name === name)
}

/** The value a column gets when an insert names it and a row has none, without a DEFAULT: the type's zero. */
export function columnZero(t: ColumnType): string | number | never[] {
  if (t === 'String' || t === 'LowString') return ''
  return t.startsWith('Array') ? [] : 0
}

/** Keys a row must carry on 18.16 to get the column DEFAULT; the store fills them in for every server. */
export function rowDefaults(spec: TableSpec): Record<string, string | number> | undefined {
  const d = spec.columns.filter((c) => c.default !== undefined).map((c) => [c.name, c.default as string | number] as const)
  return d.length ? Object.fromEntries(d) : undefined
}
