/**
 * Shared by the router's integration tests: seed rows for several tenants, start a host running the router on
 * resolved configuration (real backends), and small HTTP helpers.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startHost, type RunningHost } from '../../src/agents/host.js'
import { RouterAgent } from '../../src/agents/router/index.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import type { Store } from '../../src/lib/store/types.js'
import { silentLogger, type Logger } from '../../src/lib/telemetry/index.js'

export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS

/** A fixed instant two days ago, on a whole hour: ranges around it are old enough to be cached (TTL 3600 s). */
export function baseTimeMs(): number {
  return Math.floor((Date.now() - 2 * DAY_MS) / HOUR_MS) * HOUR_MS
}

const nsOf = (ms: number): string => `${BigInt(ms) * 1_000_000n}`

/** `perTenant` spans, logs, metric points and anomalies per tenant, and one incident each, in [t0, t0 + 1h). */
export async function seed(store: Store, database: string, tenants: string[], t0: number, perTenant = 20): Promise<void> {
  for (const tenant of tenants) {
    const spans = []
    const logs = []
    const points = []
    const anomalies = []
    for (let i = 0; i < perTenant; i++) {
      const ms = t0 + i * 60_000
      spans.push({
        tenant_id: tenant, trace_id: `${tenant.toLowerCase()}${String(i).padStart(6, '0')}`, span_id: `s${i}`, parent_span_id: '',
        service: `svc-${i % 3}`, name: `op-${i % 4}`, kind: 'SERVER', start_time_ns: nsOf(ms), end_time_ns: nsOf(ms + 5 + i),
        duration_ns: `${(5 + i) * 1_000_000}`, status_code: i % 5 === 0 ? 'ERROR' : 'OK', status_message: `secret of ${tenant}`,
        http_status: i % 5 === 0 ? 500 : 200, attr_keys: ['k'], attr_values: [`v-${tenant}`], resource_keys: [], resource_values: [],
      })
      logs.push({ tenant_id: tenant, service: `svc-${i % 3}`, ts_ns: nsOf(ms), observed_ns: nsOf(ms), trace_id: '', span_id: '', severity_text: 'INFO', severity_number: 9, body: `log of ${tenant} #${i}`, attr_keys: [], attr_values: [], resource_keys: [], resource_values: [] })
      points.push({ tenant_id: tenant, name: 'cpu', series: `cpu{host=h${i % 2}}`, service: 'svc-0', ts_ns: nsOf(ms), value: i, kind: 'gauge', unit: '1', attr_keys: [], attr_values: [], resource_keys: [], resource_values: [], count: 0, sum: 0, bucket_bounds: [], bucket_counts: [] })
      anomalies.push({ tenant_id: tenant, id: `${tenant}-a${i}`, series: 'cpu{host=h0}', metric: 'cpu', service: 'svc-0', ts_ns: nsOf(ms), score: 0.9, tier: 'statistical', detector: 'zscore', value: i, expected: 1, details: '{}' })
    }
    await store.insert(`${database}.spans`, spans)
    await store.insert(`${database}.logs`, logs)
    await store.insert(`${database}.metric_points`, points)
    await store.insert(`${database}.anomalies`, anomalies)
    await store.insert(`${database}.incidents`, [
      { tenant_id: tenant, id: `${tenant}-inc`, status: 'open', severity: 'high', title: `incident of ${tenant}`, opened_ns: nsOf(t0), updated_ns: nsOf(t0), closed_ns: '0', services: ['svc-0'], anomaly_ids: [], root_causes: '[]' },
    ])
  }
}

export interface RunningRouter {
  host: RunningHost
  router: RouterAgent
  url: string
  stop(): Promise<void>
}

/** A host running only the router, configured by AIOPS_* variables (as an operator would). */
export async function startRouter(env: Record<string, string>, logger: Logger = silentLogger): Promise<RunningRouter> {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiops-router-'))
  const resolved = await resolveConfig({
    cwd: dir,
    env: { AIOPS_TELEMETRY_PORT: '0', AIOPS_ROUTER_PORT: '0', AIOPS_TELEMETRY_PROBE_INTERVAL_MS: '500', AIOPS_ROUTER_HEALTH_INTERVAL_MS: '300', ...env },
  })
  const router = new RouterAgent()
  const host = await startHost({ resolved, agents: [router], logger })
  return { host, router, url: router.url, stop: () => host.stop() }
}

export interface HttpAnswer {
  status: number
  body: string
  headers: Headers
}

/** POST `sql` to the router (or a server) with ClickHouse basic auth. */
export async function post(url: string, sql: string, opts: { user?: string; key?: string; params?: Record<string, string> } = {}): Promise<HttpAnswer> {
  const search = new URLSearchParams(opts.params ?? {})
  const headers: Record<string, string> = {}
  if (opts.key !== undefined) headers.authorization = `Basic ${Buffer.from(`${opts.user ?? 'default'}:${opts.key}`).toString('base64')}`
  const res = await fetch(`${url}/?${search}`, { method: 'POST', body: sql, headers })
  return { status: res.status, body: await res.text(), headers: res.headers }
}
