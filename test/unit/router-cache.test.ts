import { describe, expect, it } from 'vitest'
import { ResultCache, decodeEntry, encodeEntry, type CachedResult } from '../../src/agents/router/cache.js'
import { createRouterMetrics } from '../../src/agents/router/metrics.js'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'
import { cacheKey } from '../../src/lib/routing/cache-key.js'
import { createMetricsRegistry, silentLogger } from '../../src/lib/telemetry/index.js'

const H = 3_600_000

function setup() {
  const clock = new ManualClock(Date.UTC(2024, 5, 1))
  const l1 = new MemoryCache({ clock })
  const l2 = new MemoryCache({ clock }) // any Cache works as L2; the Redis one is exercised in integration tests
  const metrics = createRouterMetrics(createMetricsRegistry({ defaultMetrics: false }))
  return { clock, l1, l2, cache: new ResultCache({ l1, l2, l1TtlS: 30, metrics, logger: silentLogger, clock }) }
}

const entry = (clock: ManualClock, body = 'rows\n', ttlS = 3600): CachedResult => ({
  headers: { 'content-type': 'text/plain' },
  body: Buffer.from(body),
  expiresAtMs: clock.now() + ttlS * 1000,
  replica: 'r1',
})

describe('router result cache', () => {
  it('entries round-trip through their byte encoding', () => {
    const e = { headers: { a: 'b' }, body: Buffer.from([0, 1, 2, 255]), expiresAtMs: 123, replica: 'x' }
    expect(decodeEntry(encodeEntry(e))).toEqual(e)
    expect(decodeEntry(Buffer.from('garbage'))).toBeUndefined()
  })

  it('L1 keeps an entry at most l1TtlS; an L2 hit is copied back into L1', async () => {
    const { clock, l1, cache } = setup()
    await cache.set('k', entry(clock), 3600)
    expect((await cache.get('k'))?.layer).toBe('l1')
    await clock.advance(31_000)
    expect(await l1.get('k')).toBeUndefined()
    const fromL2 = await cache.get('k')
    expect(fromL2?.layer).toBe('l2')
    expect(fromL2?.entry.body.toString()).toBe('rows\n')
    expect((await cache.get('k'))?.layer).toBe('l1')
  })

  it('an entry past its expiry is a miss in every layer', async () => {
    const { clock, cache } = setup()
    await cache.set('k', entry(clock, 'x', 60), 60)
    await clock.advance(61_000)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('one fill per key: concurrent misses wait for the first and share its result', async () => {
    const { clock, cache } = setup()
    let fills = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const fill = async () => {
      fills++
      await gate
      return entry(clock)
    }
    const all = Promise.all([cache.single('k', fill), cache.single('k', fill), cache.single('k', fill)])
    release()
    const results = await all
    expect(fills).toBe(1)
    expect(results.map((r) => r.leader)).toEqual([true, false, false])
    expect(results.every((r) => r.entry?.body.toString() === 'rows\n')).toBe(true)
  })

  it('invalidation deletes the tenant\'s overlapping ranges in both layers and bumps its generation', async () => {
    const { clock, l2, cache } = setup()
    const t = Date.UTC(2024, 4, 1)
    const keyOf = (tenant: string, from: number) => cacheKey({ tenant, sql: 'q', format: 'JSON', fromMs: from, toMs: from + H, settings: {}, params: {} })
    await cache.set(keyOf('A', t), entry(clock), 3600)
    await cache.set(keyOf('A', t + 5 * H), entry(clock), 3600)
    await cache.set(keyOf('B', t), entry(clock), 3600)
    expect(cache.generation('A')).toBe(0)
    const n = await cache.invalidate('A', t + 60_000, t + 120_000)
    expect(n).toEqual({ l1: 1, l2: 1 })
    expect(cache.generation('A')).toBe(1)
    expect(await cache.get(keyOf('A', t))).toBeUndefined()
    expect(await cache.get(keyOf('A', t + 5 * H))).toBeDefined()
    expect(await l2.get(keyOf('B', t))).toBeDefined()
  })

  it('an L2 that fails is counted and skipped; its failed invalidations are retried later', async () => {
    const { clock, l1, l2, cache } = setup()
    await cache.set('rq:A:|h1|:x', entry(clock), 3600)
    await l2.close() // a closed cache throws on every call, like an unreachable one
    await l1.del('*')
    expect(await cache.get('rq:A:|h1|:x')).toBeUndefined()
    await cache.invalidate('A', 0, H)
    expect(cache.pendingInvalidations).toBe(1)
  })
})
