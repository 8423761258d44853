/**
 * Two ClickHouse 18.16 servers as hot replicas on different ports. Under a steady load, one is killed (SIGKILL):
 * no read fails — the ones in flight on it are retried on the other — and /readyz stays ready while listing it down.
 * It comes back: health checks return it to rotation and it serves queries again. Also: a query past the tenant's
 * execution-time limit is killed and the caller told why; queries go to the hot or cold tier by the age of their data.
 */
import type { Counter } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/index.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { randomName } from '../support/names.js'
import { baseTimeMs, post, seed, startRouter, type RunningRouter } from './router-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('router: replica failover (two ClickHouse 18.16 servers)', () => {
  let ch1: ClickHouseServer
  let ch2: ClickHouseServer
  let router: RunningRouter
  let strict: RunningRouter
  let tiered: RunningRouter
  const db = randomName('router_fo')

  beforeAll(async () => {
    ;[ch1, ch2] = await Promise.all([startClickHouse(), startClickHouse()])
    for (const ch of [ch1, ch2]) {
      const store = new ClickHouseStore({ url: ch.url, database: db })
      await applySchema(store, { database: db })
      await seed(store, db, ['A'], baseTimeMs())
      await store.close()
    }
    const env = {
      AIOPS_STORE_BACKEND: 'clickhouse',
      // The host's own store (schema, /readyz "clickhouse") is the replica that stays up: this test is about the
      // router's replicas, not the host's store check.
      AIOPS_STORE_CLICKHOUSE_URL: ch2.url,
      AIOPS_STORE_CLICKHOUSE_DATABASE: db,
      AIOPS_ROUTER_REPLICAS: `hot=${ch1.url},hot=${ch2.url}`,
      AIOPS_ROUTER_CACHE_ENABLED: 'false', // every read goes to a replica
      AIOPS_ROUTER_LIMITS_MAX_CONCURRENT: '64',
      AIOPS_ROUTER_LIMITS_QUERIES_PER_MINUTE: '1000000',
    }
    router = await startRouter(env)
    strict = await startRouter({ ...env, AIOPS_ROUTER_LIMITS_MAX_EXECUTION_S: '1', AIOPS_ROUTER_LIMITS_KILL_GRACE_MS: '300' })
    tiered = await startRouter({ ...env, AIOPS_ROUTER_REPLICAS: `hot=${ch1.url},cold=${ch2.url}` })
  })

  afterAll(async () => {
    await router?.stop()
    await strict?.stop()
    await tiered?.stop()
    await Promise.all([ch1?.stop(), ch2?.stop()])
  })

  const okCount = (name: string): number => {
    const m = router.host.registry.getSingleMetric('aiops_router_replica_requests_total') as Counter | undefined
    const values = (m as unknown as { hashMap: Record<string, { labels: Record<string, string>; value: number }> }).hashMap
    return Object.values(values).filter((v) => v.labels.replica === name && v.labels.outcome === 'ok').reduce((n, v) => n + v.value, 0)
  }
  const retries = async (): Promise<number> => (await (router.host.registry.getSingleMetric('aiops_router_retries_total') as Counter).get()).values[0]?.value ?? 0

  it('a replica killed mid-load costs no failed read; it is used again once it is back', async () => {
    const name1 = `hot/127.0.0.1:${ch1.httpPort}`
    // A query that keeps each worker busy on a replica most of the time, so some are in flight at the kill.
    const sql = 'SELECT sum(number) FROM numbers(20000000)'
    let stop = false
    let ok = 0
    const failures: string[] = []
    const worker = async (): Promise<void> => {
      while (!stop) {
        const r = await post(router.url, sql)
        if (r.status === 200) ok++
        else failures.push(`${r.status} ${r.body.slice(0, 200)}`)
      }
    }
    const workers = Array.from({ length: 6 }, worker)
    let before1 = 0
    let backAt = 0
    try {
      await sleep(1500)
      before1 = okCount(name1)
      expect(before1).toBeGreaterThan(0) // both replicas were serving
      await ch1.kill()
      await sleep(1500)
      const ready = (await (await fetch(`${router.host.telemetryUrl}/readyz`)).json()) as { ok: boolean; details?: Record<string, string> }
      expect(ready.ok).toBe(true)
      expect(ready.details?.router).toMatch(new RegExp(`${name1.replace(/[/.]/g, '\\$&')} \\[hot\\]: (down|breaker open)`))
      await ch1.restart()
      backAt = okCount(name1)
      const deadline = Date.now() + 20_000
      while (okCount(name1) <= backAt && Date.now() < deadline) await sleep(200)
      await sleep(500)
    } finally {
      stop = true
      await Promise.all(workers)
    }
    const retried = await retries()
    if (failures.length) console.log(failures.join('\n'))
    console.log(`failover: ${ok} reads ok, ${failures.length} failed, ${retried} retried on the other replica; ` +
      `replica 1 served ${before1} before the kill and ${okCount(name1) - backAt} after its restart`)
    expect(failures).toEqual([])
    expect(retried).toBeGreaterThan(0)
    expect(okCount(name1)).toBeGreaterThan(backAt)
  })

  it('routes by the age of the data: the last hour to hot, the last week to any tier, older or unbounded to cold', async () => {
    const replicaOf = async (where: string) => (await post(tiered.url, `SELECT count() FROM logs WHERE ${where}`)).headers.get('x-aiops-replica')
    const hot = `hot/127.0.0.1:${ch1.httpPort}`
    const cold = `cold/127.0.0.1:${ch2.httpPort}`
    expect(await replicaOf('ts > now() - INTERVAL 10 MINUTE')).toBe(hot)
    expect(await replicaOf('ts > now() - INTERVAL 30 DAY AND ts < now() - INTERVAL 29 DAY')).toBe(cold)
    expect(await replicaOf('1')).toBe(cold) // no lower bound: a scan of all history
    const week = new Set<string | null>()
    for (let i = 0; i < 6; i++) week.add(await replicaOf('ts > now() - INTERVAL 3 DAY')) // any tier: both serve
    expect(week).toEqual(new Set([hot, cold]))
  })

  it('a query running past the tenant limit is killed, and the caller is told why', async () => {
    // sleep(3) is one block: ClickHouse checks max_execution_time only between blocks, so the router's own
    // deadline (1 s + 300 ms grace) ends it, with KILL QUERY on the replica.
    const t0 = Date.now()
    const r = await post(strict.url, 'SELECT sleep(3)')
    expect(r.status).toBe(504)
    expect(r.body).toMatch(/ran longer than tenant default's limit of 1s \(router\.limits\.maxExecutionS\) and was killed on hot\//)
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('159')
    expect(Date.now() - t0).toBeLessThan(2900) // answered before the query itself would have ended
    // A query ClickHouse can stop itself is stopped by max_execution_time, with ClickHouse's own explanation.
    const scan = await post(strict.url, 'SELECT count() FROM system.numbers')
    expect(scan.status).toBe(500)
    expect(scan.body).toMatch(/Timeout exceeded: elapsed [\d.]+ seconds, maximum: 1/)
  })
})
