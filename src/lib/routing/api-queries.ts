/**
 * The JSON API's questions as SQL over the pipeline's tables (src/lib/store/tables.ts), written so that ClickHouse
 * 18.16 and modern servers (and chDB) run them alike. Callers pass parameters, never SQL: every value is validated
 * here and written as a literal with quoteString or as a checked integer. The tenant filter is added again by the
 * guard's rewrite (these queries go through it like any other).
 *
 * Sampling: spans carry sample_weight (how many spans one kept span stands for), so counts are weighted sums and
 * percentiles are weighted t-digests.
 */
import { quoteIdentifier, quoteString } from '../store/sql.js'
import { QueryRefusedError } from './errors.js'
import { parseDateText } from './time-range.js'

export interface ApiRange {
  fromMs: number
  toMs: number
}

export interface ApiQuery {
  sql: string
  /** The range the data comes from; undefined end: not cacheable (mutable records, open ranges). */
  range: { fromMs: number | undefined; toMs: number | undefined }
}

const RELATIVE = /^now(?:-(\d+)(ms|s|m|h|d|w))?$/
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

function bad(field: string, value: string, fix: string): QueryRefusedError {
  return new QueryRefusedError(`${field}=${JSON.stringify(value.slice(0, 80))} is not accepted: ${fix}`, 'BAD_ARGUMENTS', { field })
}

/** `now`, `now-15m`, ISO 8601, or epoch seconds / milliseconds / nanoseconds (by magnitude). */
export function parseTime(field: string, value: string, nowMs: number): number {
  const v = value.trim()
  const rel = RELATIVE.exec(v)
  if (rel) return rel[1] === undefined ? nowMs : nowMs - Number(rel[1]) * (UNIT[rel[2] as string] as number)
  if (/^\d+$/.test(v)) {
    const n = Number(v)
    return v.length >= 17 ? n / 1e6 : v.length >= 12 ? n : n * 1000
  }
  const ms = parseDateText(v) ?? (/^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : NaN)
  if (!Number.isFinite(ms)) throw bad(field, value, 'use ISO 8601 (2024-05-01T10:00:00Z), epoch seconds/ms/ns, or now-1h')
  return ms
}

export function parseRange(q: URLSearchParams, nowMs: number, defaultSpanMs = 3_600_000): ApiRange {
  const toMs = q.has('to') ? parseTime('to', q.get('to') as string, nowMs) : nowMs
  const fromMs = q.has('from') ? parseTime('from', q.get('from') as string, nowMs) : toMs - defaultSpanMs
  if (!(fromMs < toMs)) throw bad('from', q.get('from') ?? '', 'from must be before to')
  return { fromMs, toMs }
}

export function parseLimit(q: URLSearchParams, def: number, max: number): number {
  const raw = q.get('limit')
  if (raw === null) return def
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw bad('limit', raw, `an integer from 1 to ${max}`)
  return Number(raw)
}

function name(q: URLSearchParams, field: string, required = false): string | undefined {
  const v = q.get(field)
  if (v === null || v === '') {
    if (required) throw new QueryRefusedError(`parameter ${field} is required`, 'BAD_ARGUMENTS', { field })
    return undefined
  }
  if (v.length > 512) throw bad(field, v, 'at most 512 characters')
  return v
}

const ns = (ms: number): string => BigInt(Math.round(ms * 1000)).toString() + '000'
const sec = (ms: number): number => Math.floor(ms / 1000)

/** Time filter on a table's DateTime column (partition pruning) and its exact nanosecond column. */
function timeFilter(timeCol: string, nsCol: string, r: ApiRange): string {
  return (
    `${timeCol} >= toDateTime(${sec(r.fromMs)}) AND ${timeCol} <= toDateTime(${sec(r.toMs) + 1}) ` +
    `AND ${nsCol} >= ${ns(r.fromMs)} AND ${nsCol} <= ${ns(r.toMs)}`
  )
}

const ERROR_SPAN = "(status_code = 'ERROR' OR http_status >= 500)"
const WEIGHT = 'toUInt64(greatest(1, round(sample_weight)))'
const MS = 'duration_ns / 1000000'

export function serviceLatencyQuery(db: string, q: URLSearchParams, nowMs: number): ApiQuery {
  const r = parseRange(q, nowMs)
  const service = name(q, 'service')
  const op = name(q, 'operation')
  const sql = `SELECT service, sum(sample_weight) AS requests, sumIf(sample_weight, ${ERROR_SPAN}) AS errors,
  if(requests > 0, errors / requests, 0) AS error_rate,
  quantilesTDigestWeighted(0.5, 0.9, 0.95, 0.99)(${MS}, ${WEIGHT}) AS latency_ms
FROM ${quoteIdentifier(db)}.spans
WHERE ${timeFilter('start_time', 'start_time_ns', r)}${service ? ` AND service = ${quoteString(service)}` : ''}${op ? ` AND name = ${quoteString(op)}` : ''}
GROUP BY service ORDER BY requests DESC LIMIT 1000`
  return { sql, range: r }
}

