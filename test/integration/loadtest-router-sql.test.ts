/**
 * The router target's raw SQL over the ClickHouse HTTP protocol, against a real ClickHouse server (Debian 18.16,
 * the oldest the store supports) with the aiops schema: every generated query — hot, warm and cold ranges over
 * spans, metric points, logs, anomalies and incidents — must run, so a router load test measures queries, not errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/lib/config/index.js'
import { buildSpec } from '../../src/lib/loadgen/options.js'
import { runLoadtest } from '../../src/lib/loadgen/run.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { randomName } from '../support/names.js'

let server: ClickHouseServer
let store: ClickHouseStore
const database = randomName('aiops_lt')

beforeAll(async () => {
  server = await startClickHouse()
  store = new ClickHouseStore({ url: server.url, database, requestTimeoutMs: 10_000 })
  await applySchema(store, { database })
})
afterAll(async () => {
  await store?.exec(`DROP DATABASE IF EXISTS ${database}`).catch(() => {})
  await store?.close()
  await server?.stop()
})

describe('router target: raw SQL', () => {
  it('every generated query runs on ClickHouse 18.16 (no errors) across the hot/warm/cold mix', async () => {
    const flags: Record<string, unknown> = {
      target: server.url,
      kind: 'router',
      rate: 40,
      duration: '3s',
      'router.sqlFraction': 1,
      'router.database': database,
      'router.hot': 1,
      'router.warm': 1,
      'router.cold': 1,
      thresholds: ['error_rate<=0', 'p99<5s'],
    }
    const f = Object.fromEntries(Object.entries(flags).map(([k, v]) => [`loadtest.${k}`, { value: v, flag: `--${k}` }]))
    const { config } = await resolveConfig({ env: {}, cwd: '/nonexistent-dir-for-tests', flags: f })
    const r = await runLoadtest(buildSpec(config.loadtest, { field: '--threshold', label: 'flag' }), { workerMode: 'inline' })
    expect(r.totals.failures).toEqual({})
    expect(r.totals.statuses).toEqual({ '200': 120 })
    expect(Object.keys(r.totals.tags).sort()).toEqual(['sql-cold', 'sql-hot', 'sql-warm'])
    expect(r.ok).toBe(true)
  })
})
