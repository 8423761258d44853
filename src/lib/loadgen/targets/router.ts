/**
 * The router target: a configurable mix of the router's JSON query API and raw SQL over the ClickHouse HTTP
 * protocol (which the router's SQL door speaks, as does a bare ClickHouse server), with time ranges spread over the
 * hot (< 1 h), warm (1 h – 7 d) and cold (> 7 d) tiers the router sends to different replicas.
 */
import type { RequestSource } from '../engine.js'
import type { PreparedRequest } from '../transport/types.js'
import { Rng } from './prng.js'
import { apiQuery } from './router-api.js'

export type Tier = 'hot' | 'warm' | 'cold'

export interface RouterTargetSpec {
  kind: 'router'
  /** Share of requests that are raw SQL (the rest use the JSON API). */
  sqlFraction: number
  tiers: Record<Tier, number>
  tenant: string
  database: string
  services: string[]
  headers: Record<string, string>
}

const HOUR = 3_600_000
const DAY = 24 * HOUR

export interface TimeRange {
  tier: Tier
  fromMs: number
  toMs: number
}

/** A time range in the tier: hot ranges end now, warm ones within the last week, cold ones 7–90 days ago. */
export function rangeFor(tier: Tier, rng: Rng, nowMs: number): TimeRange {
  switch (tier) {
    case 'hot': {
      const span = rng.int(5, 55) * 60_000
      return { tier, fromMs: nowMs - span, toMs: nowMs }
    }
    case 'warm': {
      const end = nowMs - rng.int(1, 6 * 24) * HOUR
      return { tier, fromMs: end - rng.int(1, 24) * HOUR, toMs: end }
    }
    case 'cold': {
      const end = nowMs - rng.int(8, 90) * DAY
      return { tier, fromMs: end - rng.int(1, 7) * DAY, toMs: end }
    }
  }
}

const ns = (ms: number): string => `${Math.floor(ms)}000000`
const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** Dashboard- and runbook-shaped queries; every one filters by tenant and the time range (what the router prunes on). */
export function sqlQuery(rng: Rng, r: TimeRange, tenant: string, services: string[]): string {
  const where = (col: string): string => `tenant_id = ${q(tenant)} AND ${col} >= ${ns(r.fromMs)} AND ${col} < ${ns(r.toMs)}`
  const svc = q(rng.pick(services))
  switch (rng.int(0, 5)) {
    case 0:
      return `SELECT service, count() AS spans, quantile(0.99)(duration_ns) / 1e6 AS p99_ms FROM spans WHERE ${where('start_time_ns')} GROUP BY service ORDER BY spans DESC LIMIT 20`
    case 1:
      return `SELECT trace_id, count() AS spans, max(duration_ns) AS longest FROM spans WHERE ${where('start_time_ns')} AND status_code = 'ERROR' GROUP BY trace_id ORDER BY longest DESC LIMIT 10`
    case 2:
      return `SELECT intDiv(ts_ns, 60000000000) AS minute, avg(value) AS v FROM metric_points WHERE ${where('ts_ns')} AND name = 'http.server.request.duration' AND service = ${svc} GROUP BY minute ORDER BY minute`
    case 3:
      return `SELECT severity_text, count() AS n FROM logs WHERE ${where('ts_ns')} GROUP BY severity_text ORDER BY n DESC`
    case 4:
      return `SELECT id, series, score, tier, value, expected FROM anomalies WHERE ${where('ts_ns')} ORDER BY score DESC LIMIT 50`
    default:
      return `SELECT id, status, severity, title, opened_ns FROM incidents WHERE ${where('opened_ns')} ORDER BY opened_ns DESC LIMIT 20`
  }
}

export function routerSource(spec: RouterTargetSpec, seed: number, now: () => number = Date.now): RequestSource {
  const rng = new Rng(seed)
  const tiers = Object.entries(spec.tiers) as Array<[Tier, number]>
  const total = tiers.reduce((s, [, w]) => s + w, 0)
  const pickTier = (): Tier => {
    let x = rng.next() * total
    for (const [t, w] of tiers) if ((x -= w) < 0) return t
    return 'hot'
  }
  const services = spec.services.length > 0 ? spec.services : ['frontend']
  return {
    next(): PreparedRequest {
      const range = rangeFor(pickTier(), rng, now())
      if (rng.chance(spec.sqlFraction)) {
        const sql = sqlQuery(rng, range, spec.tenant, services)
        return {
          method: 'POST',
          path: `/?database=${encodeURIComponent(spec.database)}&default_format=JSONCompact`,
          headers: { 'content-type': 'text/plain; charset=utf-8', ...spec.headers },
          body: Buffer.from(sql),
          tag: `sql-${range.tier}`,
          events: 0,
        }
      }
      const api = apiQuery(rng, range, services)
      return { method: api.method, path: api.path, headers: spec.headers, tag: `api-${range.tier}`, events: 0 }
    },
  }
}
