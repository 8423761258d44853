import { setTimeout as sleep } from 'node:timers/promises'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisCache, type RedisCacheOptions } from '../../src/lib/cache/redis.js'
import { CircuitOpenError, DependencyError } from '../../src/lib/errors.js'
import { cacheContract } from '../support/cache-contract.js'
import { randomName } from '../support/names.js'
import { startRedis, startSentinel, type RedisServer } from '../support/redis.js'

let shared: RedisServer | undefined
beforeAll(async () => {
  shared = await startRedis()
})
afterAll(async () => {
  await shared?.stop()
})

const newCache = (opts: RedisCacheOptions): RedisCache => new RedisCache({ registry: new Registry(), ...opts })

// Each cache gets its own random prefix on the shared server, so tests (and the isolation test's two caches)
// never see each other's keys.
cacheContract('redis', async () => {
  if (shared === undefined) throw new Error('redis not started')
  const cache = newCache({ url: shared.url, keyPrefix: `${randomName('c')}:` })
  return { cache, cleanup: () => cache.close() }
})

describe('RedisCache with AUTH', () => {
  it('uses the password option, which wins over one in the URL', async () => {
    const redis = await startRedis({ password: 'p@ss word' })
    const wrong = redis.url.replace(encodeURIComponent('p@ss word'), 'wrong')
    const cache = newCache({ url: wrong, password: 'p@ss word', keyPrefix: `${randomName('a')}:` })
    try {
      await cache.set('k', Buffer.from('v'), 60)
      expect((await cache.get('k'))?.toString()).toBe('v')
    } finally {
      await cache.close()
      await redis.stop()
    }
  })
})

describe('RedisCache when Redis goes away', () => {
  const commandTimeoutMs = 500
  const breaker = { failureThreshold: 3, successThreshold: 1, openMs: 500 }

  it('fails fast through the open breaker, then recovers after a restart on the same port', async () => {
    const redis = await startRedis()
    const cache = newCache({ url: redis.url, keyPrefix: `${randomName('f')}:`, commandTimeoutMs, breaker })
    try {
      await cache.set('k', Buffer.from('v'), 60)
      expect(cache.breakerState).toBe('closed')
      await redis.kill()

      const results: Array<{ err: unknown; ms: number }> = []
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now()
        const err = await cache.get('k').then(
          () => undefined,
          (e: unknown) => e,
        )
        results.push({ err, ms: performance.now() - t0 })
      }
      // Every call failed, as a retriable DependencyError on redis (CircuitOpenError is one too).
      for (const r of results) {
        expect(r.err).toBeInstanceOf(DependencyError)
        expect((r.err as DependencyError).dependency).toBe('redis')
        expect((r.err as DependencyError).retriable).toBe(true)
      }
      const firstOpen = results.findIndex((r) => r.err instanceof CircuitOpenError)
      expect(firstOpen).toBeGreaterThanOrEqual(1)
      expect(firstOpen).toBeLessThanOrEqual(breaker.failureThreshold)
      const tried = results.slice(0, firstOpen)
      for (const r of tried) expect((r.err as DependencyError).suggestions.join(' ')).toMatch(/cache\.redis\.url/)
      // Once open, no call waited for the command timeout (the point of the breaker); most were refused outright.
      const afterOpen = results.slice(firstOpen)
      expect(afterOpen.filter((r) => r.ms > commandTimeoutMs)).toHaveLength(0)
      expect(afterOpen.filter((r) => r.err instanceof CircuitOpenError).length).toBeGreaterThan(90)
      const health = await cache.ping()
      expect(health.ok).toBe(false)

      await redis.restart()
      // openMs is 500 ms and ioredis reconnects with backoff capped at 1 s: allow a generous bound.
      const deadline = Date.now() + 15_000
      let lastErr: unknown
      let recovered = false
      while (!recovered && Date.now() < deadline) {
        try {
          await cache.set('k2', Buffer.from('back'), 60)
          recovered = true
        } catch (err) {
          lastErr = err
          await sleep(100)
        }
      }
      expect(recovered, `still failing: ${String(lastErr)}`).toBe(true)
      expect((await cache.get('k2'))?.toString()).toBe('back')
      expect(await cache.get('k')).toBeUndefined() // the crash lost it (no persistence): a miss, not an error
      expect(await cache.ping()).toEqual({ ok: true })
      expect(cache.breakerState).toBe('closed')
    } finally {
      await cache.close()
      await redis.stop()
    }
  })

  it('fails fast when Redis is down from the start, with a connection error in the message', async () => {
    const redis = await startRedis()
    const url = redis.url
    await redis.stop()
    const cache = newCache({ url, commandTimeoutMs, breaker })
    try {
      const err = await cache.get('k').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DependencyError)
      expect(String((err as Error).message)).toMatch(/redis get on 127\.0\.0\.1:\d+ failed/)
      const t0 = performance.now()
      for (let i = 0; i < 10; i++) await cache.get('k').catch(() => undefined)
      // At most failureThreshold calls wait for the (first) connection; the rest are refused by the breaker.
      expect(performance.now() - t0).toBeLessThan(breaker.failureThreshold * commandTimeoutMs + 1000)
      expect(cache.breakerState).toBe('open')
      const health = await cache.ping()
      expect(health).toMatchObject({ ok: false })
    } finally {
      await cache.close()
      await cache.close()
    }
  })
})

describe('RedisCache through Sentinel', () => {
  it('finds the master by name and works', async () => {
    if (shared === undefined) throw new Error('redis not started')
    const masterName = randomName('m')
    const sentinel = await startSentinel({ masterName, masterPort: shared.port })
    const cache = newCache({ sentinels: [{ host: sentinel.host, port: sentinel.port }], name: masterName, keyPrefix: `${randomName('s')}:` })
    try {
      await cache.set('k', Buffer.from([0, 1, 2]), 60)
      expect(await cache.get('k')).toEqual(Buffer.from([0, 1, 2]))
      expect(await cache.del('*')).toBe(1)
      expect(await cache.ping()).toEqual({ ok: true })
    } finally {
      await cache.close()
      await sentinel.stop()
    }
  })

  it('requires the master name with sentinels', () => {
    expect(() => new RedisCache({ sentinels: [{ host: '127.0.0.1', port: 1 }] })).toThrow(/cache\.redis\.masterName/)
  })
})
