/**
 * The JSON query API: the common questions with parameters, no SQL from the caller. Same tenants, limits, cache
 * and replicas as the ClickHouse door (the generated SQL goes through the same executor and guard).
 *
 *   GET /api/v1/services/latency?service=&operation=&from=&to=    percentiles (ms) and error rate per service
 *   GET /api/v1/operations/slow?service=&from=&to=&limit=          top operations by p95
 *   GET /api/v1/traces/<traceId>                                   the spans of a trace
 *   GET /api/v1/metrics/series?name=&series=&service=&step=&agg=&from=&to=
 *   GET /api/v1/anomalies?service=&from=&to=&limit=
 *   GET /api/v1/incidents?status=&from=&to=&limit=
 * Times: ISO 8601, epoch s/ms/ns, or now-15m; default range: the last hour (anomalies, incidents: the last day).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import * as q from '../../lib/routing/api-queries.js'
import { QueryRefusedError } from '../../lib/routing/errors.js'
import type { RouterPolicy } from '../../lib/routing/policy.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/index.js'
import { credentialsOf, watchClose } from './clickhouse-door.js'
import type { QueryExecutor } from './executor.js'
import type { RequestTallies, RouterMetrics } from './metrics.js'
import type { TenantDirectory } from './tenants.js'

export interface ApiDeps {
  apiKeyHeader: string
  executor: QueryExecutor
  tenants: TenantDirectory
  policy: RouterPolicy
  metrics: RouterMetrics
  tallies: RequestTallies
  logger: Logger
  clock: Clock
}

type Row = Record<string, unknown>
interface Route {
  build: (db: string, params: URLSearchParams, now: number, arg: string) => q.ApiQuery
  shape: (rows: Row[]) => unknown
}

const ROUTES: Array<[RegExp, Route]> = [
  [/^\/api\/v1\/services\/latency$/, { build: (db, p, now) => q.serviceLatencyQuery(db, p, now), shape: (rows) => rows.map(latencyRow) }],
  [/^\/api\/v1\/operations\/slow$/, { build: (db, p, now) => q.slowOperationsQuery(db, p, now), shape: (rows) => rows }],
  [/^\/api\/v1\/traces\/([^/]+)$/, { build: (db, _p, _now, id) => q.traceQuery(db, id), shape: (rows) => ({ spans: rows }) }],
  [/^\/api\/v1\/metrics\/series$/, { build: (db, p, now) => q.metricSeriesQuery(db, p, now), shape: seriesOf }],
  [/^\/api\/v1\/anomalies$/, { build: (db, p, now) => q.anomaliesQuery(db, p, now), shape: (rows) => rows }],
  [/^\/api\/v1\/incidents$/, { build: (db, p, now) => q.incidentsQuery(db, p, now), shape: (rows) => rows }],
]

export const API_ENDPOINTS = [
  '/api/v1/services/latency', '/api/v1/operations/slow', '/api/v1/traces/{traceId}', '/api/v1/metrics/series', '/api/v1/anomalies', '/api/v1/incidents',
]

export async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, deps: ApiDeps): Promise<void> {
  const t0 = performance.now()
  let cache = 'none'
  let status = 500
  try {
    if (req.method !== 'GET') throw new QueryRefusedError('the JSON API answers GET requests', 'BAD_ARGUMENTS')
    const found = ROUTES.map(([re, route]) => [re.exec(url.pathname), route] as const).find(([m]) => m !== null)
    if (!found) {
      status = 404
      return json(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `no endpoint ${url.pathname}`, endpoints: API_ENDPOINTS } })
    }
    const [match, route] = found
    const tenant = deps.tenants.authenticate(credentialsOf(req, url.searchParams, deps.apiKeyHeader))
    const now = deps.clock.now()
    const built = route.build(deps.policy.database, url.searchParams, now, decodeURIComponent(match?.[1] ?? ''))
    const r = await deps.executor.run({
      tenant,
      sql: built.sql,
      format: 'JSONEachRow',
      settings: { output_format_json_quote_64bit_integers: '1' },
      params: {},
      queryId: undefined,
      watchCaller: (fn) => watchClose(res, fn),
      range: { ...built.range, readsData: true },
    })
    cache = r.cache === 'HIT-L1' ? 'hit_l1' : r.cache === 'HIT-L2' ? 'hit_l2' : 'miss'
    const chunks = [r.head]
    if (r.rest) for await (const c of r.rest) chunks.push(c)
    r.release()
    const text = Buffer.concat(chunks).toString('utf8')
    if (r.status !== 200) {
      status = 502
      return json(res, 502, { ok: false, error: { code: 'REPLICA_ERROR', message: text.trim().slice(0, 2000) } })
    }
    const rows = text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Row)
    status = 200
    json(res, 200, {
      ok: true,
      tenant: tenant.id,
      range: {
        from: built.range.fromMs === undefined ? null : new Date(built.range.fromMs).toISOString(),
        to: built.range.toMs === undefined ? null : new Date(built.range.toMs).toISOString(),
      },
      cache: r.cache,
      replica: r.replica ?? null,
      elapsedMs: Math.round((performance.now() - t0) * 100) / 100,
      data: route.shape(rows),
    }, { 'x-cache': r.cache })
  } catch (err) {
    if (err instanceof QueryRefusedError) {
      status = err.httpStatus
      json(res, status, { ok: false, error: { code: err.errorName, message: err.message, ...err.details } }, err.retryAfterS ? { 'retry-after': String(err.retryAfterS) } : {})
    } else {
      deps.logger.error('API request failed', { err, path: url.pathname })
      json(res, 500, { ok: false, error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } })
    }
  } finally {
    deps.tallies.of('api', cache, status).n++
    deps.metrics.requestSeconds.observe({ door: 'api', cache }, (performance.now() - t0) / 1000)
  }
}

function latencyRow(r: Row): Row {
  const [p50, p90, p95, p99] = (r.latency_ms as number[] | undefined) ?? []
  const { latency_ms: _drop, ...rest } = r
  return { ...rest, latency_ms: { p50, p90, p95, p99 } }
}

function seriesOf(rows: Row[]): unknown {
  const by = new Map<string, Array<[number, number]>>()
  for (const r of rows) {
    const key = String(r.series)
    let points = by.get(key)
    if (!points) by.set(key, (points = []))
    points.push([Number(r.t), Number(r.value)])
  }
  return { series: [...by].map(([series, points]) => ({ series, points })) }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers })
  res.end(text)
}
