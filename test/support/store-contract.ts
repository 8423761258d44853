import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AiopsError, UsageError } from '../../src/lib/errors.js'
import { applySchema, MIGRATIONS } from '../../src/lib/store/schema.js'
import type { Row, Store } from '../../src/lib/store/types.js'
import { featuresFor } from '../../src/lib/store/version.js'

export interface StoreUnderTest {
  store: Store
  /** A fresh database (random name) the suite may create tables in. */
  database: string
  cleanup(): Promise<void>
}

const NS = '1700000000123456789' // 2023-11-14 22:13:20.123456789 UTC: beyond 2^53, so a float would round it
const DAY_NS = 86_400_000_000_000n
// The fixed 2023 timestamps above are past every default retention, and a server with TTL drops expired rows as
// it writes them: the contract keeps TTL in the DDL but with a retention of ~27 years (TTL is computed in DateTime,
// which ends in 2106: a century would wrap into the past and expire everything).
const KEEP = Object.fromEntries(MIGRATIONS.map((m) => [m.id.replace(/^\d+_/, ''), 10_000]))

export function spanRow(i: number, over: Row = {}): Row {
  return {
    tenant_id: 't1',
    trace_id: '0af7651916cd43dd8448eb211c80319c',
    span_id: `b7ad6b71692033${String(i).padStart(2, '0')}`,
    parent_span_id: i === 0 ? '' : 'b7ad6b7169203300',
    service: 'checkout',
    name: 'GET /cart',
    kind: 'SERVER',
    start_time_ns: (BigInt(NS) + BigInt(i)).toString(),
    end_time_ns: (BigInt(NS) + 1_000_000n + BigInt(i)).toString(),
    duration_ns: '1000000',
    status_code: 'OK',
    status_message: '',
    http_status: 200,
    attr_keys: ['http.method', 'note'],
    attr_values: ['GET', `row ${i}`],
    resource_keys: ['service.name'],
    resource_values: ['checkout'],
    ...over,
  }
}

/**
 * What every Store backend must do (chDB embedded, ClickHouse 18.16 server, newer servers), so agents behave the
 * same whichever backend configuration picks. `make` is called once; the tests share its database and run in
 * order (the last one closes the store).
 */
