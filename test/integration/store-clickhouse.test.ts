import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DependencyError } from '../../src/lib/errors.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import type { Row } from '../../src/lib/store/types.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { randomName } from '../support/names.js'
import { spanRow, storeContract } from '../support/store-contract.js'

// The Debian clickhouse-server 18.16: the oldest server the store supports, with neither query parameters nor
// insert_deduplication_token, so it exercises every fallback.
let server: ClickHouseServer
beforeAll(async () => {
  server = await startClickHouse()
})
afterAll(async () => {
  await server?.stop()
})

storeContract('clickhouse server (Debian 18.16)', async () => {
  const database = randomName('aiops_test')
  const store = new ClickHouseStore({ url: server.url, database, requestTimeoutMs: 10_000 })
  return {
    store,
    database,
    async cleanup() {
      const admin = new ClickHouseStore({ url: server.url })
      await admin.exec(`DROP DATABASE IF EXISTS ${database}`)
      await admin.close()
      await store.close()
    },
  }
})

describe('ClickHouse store: server failures and old-server dedup', () => {
  const database = randomName('aiops_fail')
  let store: ClickHouseStore
  const count = async (where: string): Promise<number> =>
    Number((await store.query<{ c: string }>(`SELECT count() AS c FROM ${database}.spans WHERE ${where}`))[0]?.c)

  beforeAll(async () => {
    store = new ClickHouseStore({ url: server.url, database, requestTimeoutMs: 5_000 })
    await applySchema(store, { database })
  })
  afterAll(async () => {
    await store?.close()
  })

  it('replays a partly written batch by writing exactly the missing rows (stamped dedup)', async () => {
    const info = await store.serverInfo()
    if (info.features.insertDeduplicationToken) return // native dedup: the server handles partial blocks itself
    const rows = [0, 1, 2].map((i) => spanRow(i, { tenant_id: 'partial' }))
    // As if the first attempt committed the part holding rows 0 and 2, then crashed before the rest.
    const committed: Row[] = [0, 2].map((i) => ({ ...rows[i], dedup_token: 'tok-partial', dedup_seq: i }))
    await store.insert(`${database}.spans`, committed)
    await store.insert(`${database}.spans`, rows, { dedupToken: 'tok-partial' })
    const got = await store.query<{ dedup_seq: number }>(
      `SELECT dedup_seq FROM ${database}.spans WHERE tenant_id = 'partial' AND dedup_token = 'tok-partial' ORDER BY dedup_seq`,
    )
    expect(got.map((r) => r.dedup_seq)).toEqual([0, 1, 2])
  })

  it('reports a killed server as down, fails inserts as retriable, and recovers with the data after restart', async () => {
    const batch = [spanRow(0, { tenant_id: 'durable' }), spanRow(1, { tenant_id: 'durable' })]
    await store.insert(`${database}.spans`, batch, { dedupToken: 'durable-1' })
    await server.kill()

    const health = await store.ping()
    expect(health.ok).toBe(false)
    expect(health.ok === false && health.error).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/)
    const err = await store.insert(`${database}.spans`, [spanRow(2, { tenant_id: 'durable' })]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DependencyError)
    expect(err).toMatchObject({ retriable: true, dependency: 'clickhouse' })
    expect((err as DependencyError).suggestions.join(' ')).toMatch(/store\.clickhouse\.url/)

    await server.restart()
    expect(await store.ping()).toEqual({ ok: true })
    expect(await count("tenant_id = 'durable'")).toBe(2)
    // The replay of the batch that was in flight is still deduplicated after the restart.
    await store.insert(`${database}.spans`, batch, { dedupToken: 'durable-1' })
    expect(await count("tenant_id = 'durable'")).toBe(2)
  })
})
