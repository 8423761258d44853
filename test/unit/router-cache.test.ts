import { describe, expect, it } from 'vitest'
import { ResultCache, decodeEntry, encodeEntry, type CachedResult } from '../../src/agents/router/cache.js'
import { ResultL1 } from '../../src/agents/router/l1.js'
import { createRouterMetrics } from '../../src/agents/router/metrics.js'
import type { Cache } from '../../src/lib/cache/types.js'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'
import { cacheKey } from '../../src/lib/routing/cache-key.js'
import { createMetricsRegistry, silentLogger } from '../../src/lib/telemetry/index.js'

const H = 3_600_000

/** Any Cache works as L2 (a MemoryCache on the same clock by default); the Redis one is exercised in integration tests. */
function setup(makeL2: (clock: ManualClock) => Cache = (clock) => new MemoryCache({ clock })) {
  const clock = new ManualClock(Date.UTC(2024, 5, 1))
  const l1 = new ResultL1({ maxEntries: 100, maxBytes: 1 << 20, clock })
  const l2 = makeL2(clock)
  const registry = createMetricsRegistry({ defaultMetrics: false })
  const metrics = createRouterMetrics(registry)
  return { clock, l1, l2, registry, cache: new ResultCache({ l1, l2, l1TtlS: 30, l2WaitMs: 20, metrics, logger: silentLogger, clock }) }
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
    expect(l1.get('k', clock.now())).toBeUndefined()
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
    l1.del('*')
    expect(await cache.get('rq:A:|h1|:x')).toBeUndefined()
    await cache.invalidate('A', 0, H)
    expect(cache.pendingInvalidations).toBe(1)
  })

  it('an L2 that does not answer within l2WaitMs is a miss (counted as slow), not a wait', async () => {
    const never = { get: () => new Promise<Buffer | undefined>(() => {}) } as unknown as Cache // a Redis that hangs
    const { cache, registry } = setup(() => never)
    expect(await cache.get('k')).toBeUndefined()
    const lookups = await registry.getSingleMetric('aiops_router_cache_lookups_total')?.get()
    expect(lookups?.values.find((v) => v.labels.layer === 'l2')?.labels.result).toBe('slow')
  })

  it('the L2 write happens after the caller moved on, and not at all when the result went stale meanwhile', async () => {
    const { clock, l1, l2, cache } = setup()
    let written = false
    const pending = cache.set('k', entry(clock), 3600).then(() => (written = true))
    expect(l1.get('k', clock.now())).toBeDefined() // L1 at once: the next request finds it
    expect(await l2.get('k')).toBeUndefined() // L2 not yet: the response goes out first
    await pending
    expect(written).toBe(true)
    expect(await l2.get('k')).toBeDefined()
    await cache.set('stale', entry(clock), 3600, () => false)
    expect(await l2.get('stale')).toBeUndefined()
  })

  it('L1 hands out the stored entry without copying and keeps within its byte bound', () => {
    const clock = new ManualClock(Date.UTC(2024, 5, 1))
    const l1 = new ResultL1({ maxEntries: 10, maxBytes: 2000, clock })
    l1.set('a', entry(clock, 'x'.repeat(600)), 30)
    const first = l1.get('a', clock.now())
    expect(first).toBe(l1.get('a', clock.now()))
    expect(first?.headerList).toEqual(['content-type', 'text/plain'])
    l1.set('b', entry(clock, 'y'.repeat(600)), 30)
    l1.set('c', entry(clock, 'z'.repeat(600)), 30) // over 2000 bytes with overhead: the least recently used (a) goes
    expect(l1.get('a', clock.now())).toBeUndefined()
    expect(l1.get('c', clock.now())?.body.toString()).toBe('z'.repeat(600))
    expect(l1.stats().bytes).toBeLessThanOrEqual(2000)
    l1.set('big', entry(clock, 'w'.repeat(3000)), 30)
    expect(l1.get('big', clock.now())).toBeUndefined()
  })

  it('L1 evicts the least recently used entry: one that is hit survives newer ones', () => {
    const clock = new ManualClock(Date.UTC(2024, 5, 1))
    const l1 = new ResultL1({ maxEntries: 4, maxBytes: 1 << 20, clock })
    for (const k of ['a', 'b', 'c', 'd']) l1.set(k, entry(clock), 30)
    expect(l1.get('a', clock.now())).toBeDefined()
    l1.set('e', entry(clock), 30)
    expect(l1.get('b', clock.now())).toBeUndefined()
    expect(['a', 'c', 'd', 'e'].every((k) => l1.get(k, clock.now()) !== undefined)).toBe(true)
  })
})
