/**
 * The router as `aiops up` runs it: the embedded chDB store is the one replica (rows formatted by the router), the
 * memory bus carries control messages, the memory cache is L1. Shows: ClickHouse clients work in every format;
 * late data announced by an `ingested` control message invalidates exactly the affected tenant's cached range;
 * per-tenant limits answer 429 with Retry-After; the isolation holds on chDB too.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeControl } from '../../src/lib/control.js'
import { randomName } from '../support/names.js'
import { baseTimeMs, post, seed, startRouter, type RunningRouter } from './router-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('router on the embedded store (chDB, memory bus)', () => {
  let router: RunningRouter
  let client: ClickHouseClient
  const t0 = baseTimeMs()
  const range = `ts >= toDateTime(${t0 / 1000}) AND ts < toDateTime(${t0 / 1000 + 3600})`

  beforeAll(async () => {
    const dir = path.join(tmpdir(), randomName('router_chdb'))
    const tenants = path.join(tmpdir(), `${randomName('tenants')}.yaml`)
    writeFileSync(tenants, [
      'tenants:',
      '  - { id: A, keys: [key-a] }',
      '  - { id: B, keys: [key-b] }',
      '  - { id: tiny, keys: [key-tiny], limits: { queriesPerMinute: 3 } }',
      '  - { id: narrow, keys: [key-narrow], limits: { maxConcurrent: 1 } }',
    ].join('\n'))
    router = await startRouter({ AIOPS_STORE_CHDB_PATH: dir, AIOPS_ROUTER_AUTH_TENANTS_FILE: tenants })
    await seed(router.host.backends.store, 'aiops', ['A', 'B'], t0)
    client = createClient({ url: router.url, database: 'aiops', username: 'A', password: 'key-a' })
  })

  afterAll(async () => {
    await client?.close()
    await router?.stop()
  })

  it('serves @clickhouse/client in JSONEachRow, JSON, CSV and TabSeparated from the embedded replica', async () => {
    const sql = `SELECT service, count() AS n FROM logs WHERE ${range} GROUP BY service ORDER BY service`
    const each = await (await client.query({ query: sql, format: 'JSONEachRow' })).json<{ service: string; n: string | number }>()
    expect(each.map((r) => [r.service, Number(r.n)])).toEqual([['svc-0', 7], ['svc-1', 7], ['svc-2', 6]])
    const doc = await (await client.query({ query: sql, format: 'JSON' })).json<{ meta: unknown; rows: number }>()
    expect(doc.meta).toEqual([{ name: 'service', type: 'LowCardinality(String)' }, { name: 'n', type: 'UInt64' }])
    expect(doc.rows).toBe(3)
    expect(await (await client.query({ query: sql, format: 'CSV' })).text()).toBe('"svc-0",7\n"svc-1",7\n"svc-2",6\n')
    expect(await (await client.query({ query: sql, format: 'TabSeparated' })).text()).toBe('svc-0\t7\nsvc-1\t7\nsvc-2\t6\n')
    const ready = (await (await fetch(`${router.host.telemetryUrl}/readyz`)).json()) as { ok: boolean; details: Record<string, string> }
    expect(ready.ok).toBe(true)
    expect(ready.details.router).toBe('embedded [hot+warm+cold]: ok')
  })

  it('late data: an ingested control message for the tenant and range invalidates its cached result, only that one', async () => {
    const sql = `SELECT count() FROM logs WHERE ${range}`
    const ask = (key: string) => post(router.url, sql, { key })
    expect((await ask('key-a')).headers.get('x-cache')).toBe('MISS')
    expect((await ask('key-a')).headers.get('x-cache')).toBe('HIT-L1')
    await ask('key-b')
    expect((await ask('key-b')).headers.get('x-cache')).toBe('HIT-L1')

    // A late row for A, inside the cached range, then the consumer's notice of it.
    const lateNs = `${BigInt(t0 + 30 * 60_000) * 1_000_000n}`
    await router.host.backends.store.insert('aiops.logs', [{ tenant_id: 'A', service: 'svc-9', ts_ns: lateNs, observed_ns: lateNs, body: 'late', severity_text: 'INFO' }])
    const notice = { type: 'ingested' as const, tenant: 'A', table: 'logs', fromNs: lateNs, toNs: lateNs, rows: 1, tsMs: Date.now() }
    await router.host.backends.bus.produce('aiops.control', [{ key: 'ingested/A', value: encodeControl(notice) }])
    let r = await ask('key-a')
    for (let i = 0; i < 50 && r.headers.get('x-cache') !== 'MISS'; i++) {
      await sleep(100)
      r = await ask('key-a')
    }
    expect(r.headers.get('x-cache')).toBe('MISS')
    expect(r.body).toBe('21\n')
    expect((await ask('key-b')).headers.get('x-cache')).toBe('HIT-L1') // B's entry was not touched

    // Fresh data (the last seconds) cannot overlap any cached range: such notices delete nothing.
    const nowNs = `${BigInt(Date.now()) * 1_000_000n}`
    await router.host.backends.bus.produce('aiops.control', [{ key: 'ingested/A', value: encodeControl({ ...notice, fromNs: nowNs, toNs: nowNs }) }])
    await sleep(300)
    expect((await ask('key-a')).headers.get('x-cache')).toBe('HIT-L1')
  })

  it('per-tenant limits: over queries per minute → 429 with Retry-After; over concurrent queries → 429', async () => {
    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let i = 0; i < 5; i++) {
      const r = await post(router.url, 'SELECT 1', { user: 'tiny', key: 'key-tiny' })
      statuses.push(r.status)
      if (r.status === 429) retryAfter = r.headers.get('retry-after')
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    // One slot: of two overlapping slow queries, the second is refused at once (not queued).
    const slow = await Promise.all([0, 50].map(async (delay) => {
      await sleep(delay)
      return post(router.url, 'SELECT sleep(0.5)', { key: 'key-narrow' })
    }))
    const refused = slow.filter((r) => r.status === 429)
    expect(slow.map((r) => r.status)).toEqual([200, 429])
    expect(refused[0]!.body).toMatch(/TOO_MANY_SIMULTANEOUS_QUERIES/)
    expect(refused[0]!.headers.get('retry-after')).toBe('1')
  })

  it('isolation holds on chDB: qualified tables, joins, table functions, system tables', async () => {
    const attempts = [
      'SELECT tenant_id, body FROM aiops.logs',
      "SELECT tenant_id, body FROM logs WHERE tenant_id = 'B' OR 1",
      'SELECT a.tenant_id, b.tenant_id FROM logs AS a INNER JOIN aiops.logs AS b ON a.ts_ns = b.ts_ns',
      "SELECT * FROM file('/etc/passwd', 'TSV', 'l String')",
      'SELECT query FROM system.processes',
      "WITH logs AS (SELECT * FROM aiops.logs) SELECT tenant_id FROM logs",
    ]
    let leaked = 0
    for (const sql of attempts) {
      const r = await post(router.url, sql, { key: 'key-a' })
      if (r.status === 200) leaked += r.body.split('\n').filter((l) => /\bB\b|of B/.test(l)).length
    }
    console.log(`chDB attack subset: ${attempts.length} attempts, leaked rows: ${leaked}`)
    expect(leaked).toBe(0)
  })
})