export function slowOperationsQuery(db: string, q: URLSearchParams, nowMs: number): ApiQuery {
  const r = parseRange(q, nowMs)
  const service = name(q, 'service')
  const limit = parseLimit(q, 10, 1000)
  const sql = `SELECT service, name AS operation, sum(sample_weight) AS count,
  quantileTDigestWeighted(0.95)(${MS}, ${WEIGHT}) AS p95_ms, max(${MS}) AS max_ms, avg(${MS}) AS avg_ms
FROM ${quoteIdentifier(db)}.spans
WHERE ${timeFilter('start_time', 'start_time_ns', r)}${service ? ` AND service = ${quoteString(service)}` : ''}
GROUP BY service, name ORDER BY p95_ms DESC LIMIT ${limit}`
  return { sql, range: r }
}

export function traceQuery(db: string, traceId: string): ApiQuery {
  if (!/^[0-9a-fA-F]{1,64}$/.test(traceId)) throw bad('traceId', traceId, 'a hex trace id')
  const sql = `SELECT trace_id, span_id, parent_span_id, service, name, kind, start_time_ns, end_time_ns, duration_ns,
  status_code, status_message, http_status, attr_keys, attr_values, sample_weight
FROM ${quoteIdentifier(db)}.spans
WHERE trace_id = ${quoteString(traceId.toLowerCase())}
ORDER BY start_time_ns LIMIT 10000`
  // Spans of a trace may still be arriving: no range, so never cached.
  return { sql, range: { fromMs: undefined, toMs: undefined } }
}

const AGGS: Record<string, string> = { avg: 'avg(value)', sum: 'sum(value)', min: 'min(value)', max: 'max(value)', count: 'count()', last: 'argMax(value, ts_ns)' }

export function metricSeriesQuery(db: string, q: URLSearchParams, nowMs: number): ApiQuery {
  const r = parseRange(q, nowMs)
  const metric = name(q, 'name', true) as string
  const series = name(q, 'series')
  const service = name(q, 'service')
  const stepRaw = q.get('step') ?? '60'
  if (!/^\d+$/.test(stepRaw) || Number(stepRaw) < 1 || Number(stepRaw) > 86_400) throw bad('step', stepRaw, 'seconds from 1 to 86400')
  const agg = q.get('agg') ?? 'avg'
  if (!AGGS[agg]) throw bad('agg', agg, `one of ${Object.keys(AGGS).join(', ')}`)
  const step = Number(stepRaw)
  const sql = `SELECT series, intDiv(ts_ns, ${step}000000000) * ${step} AS t, ${AGGS[agg]} AS value
FROM ${quoteIdentifier(db)}.metric_points
WHERE name = ${quoteString(metric)} AND ${timeFilter('ts', 'ts_ns', r)}${series ? ` AND series = ${quoteString(series)}` : ''}${service ? ` AND service = ${quoteString(service)}` : ''}
GROUP BY series, t ORDER BY series, t LIMIT 200000`
  return { sql, range: r }
}

export function anomaliesQuery(db: string, q: URLSearchParams, nowMs: number): ApiQuery {
  const r = parseRange(q, nowMs, 86_400_000)
  const service = name(q, 'service')
  const limit = parseLimit(q, 100, 10_000)
  const sql = `SELECT id, series, metric, service, ts_ns, score, tier, detector, value, expected, details
FROM ${quoteIdentifier(db)}.anomalies
WHERE ${timeFilter('ts', 'ts_ns', r)}${service ? ` AND service = ${quoteString(service)}` : ''}
ORDER BY ts_ns DESC LIMIT ${limit}`
  return { sql, range: r }
}

export function incidentsQuery(db: string, q: URLSearchParams, nowMs: number): ApiQuery {
  const r = parseRange(q, nowMs, 86_400_000)
  const status = name(q, 'status')
  const limit = parseLimit(q, 100, 10_000)
  // Incidents active in the range: opened before its end, not closed before its start. The newest version of
  // each id wins (FINAL on the ReplacingMergeTree).
  const sql = `SELECT id, status, severity, title, opened_ns, updated_ns, closed_ns, services, anomaly_ids, root_causes
FROM ${quoteIdentifier(db)}.incidents FINAL
WHERE opened_ns <= ${ns(r.toMs)} AND (closed_ns = 0 OR closed_ns >= ${ns(r.fromMs)})${status ? ` AND status = ${quoteString(status)}` : ''}
ORDER BY opened_ns DESC LIMIT ${limit}`
  // Incidents change after they open (updates, closing): never cached.
  return { sql, range: { fromMs: undefined, toMs: undefined } }
}
