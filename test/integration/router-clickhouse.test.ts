/**
 * Real ClickHouse clients against the router, compared with the same client against ClickHouse 18.16 directly:
 * @clickhouse/client in JSONEachRow, JSON, CSV and TabSeparated; curl-style GET and POST; the ClickHouse ways of
 * sending credentials; errors as ClickHouse writes them; X-Cache on a repeated query; the JSON API.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/index.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { randomName } from '../support/names.js'
import { HOUR_MS, baseTimeMs, post, seed, startRouter, type RunningRouter } from './router-helpers.js'

describe('router: ClickHouse HTTP protocol against ClickHouse 18.16', () => {
  let ch: ClickHouseServer
  let store: ClickHouseStore
  let router: RunningRouter
  let direct: ClickHouseClient
  let viaRouter: ClickHouseClient
  const db = randomName('router_ch')
  const t0 = baseTimeMs()
  const fromS = Math.floor(t0 / 1000)
  const toS = fromS + 3600

  beforeAll(async () => {
    ch = await startClickHouse()
    store = new ClickHouseStore({ url: ch.url, database: db })
    await applySchema(store, { database: db })
    await seed(store, db, ['A', 'B'], t0)
    router = await startRouter({
      AIOPS_STORE_BACKEND: 'clickhouse',
      AIOPS_STORE_CLICKHOUSE_URL: ch.url,
      AIOPS_STORE_CLICKHOUSE_DATABASE: db,
      AIOPS_ROUTER_REPLICAS: `hot=${ch.url}`,
      AIOPS_ROUTER_AUTH_KEYS: 'key-a=A,key-b=B',
    })
    direct = createClient({ url: ch.url, database: db })
    viaRouter = createClient({ url: router.url, database: db, username: 'A', password: 'key-a' })
  })

  afterAll(async () => {
    await direct?.close()
    await viaRouter?.close()
    await router?.stop()
    await store?.close()
    await ch?.stop()
  })

  const rangeSql = `start_time >= toDateTime(${fromS}) AND start_time < toDateTime(${toS})`
  const queries = [
    `SELECT service, count() AS n, sum(duration_ns) AS total FROM spans WHERE tenant_id = 'A' AND ${rangeSql} GROUP BY service ORDER BY service`,
    `SELECT trace_id, name, start_time, attr_values, http_status FROM spans WHERE tenant_id = 'A' AND ${rangeSql} ORDER BY trace_id LIMIT 7`,
    `SELECT * FROM logs WHERE tenant_id = 'A' ORDER BY ts_ns LIMIT 3`,
    `SELECT name, avg(value) AS v FROM metric_points WHERE tenant_id = 'A' GROUP BY name`,
  ]

  for (const format of ['JSONEachRow', 'JSON', 'CSV', 'TabSeparated'] as const) {
    it(`@clickhouse/client gets the same ${format} results through the router`, async () => {
      for (const query of queries) {
        const a = await direct.query({ query, format })
        const b = await viaRouter.query({ query, format })
        if (format === 'JSON') {
          const ja = (await a.json()) as unknown as Record<string, unknown>
          const jb = (await b.json()) as unknown as Record<string, unknown>
          // statistics (elapsed, rows read) differ run to run; everything else must match.
          expect({ meta: jb.meta, data: jb.data, rows: jb.rows }).toEqual({ meta: ja.meta, data: ja.data, rows: ja.rows })
        } else if (format === 'JSONEachRow') {
          expect(await b.json()).toEqual(await a.json())
        } else {
          expect(await b.text()).toBe(await a.text())
        }
      }
    })
  }

  it('answers the tenant filter itself: the same SQL without tenant_id returns only the caller\'s rows', async () => {
    const sql = `SELECT tenant_id, count() AS n FROM spans GROUP BY tenant_id ORDER BY tenant_id`
    const all = await (await direct.query({ query: sql, format: 'JSONEachRow' })).json<{ tenant_id: string; n: string }>()
    expect(all.map((r) => r.tenant_id)).toEqual(['A', 'B'])
    const mine = await (await viaRouter.query({ query: sql, format: 'JSONEachRow' })).json<{ tenant_id: string; n: string }>()
    expect(mine).toEqual([all[0]])
  })

  it('GET /ping answers like ClickHouse', async () => {
    for (const base of [ch.url, router.url]) {
      const res = await fetch(`${base}/ping`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('Ok.\n')
    }
  })

  it('curl styles: query string (GET), POST body, query parameter + body, FORMAT clause and default_format', async () => {
    const q = `SELECT count() FROM spans WHERE ${rangeSql}`
    const auth = { 'X-ClickHouse-User': 'A', 'X-ClickHouse-Key': 'key-a' }
    const get = await fetch(`${router.url}/?query=${encodeURIComponent(q)}`, { headers: auth })
    expect([get.status, await get.text()]).toEqual([200, '20\n'])
    const body = await fetch(`${router.url}/`, { method: 'POST', body: q, headers: auth })
    expect([body.status, await body.text()]).toEqual([200, '20\n'])
    const split = await fetch(`${router.url}/?query=${encodeURIComponent('SELECT count() FROM spans')}`, { method: 'POST', body: `WHERE ${rangeSql}`, headers: auth })
    expect([split.status, await split.text()]).toEqual([200, '20\n'])
    const fmt = await fetch(`${router.url}/?user=A&password=key-a&query=${encodeURIComponent(`${q} FORMAT JSONEachRow`)}`)
    expect(await fmt.text()).toBe('{"count()":"20"}\n')
    const def = await fetch(`${router.url}/?default_format=CSVWithNames&query=${encodeURIComponent(q)}`, { headers: { authorization: `Basic ${Buffer.from('A:key-a').toString('base64')}` } })
    expect(await def.text()).toBe('"count()"\n20\n')
    expect(def.headers.get('x-clickhouse-format')).toBe('CSVWithNames')
  })

  it('compression both ways: gzip request body, and a gzip response when enable_http_compression=1', async () => {
    const { gzipSync } = await import('node:zlib')
    const res = await fetch(`${router.url}/?enable_http_compression=1`, {
      method: 'POST',
      body: gzipSync(`SELECT count() FROM spans WHERE ${rangeSql}`),
      headers: { 'content-encoding': 'gzip', 'accept-encoding': 'gzip', 'x-clickhouse-user': 'A', 'x-clickhouse-key': 'key-a' },
    })
    expect(res.headers.get('content-encoding')).toBe('gzip')
    expect(await res.text()).toBe('20\n') // fetch decompresses
    // The same through @clickhouse/client with response compression on.
    const gz = createClient({ url: router.url, database: db, username: 'A', password: 'key-a', compression: { response: true } })
    try {
      expect(await (await gz.query({ query: `SELECT count() AS n FROM spans WHERE ${rangeSql}`, format: 'JSONEachRow' })).json()).toEqual([{ n: '20' }])
    } finally {
      await gz.close()
    }
  })

  it('a repeated query over an old range is served from L1: X-Cache MISS, then HIT-L1', async () => {
    const q = `SELECT service, count() FROM spans WHERE ${rangeSql} GROUP BY service ORDER BY service`
    const first = await post(router.url, q, { user: 'A', key: 'key-a' })
    const second = await post(router.url, q, { user: 'A', key: 'key-a' })
    expect(first.headers.get('x-cache')).toBe('MISS')
    expect(second.headers.get('x-cache')).toBe('HIT-L1')
    expect(second.body).toBe(first.body)
    // A range reaching "now" is never cached.
    const live = `SELECT count() FROM spans WHERE start_time > now() - 60`
    await post(router.url, live, { user: 'A', key: 'key-a' })
    const again = await post(router.url, live, { user: 'A', key: 'key-a' })
    expect(again.headers.get('x-cache')).toBe('MISS')
    expect(again.headers.get('x-aiops-uncacheable')).toMatch(/range/)
  })

  it('errors come back as ClickHouse writes them, with the right status', async () => {
    const syntax = await post(router.url, 'SELEC 1', { user: 'A', key: 'key-a' })
    expect(syntax.status).toBe(400)
    expect(syntax.headers.get('x-clickhouse-exception-code')).toBe('62')
    const server = await post(router.url, 'SELECT no_such_column FROM spans', { user: 'A', key: 'key-a' })
    expect(server.status).toBe(404)
    expect(server.body).toMatch(/Code: 47/)
    const auth = await post(router.url, 'SELECT 1', { user: 'A', key: 'wrong' })
    expect(auth.status).toBe(401)
    expect(auth.body).toMatch(/AUTHENTICATION_FAILED/)
    // @clickhouse/client raises its typed error with the ClickHouse error name.
    await expect(viaRouter.query({ query: 'SELECT * FROM system.processes' })).rejects.toMatchObject({ type: 'ACCESS_DENIED', code: '497' })
  })

  it('JSON API: latency percentiles and error rate, slow operations, a trace, metric series, anomalies, incidents', async () => {
    const range = `from=${t0}&to=${t0 + HOUR_MS}`
    const get = async (path: string): Promise<Record<string, unknown>> => {
      const res = await fetch(`${router.url}${path}`, { headers: { 'x-api-key': 'key-a' } })
      expect(res.status, path).toBe(200)
      return (await res.json()) as Record<string, unknown>
    }
    const lat = (await get(`/api/v1/services/latency?${range}&service=svc-0`)) as { data: Array<Record<string, unknown>>; tenant: string }
    expect(lat.tenant).toBe('A')
    expect(lat.data).toHaveLength(1)
    expect(lat.data[0]).toMatchObject({ service: 'svc-0', requests: 7 })
    expect((lat.data[0]!.latency_ms as { p50: number }).p50).toBeGreaterThan(0)
    expect(lat.data[0]!.error_rate).toBeCloseTo(2 / 7, 5) // svc-0 is i = 0, 3, …, 18; errors where i % 5 = 0: 0 and 15
    const slow = (await get(`/api/v1/operations/slow?${range}&limit=2`)) as { data: Array<{ operation: string }> }
    expect(slow.data).toHaveLength(2)
    const trace = (await get('/api/v1/traces/a000003')) as { data: { spans: Array<{ span_id: string }> } }
    expect(trace.data.spans.map((s) => s.span_id)).toEqual(['s3'])
    const other = (await get('/api/v1/traces/b000003')) as { data: { spans: unknown[] } }
    expect(other.data.spans).toEqual([]) // B's trace is invisible to A
    const series = (await get(`/api/v1/metrics/series?name=cpu&step=600&${range}`)) as { data: { series: Array<{ series: string; points: unknown[] }> } }
    expect(series.data.series.map((s) => s.series).sort()).toEqual(['cpu{host=h0}', 'cpu{host=h1}'])
    const anomalies = (await get(`/api/v1/anomalies?${range}&limit=5`)) as { data: Array<{ id: string }> }
    expect(anomalies.data).toHaveLength(5)
    expect(anomalies.data.every((a) => a.id.startsWith('A-'))).toBe(true)
    const incidents = (await get(`/api/v1/incidents?${range}`)) as { data: Array<{ id: string }> }
    expect(incidents.data.map((i) => i.id)).toEqual(['A-inc'])
    const bad = await fetch(`${router.url}/api/v1/metrics/series?step=0`, { headers: { 'x-api-key': 'key-a' } })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/name is required|step/)
  })
})
