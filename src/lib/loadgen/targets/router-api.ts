/**
 * Requests to the router's JSON query API (src/agents/router/api.ts, docs/router.md): GET endpoints with the time
 * range as ISO 8601 `from`/`to`. Kept apart from router.ts because the API's shape belongs to the router: this is the
 * one place to follow it when it changes. Weights follow what dashboards and runbooks ask most: service latency and
 * metric series on every refresh, slow operations and anomalies often, incidents and single traces now and then.
 */
import type { Rng } from './prng.js'
import type { TimeRange } from './router.js'

export interface ApiRequest {
  method: 'GET'
  path: string
  /** Endpoint name, for per-endpoint counts. */
  endpoint: string
}

const METRICS = ['http.server.request.duration', 'http.server.requests', 'system.cpu.utilization'] as const
const AGGS = ['avg', 'max', 'sum', 'last'] as const

export function apiQuery(rng: Rng, r: TimeRange, services: readonly string[]): ApiRequest {
  const from = new Date(r.fromMs).toISOString()
  const to = new Date(r.toMs).toISOString()
  const service = rng.pick(services)
  const range = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`
  const roll = rng.next()
  if (roll < 0.3) return { method: 'GET', endpoint: 'services/latency', path: `/api/v1/services/latency?service=${encodeURIComponent(service)}&${range}` }
  if (roll < 0.55) {
    const step = r.toMs - r.fromMs > 86_400_000 ? 3600 : 60
    return {
      method: 'GET',
      endpoint: 'metrics/series',
      path: `/api/v1/metrics/series?name=${encodeURIComponent(rng.pick(METRICS))}&service=${encodeURIComponent(service)}&step=${step}&agg=${rng.pick(AGGS)}&${range}`,
    }
  }
  if (roll < 0.7) return { method: 'GET', endpoint: 'operations/slow', path: `/api/v1/operations/slow?service=${encodeURIComponent(service)}&limit=10&${range}` }
  if (roll < 0.85) return { method: 'GET', endpoint: 'anomalies', path: `/api/v1/anomalies?service=${encodeURIComponent(service)}&limit=50&${range}` }
  if (roll < 0.95) return { method: 'GET', endpoint: 'incidents', path: `/api/v1/incidents?status=open&limit=20&${range}` }
  return { method: 'GET', endpoint: 'traces', path: `/api/v1/traces/${rng.hex(16)}` }
}
