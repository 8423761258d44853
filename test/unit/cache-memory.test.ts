import { describe, expect, it } from 'vitest'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { createCache } from '../../src/lib/cache/index.js'
import { ConfigError, UsageError } from '../../src/lib/errors.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'
import { cacheContract } from '../support/cache-contract.js'

cacheContract('memory', async () => {
  const cache = new MemoryCache()
  return { cache, cleanup: () => cache.close() }
})

const buf = (n: number, fill = 1): Buffer => Buffer.alloc(n, fill)

describe('MemoryCache bounds', () => {
  it('evicts the least recently used entry when over maxEntries', async () => {
    const cache = new MemoryCache({ maxEntries: 3 })
    for (const k of ['a', 'b', 'c']) await cache.set(k, buf(1), 60)
    await cache.get('a') // a is now the most recently used; b the least
    await cache.set('d', buf(1), 60)
    expect(await cache.get('b')).toBeUndefined()
    for (const k of ['a', 'c', 'd']) expect(await cache.get(k)).toBeDefined()
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 })
  })

  it('evicts by bytes, counting key and value, until the bound holds', async () => {
    // Each entry: 1-byte key + 99-byte value = 100 bytes.
    const cache = new MemoryCache({ maxBytes: 350 })
    for (const k of ['a', 'b', 'c']) await cache.set(k, buf(99), 60)
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 300, evictions: 0 })
    // 1 + 199 = 200 bytes: needs two of the old entries gone (300 + 200 - 100 - 100 = 300 ≤ 350).
    await cache.set('d', buf(199), 60)
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('b')).toBeUndefined()
    expect(await cache.get('c')).toBeDefined()
    expect(await cache.get('d')).toBeDefined()
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 300, evictions: 2 })
  })

  it('does not store an entry larger than maxBytes, and drops the value it replaces', async () => {
    const cache = new MemoryCache({ maxBytes: 100 })
    await cache.set('small', buf(10), 60)
    await cache.set('big', buf(100), 60) // 3 + 100 bytes > 100
    expect(await cache.get('big')).toBeUndefined()
    expect(await cache.get('small')).toBeDefined() // nothing was evicted for it
    await cache.set('small', buf(200), 60)
    expect(await cache.get('small')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, evictions: 0 })
  })

  it('keeps byte accounting right across overwrites and deletes', async () => {
    const cache = new MemoryCache()
    await cache.set('k', buf(10), 60)
    await cache.set('k', buf(30), 60)
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 31 })
    await cache.set('ké', buf(5), 60) // 'é' is 2 bytes in UTF-8
    expect(cache.stats().bytes).toBe(31 + 3 + 5)
    await cache.del('k*')
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 })
  })

  it('counts hits and misses', async () => {
    const cache = new MemoryCache()
    await cache.set('k', buf(1), 60)
    await cache.get('k')
    await cache.get('k')
    await cache.get('nope')
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1 })
  })

  it('rejects nonsensical bounds', () => {
    expect(() => new MemoryCache({ maxEntries: 0 })).toThrow(UsageError)
    expect(() => new MemoryCache({ maxBytes: -1 })).toThrow(UsageError)
  })
})

describe('MemoryCache TTL on a manual clock', () => {
  it('serves an entry until its TTL and removes it after', async () => {
    const clock = new ManualClock()
    const cache = new MemoryCache({ clock })
    await cache.set('k', buf(4), 2)
    await clock.advance(1999)
    expect(await cache.get('k')).toBeDefined()
    await clock.advance(1)
    expect(await cache.get('k')).toBeUndefined()
    // The expired entry was removed, not just hidden.
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, misses: 1 })
  })

  it('supports fractional TTLs and resets the TTL on overwrite', async () => {
    const clock = new ManualClock()
    const cache = new MemoryCache({ clock })
    await cache.set('k', buf(1), 0.5)
    await clock.advance(400)
    await cache.set('k', buf(1), 0.5)
    await clock.advance(400)
    expect(await cache.get('k')).toBeDefined()
    await clock.advance(100)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('does not count expired entries as deleted or evicted', async () => {
    const clock = new ManualClock()
    const cache = new MemoryCache({ clock, maxEntries: 2 })
    await cache.set('x:1', buf(1), 1)
    await cache.set('x:2', buf(1), 10)
    await clock.advance(1000)
    await cache.set('y', buf(1), 10) // pushes out x:1, which had already expired
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 0 })
    expect(await cache.del('x:*')).toBe(1)
  })
})

describe('createCache', () => {
  it('builds the configured backend', async () => {
    const cache = createCache({ backend: 'memory', memory: { maxEntries: 5 } })
    expect(cache.kind).toBe('memory')
    await cache.close()
  })

  it('rejects an unknown backend with a config error', () => {
    expect(() => createCache({ backend: 'memcached' as 'memory' })).toThrow(ConfigError)
  })
})