export function storeContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let s: StoreUnderTest
    let store: Store
    let db: string
    const count = async (table: string, where = '1'): Promise<number> =>
      Number((await store.query<{ c: string }>(`SELECT count() AS c FROM ${db}.${table} WHERE ${where}`))[0]?.c)

    beforeAll(async () => {
      s = await make()
      store = s.store
      db = s.database
    })
    afterAll(async () => {
      await s?.cleanup()
    })

    it('pings and reports the server version and its features', async () => {
      expect(await store.ping()).toEqual({ ok: true })
      const info = await store.serverInfo()
      expect(info.version).toMatch(/^\d+\.\d+/)
      expect(info.features).toEqual(featuresFor(info.major, info.minor))
    })

    it('applies the schema once; a second run applies nothing', async () => {
      const first = await applySchema(store, { database: db, retentionDays: KEEP })
      expect(first.applied).toEqual(MIGRATIONS.map((m) => m.id))
      expect(first.version.version).toBe((await store.serverInfo()).version)
      const second = await applySchema(store, { database: db, retentionDays: KEEP })
      expect(second.applied).toEqual([])
      const tables = await store.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`)
      expect(tables.map((t) => t.name)).toEqual(['anomalies', 'incidents', 'logs', 'metric_points', 'schema_migrations', 'spans'])
    })

    it('round-trips spans: exact UInt64 nanoseconds, unicode, arrays, column defaults', async () => {
      const rows = [
        spanRow(0, { service: 'caisse-ü日本🚀', attr_values: ['GET', "it's a \\ \"quote\"\nnew line ✓"] }),
        spanRow(1, { start_time_ns: BigInt(NS) + 1n }), // bigint in, string out
        spanRow(2, { sample_weight: 0.25 }),
      ]
      await store.insert(`${db}.spans`, rows)
      const got = await store.query<Row>(
        `SELECT span_id, service, start_time_ns, attr_values, sample_weight, toString(start_time) AS t FROM ${db}.spans ORDER BY span_id`,
      )
      expect(got.map((r) => r.start_time_ns)).toEqual([NS, '1700000000123456790', '1700000000123456791'])
      expect(got[0]?.service).toBe('caisse-ü日本🚀')
      expect(got[0]?.attr_values).toEqual(['GET', "it's a \\ \"quote\"\nnew line ✓"])
      expect(got.map((r) => r.sample_weight)).toEqual([1, 1, 0.25]) // omitted → the column DEFAULT, on 18.16 too
      expect(String(got[0]?.t)).toMatch(/^2023-11-14 22:13:20/)
    })

    it('round-trips metric points with float values and UInt64 arrays', async () => {
      const point = (series: string, value: number): Row => ({
        tenant_id: 't1', name: 'http.server.duration', series, service: 'checkout', ts_ns: NS, value, kind: 'histogram',
        unit: 'ms', attr_keys: ['route'], attr_values: ['/cart'], resource_keys: [], resource_values: [],
        count: 3, sum: 0.1 + 0.2, bucket_bounds: [0.5, 1.5], bucket_counts: ['18446744073709551615', 1n, 2],
      })
      await store.insert(`${db}.metric_points`, [point('a', 0.1 + 0.2), point('b', -1e-300)])
      const got = await store.query<Row>(
        `SELECT series, ts_ns, value, sum, bucket_bounds, bucket_counts FROM ${db}.metric_points ORDER BY series`,
      )
      expect(got).toEqual([
        { series: 'a', ts_ns: NS, value: 0.1 + 0.2, sum: 0.1 + 0.2, bucket_bounds: [0.5, 1.5], bucket_counts: ['18446744073709551615', '1', '2'] },
        { series: 'b', ts_ns: NS, value: -1e-300, sum: 0.1 + 0.2, bucket_bounds: [0.5, 1.5], bucket_counts: ['18446744073709551615', '1', '2'] },
      ])
    })

    it('stores NaN and ±Infinity, fills missing columns, and refuses a row with a key that is no column', async () => {
      const point = (series: string, value: number, over: Row = {}): Row => ({
        tenant_id: 'odd', name: 'm', series, service: 's', ts_ns: NS, value, kind: 'gauge', ...over,
      })
      await store.insert(`${db}.metric_points`, [point('nan', Number.NaN), point('inf', Number.POSITIVE_INFINITY), point('ninf', Number.NEGATIVE_INFINITY)])
      const got = await store.query<Row>(
        `SELECT series, toString(value) AS v, unit, attr_keys, count, sample_weight FROM ${db}.metric_points WHERE tenant_id = 'odd' ORDER BY series`,
      )
      expect(got).toEqual([
        { series: 'inf', v: 'inf', unit: '', attr_keys: [], count: '0', sample_weight: 1 },
        { series: 'nan', v: 'nan', unit: '', attr_keys: [], count: '0', sample_weight: 1 },
        { series: 'ninf', v: '-inf', unit: '', attr_keys: [], count: '0', sample_weight: 1 },
      ])
      // Values of another JSON type than the column's (a number in a String column) take the JSONEachRow path: the
      // server reads or refuses them as it always did. A misspelt key fails the batch instead of storing an empty column.
      await expect(store.insert(`${db}.metric_points`, [point('typo', 1, { valeu: 2 })])).rejects.toBeInstanceOf(AiopsError)
      expect(await count('metric_points', "series = 'typo'")).toBe(0)
    })

    it('binds {name:Type} query parameters, escaping included', async () => {
      const tricky = "o'neil \\ 🚀 {x:String} --"
      const [row] = await store.query<Row>('SELECT {s:String} AS s, {n:UInt64} AS n, {xs:Array(String)} AS xs, {z:Nullable(String)} AS z', {
        params: { s: tricky, n: 1700000000123456789n, xs: ['a', "b'c"], z: null },
      })
      expect(row).toEqual({ s: tricky, n: NS, xs: ['a', "b'c"], z: null })
      const spans = await store.query<{ span_id: string }>(
        `SELECT span_id FROM ${db}.spans WHERE tenant_id = {tenant:String} AND start_time_ns >= {from:UInt64}
           AND has({services:Array(String)}, service) ORDER BY span_id`,
        { params: { tenant: 't1', from: '1700000000123456790', services: ['checkout'] } },
      )
      expect(spans.map((r) => r.span_id)).toEqual(['b7ad6b7169203301', 'b7ad6b7169203302'])
    })

    it('stores a batch once when the same dedup token is inserted twice, across partitions', async () => {
      // Two days → two partitions → two parts per INSERT: the case a "token seen → skip" check gets wrong.
      const rows = [0, 1, 2].map((i) => spanRow(10 + i, { tenant_id: 'dedup', start_time_ns: (BigInt(NS) + BigInt(i % 2) * DAY_NS).toString() }))
      await store.insert(`${db}.spans`, rows, { dedupToken: 'aiops.traces/0/100-102' })
      await store.insert(`${db}.spans`, rows, { dedupToken: 'aiops.traces/0/100-102' })
      expect(await count('spans', "tenant_id = 'dedup'")).toBe(3)
      await store.insert(`${db}.spans`, rows, { dedupToken: 'aiops.traces/0/103-105' })
      expect(await count('spans', "tenant_id = 'dedup'")).toBe(6)
    })

    it('does not deduplicate without a token (identical batches are both kept)', async () => {
      const rows = [spanRow(20, { tenant_id: 'notoken' })]
      await store.insert(`${db}.spans`, rows)
      await store.insert(`${db}.spans`, rows)
      expect(await count('spans', "tenant_id = 'notoken'")).toBe(2)
    })

    it('refuses a dedup token for a table that cannot deduplicate, instead of silently duplicating', async () => {
      await store.exec(`CREATE TABLE IF NOT EXISTS ${db}.plain (a UInt64) ENGINE = MergeTree() ORDER BY a`)
      await store.insert(`${db}.plain`, [{ a: 1 }])
      await expect(store.insert(`${db}.plain`, [{ a: 1 }], { dedupToken: 'x' })).rejects.toBeInstanceOf(UsageError)
    })

    it('fails a bad statement with a non-retriable error that names the problem', async () => {
      const syntax = await store.query('SELEC 1').catch((e: unknown) => e)
      expect(syntax).toBeInstanceOf(AiopsError)
      expect(syntax).toMatchObject({ retriable: false })
      expect((syntax as Error).message).toMatch(/syntax/i)
      const missing = await store.query(`SELECT * FROM ${db}.no_such_table`).catch((e: unknown) => e)
      expect(missing).toMatchObject({ retriable: false })
      expect((missing as Error).message).toMatch(/no_such_table/)
      await expect(store.insert('bad name; DROP', [{ a: 1 }])).rejects.toBeInstanceOf(UsageError)
    })

    it('closes once; a second close is a no-op and later calls fail without retry', async () => {
      await store.close()
      await store.close()
      expect((await store.ping()).ok).toBe(false)
      await expect(store.query('SELECT 1')).rejects.toMatchObject({ retriable: false })
    })
  })
}
