import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Cache } from '../../src/lib/cache/types.js'
import { UsageError } from '../../src/lib/errors.js'

export interface CacheUnderTest {
  cache: Cache
  cleanup(): Promise<void>
}

/**
 * What every Cache backend must do, run against each (memory in unit tests, Redis in integration tests), so
 * the router behaves the same whichever backend configuration picks. `make` is called once per test, and
 * twice in the isolation test: each call must give a cache with its own key space (e.g. its own prefix).
 */
export function cacheContract(name: string, make: () => Promise<CacheUnderTest>): void {
  describe(`Cache contract: ${name}`, () => {
    let made: CacheUnderTest[] = []
    let cache: Cache
    const fresh = async (): Promise<Cache> => {
      const m = await make()
      made.push(m)
      return m.cache
    }
    beforeEach(async () => {
      cache = await fresh()
    })
    afterEach(async () => {
      for (const m of made) await m.cleanup()
      made = []
    })

    it('round-trips binary values byte for byte', async () => {
      const bytes = Buffer.from([0x00, 0x01, 0xff, 0x00, 0x0d, 0x0a, 0x80, 0x00])
      await cache.set('bin', bytes, 60)
      expect(await cache.get('bin')).toEqual(bytes)
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
      await cache.set('all-bytes', all, 60)
      const got = await cache.get('all-bytes')
      expect(Buffer.isBuffer(got)).toBe(true)
      expect(got?.equals(all)).toBe(true)
    })

    it('stores an empty value as an empty Buffer, not a miss', async () => {
      await cache.set('empty', Buffer.alloc(0), 60)
      const got = await cache.get('empty')
      expect(got).toBeInstanceOf(Buffer)
      expect(got?.length).toBe(0)
    })

    it('returns undefined for a missing key', async () => {
      expect(await cache.get('never-set')).toBeUndefined()
    })

    it('does not share the stored bytes with the caller', async () => {
      const value = Buffer.from('original')
      await cache.set('copy', value, 60)
      value.write('mutated!')
      const got = await cache.get('copy')
      expect(got?.toString()).toBe('original')
      got?.write('changed!')
      expect((await cache.get('copy'))?.toString()).toBe('original')
    })

    it('expires entries after their TTL', async () => {
      await cache.set('short', Buffer.from('x'), 1)
      await cache.set('long', Buffer.from('y'), 60)
      expect((await cache.get('short'))?.toString()).toBe('x')
      // Poll instead of sleeping exactly 1 s: only "it does expire, within a generous bound" is asserted.
      const deadline = Date.now() + 5000
      while ((await cache.get('short')) !== undefined && Date.now() < deadline) await sleep(100)
      expect(await cache.get('short')).toBeUndefined()
      expect((await cache.get('long'))?.toString()).toBe('y')
    })

    it('rejects a TTL that is not positive', async () => {
      await expect(cache.set('k', Buffer.from('v'), 0)).rejects.toBeInstanceOf(UsageError)
      await expect(cache.set('k', Buffer.from('v'), -1)).rejects.toBeInstanceOf(UsageError)
      await expect(cache.set('k', Buffer.from('v'), Number.NaN)).rejects.toBeInstanceOf(UsageError)
    })

    it('overwrites a key', async () => {
      await cache.set('k', Buffer.from('one'), 60)
      await cache.set('k', Buffer.from('two'), 60)
      expect((await cache.get('k'))?.toString()).toBe('two')
    })

    it('deletes by glob pattern with * and counts what it deleted', async () => {
      for (const k of ['user:1', 'user:2', 'user:10', 'other:1', 'users']) await cache.set(k, Buffer.from(k), 60)
      expect(await cache.del('user:*')).toBe(3)
      expect(await cache.get('user:1')).toBeUndefined()
      expect(await cache.get('user:10')).toBeUndefined()
      expect((await cache.get('other:1'))?.toString()).toBe('other:1')
      expect((await cache.get('users'))?.toString()).toBe('users')
      expect(await cache.del('user:*')).toBe(0)
    })

    it('deletes by glob pattern with ? matching exactly one character', async () => {
      for (const k of ['q:1', 'q:2', 'q:10', 'q:']) await cache.set(k, Buffer.from(k), 60)
      expect(await cache.del('q:?')).toBe(2)
      expect(await cache.get('q:1')).toBeUndefined()
      expect((await cache.get('q:10'))?.toString()).toBe('q:10')
      expect((await cache.get('q:'))?.toString()).toBe('q:')
    })

    it('treats characters other than * and ? literally in patterns', async () => {
      for (const k of ['a[1]', 'a1', 'b\\c', 'd.e', 'dxe']) await cache.set(k, Buffer.from(k), 60)
      expect(await cache.del('a[1]')).toBe(1)
      expect((await cache.get('a1'))?.toString()).toBe('a1')
      expect(await cache.del('b\\c')).toBe(1)
      expect(await cache.del('d.e')).toBe(1)
      expect((await cache.get('dxe'))?.toString()).toBe('dxe')
    })

    it('deletes more keys than fit in one batch', async () => {
      const keys = Array.from({ length: 1234 }, (_, i) => `bulk:${i}`)
      for (let i = 0; i < keys.length; i += 200) {
        await Promise.all(keys.slice(i, i + 200).map((k) => cache.set(k, Buffer.from(k), 60)))
      }
      await cache.set('keep', Buffer.from('k'), 60)
      expect(await cache.del('bulk:*')).toBe(keys.length)
      expect(await cache.get('bulk:7')).toBeUndefined()
      expect((await cache.get('keep'))?.toString()).toBe('k')
    })

    it('keeps the key spaces of two caches apart', async () => {
      const other = await fresh()
      await cache.set('shared', Buffer.from('mine'), 60)
      await other.set('shared', Buffer.from('theirs'), 60)
      expect((await cache.get('shared'))?.toString()).toBe('mine')
      expect((await other.get('shared'))?.toString()).toBe('theirs')
      expect(await cache.del('*')).toBe(1)
      expect((await other.get('shared'))?.toString()).toBe('theirs')
    })

    it('answers ping', async () => {
      expect(await cache.ping()).toEqual({ ok: true })
    })

    it('can be closed twice, and reports not ok afterwards', async () => {
      await cache.close()
      await cache.close()
      const health = await cache.ping()
      expect(health.ok).toBe(false)
    })
  })
}
