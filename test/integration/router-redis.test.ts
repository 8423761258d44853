/**
 * L2 on a real Redis, shared by two router instances: a result one router filled is an L2 hit for the other.
 * Redis is killed under load: every query is still answered (from L1 and the replica) and /readyz stays ready;
 * Redis restarted: L2 hits come back once the cache breaker lets calls through again.
 */
import type { Counter } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/index.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { randomName } from '../support/names.js'
import { startRedis, type RedisServer } from '../support/redis.js'
import { baseTimeMs, post, seed, startRouter, type RunningRouter } from './router-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('router: L2 on Redis (two router instances)', () => {
  let ch: ClickHouseServer
  let redis: RedisServer
  let r1: RunningRouter
  let r2: RunningRouter
  const db = randomName('router_l2')
  const t0 = baseTimeMs()
  /** A cacheable query (range two days old); `n` makes a distinct cache key. */
  const query = (n: number) =>
    `SELECT service, count() FROM spans WHERE start_time >= toDateTime(${t0 / 1000}) AND start_time < toDateTime(${t0 / 1000 + 3600}) AND duration_ns != ${n} GROUP BY service ORDER BY service`

  beforeAll(async () => {
    ;[ch, redis] = await Promise.all([startClickHouse(), startRedis()])
    const store = new ClickHouseStore({ url: ch.url, database: db })
    await applySchema(store, { database: db })
    await seed(store, db, ['A'], t0)
    await store.close()
    const env = {
      AIOPS_STORE_BACKEND: 'clickhouse',
      AIOPS_STORE_CLICKHOUSE_URL: ch.url,
      AIOPS_STORE_CLICKHOUSE_DATABASE: db,
      AIOPS_CACHE_BACKEND: 'redis',
      AIOPS_CACHE_REDIS_URL: redis.url,
      AIOPS_CACHE_REDIS_KEY_PREFIX: `${db}:`,
      AIOPS_ROUTER_REPLICAS: `hot=${ch.url}`,
      AIOPS_ROUTER_LIMITS_QUERIES_PER_MINUTE: '1000000',
      AIOPS_ROUTER_LIMITS_MAX_CONCURRENT: '64',
    }
    r1 = await startRouter(env)
    r2 = await startRouter(env)
  })

  afterAll(async () => {
    await r1?.stop()
    await r2?.stop()
    await Promise.all([ch?.stop(), redis?.stop()])
  })

  const l2Errors = async (r: RunningRouter): Promise<number> => {
    const m = (await (r.host.registry.getSingleMetric('aiops_router_cache_lookups_total') as Counter).get()).values
    return m.filter((v) => v.labels.layer === 'l2' && v.labels.result === 'error').reduce((n, v) => n + v.value, 0)
  }

  it('a result filled by one router is an L2 hit for the other, then an L1 hit', async () => {
    const a = await post(r1.url, query(-1))
    expect(a.headers.get('x-cache')).toBe('MISS')
    await sleep(100) // the L2 write happens after the response
    const b = await post(r2.url, query(-1))
    expect(b.headers.get('x-cache')).toBe('HIT-L2')
    expect(b.body).toBe(a.body)
    expect((await post(r2.url, query(-1))).headers.get('x-cache')).toBe('HIT-L1')
  })

  it('Redis killed under load: 100% of queries answered, ready; restarted: L2 hits again', async () => {
    let stop = false
    let answered = 0
    const failed: string[] = []
    let n = 0
    const worker = async (): Promise<void> => {
      while (!stop) {
        // Half repeat a few hot keys (L1 hits), half are new keys (misses that go to the replica).
        const i = n++
        const r = await post(i % 2 === 0 ? r1.url : r2.url, query(i % 4 === 0 ? 1 : 1000 + i))
        if (r.status === 200) answered++
        else failed.push(`${r.status} ${r.body.slice(0, 160)}`)
      }
    }
    const workers = Array.from({ length: 4 }, worker)
    try {
      await sleep(800)
      await redis.kill()
      await sleep(2000)
      const ready = await fetch(`${r1.host.telemetryUrl}/readyz`)
      expect(ready.status).toBe(200)
      const body = (await ready.json()) as { checks: Record<string, string>; details?: Record<string, string> }
      expect(body.details?.redis).toMatch(/degraded/)
    } finally {
      stop = true
      await Promise.all(workers)
    }
    const errors = (await l2Errors(r1)) + (await l2Errors(r2))
    console.log(`redis down under load: ${answered} queries answered, ${failed.length} failed; ${errors} L2 lookups failed (served without L2)`)
    expect(failed).toEqual([])
    expect(errors).toBeGreaterThan(0)

    await redis.restart()
    // The cache breaker (3 failures, open 10 s) lets a trial call through after 10 s; poll until L2 works again.
    const deadline = Date.now() + 30_000
    let hitL2 = false
    for (let i = 0; !hitL2 && Date.now() < deadline; i++) {
      await post(r1.url, query(50_000 + i))
      await sleep(100)
      hitL2 = (await post(r2.url, query(50_000 + i))).headers.get('x-cache') === 'HIT-L2'
      if (!hitL2) await sleep(500)
    }
    expect(hitL2).toBe(true)
  })
})
