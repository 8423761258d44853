import { describe, expect, it } from 'vitest'
import { globToRegExp } from '../../src/lib/cache/memory.js'
import { bucketTokens, cacheKey, canSkipInvalidation, invalidationPatterns, ttlForRange } from '../../src/lib/routing/cache-key.js'

const H = 3_600_000
const D = 24 * H
const NOW = Date.UTC(2024, 5, 1, 12)

const key = (tenant: string, fromMs: number | undefined, toMs: number, sql = 'SELECT 1') =>
  cacheKey({ tenant, sql, format: 'JSON', fromMs, toMs, settings: {}, params: {} })
const hits = (k: string, tenant: string, fromMs: number, toMs: number) => invalidationPatterns(tenant, fromMs, toMs).some((p) => globToRegExp(p).test(k))

describe('router cache keys and TTLs', () => {
  it('TTL by data age, never for a range ending within the last minute or open', () => {
    expect(ttlForRange(NOW - 30_000, NOW)).toBeUndefined()
    expect(ttlForRange(undefined, NOW)).toBeUndefined()
    expect(ttlForRange(NOW - 5 * 60_000, NOW)).toBe(60)
    expect(ttlForRange(NOW - 2 * H, NOW)).toBe(300)
    expect(ttlForRange(NOW - 2 * D, NOW)).toBe(3600)
    expect(ttlForRange(NOW - 30 * D, NOW)).toBe(86_400)
  })

  it('differs by tenant, query, range, format, settings and parameters; not by their order', () => {
    const base = { tenant: 'A', sql: 'SELECT 1', format: 'JSON', fromMs: 0, toMs: H, settings: { a: '1', b: '2' }, params: { p: 'x' } }
    const k = cacheKey(base)
    expect(cacheKey({ ...base, settings: { b: '2', a: '1' } })).toBe(k)
    for (const change of [{ tenant: 'B' }, { sql: 'SELECT 2' }, { toMs: 2 * H }, { format: 'CSV' }, { settings: { a: '2' } }, { params: { p: 'y' } }]) {
      expect(cacheKey({ ...base, ...change })).not.toBe(k)
    }
  })

  it('names the time buckets a range covers: hours up to 48 h, days up to 92 days, months beyond, a for open', () => {
    expect(bucketTokens(0, 2 * H - 1)).toBe('|h0|h1')
    expect(bucketTokens(0, 3 * D)).toBe('|d0|d1|d2|d3')
    expect(bucketTokens(Date.UTC(2024, 0, 1), Date.UTC(2024, 5, 1))).toBe(`|m${2024 * 12}|m${2024 * 12 + 1}|m${2024 * 12 + 2}|m${2024 * 12 + 3}|m${2024 * 12 + 4}|m${2024 * 12 + 5}`)
    expect(bucketTokens(undefined, H)).toBe('|a')
  })

  it('late data invalidates exactly the entries of its tenant whose range it overlaps', () => {
    const t = Date.UTC(2024, 4, 1)
    const hourEntry = key('A', t, t + H)
    const dayEntry = key('A', t - 10 * D, t + D)
    const monthEntry = key('A', t - 400 * D, t)
    const openEntry = key('A', undefined, t)
    const other = key('B', t, t + H)
    const late = [t + 10 * 60_000, t + 11 * 60_000] as const
    expect(hits(hourEntry, 'A', ...late)).toBe(true)
    expect(hits(dayEntry, 'A', ...late)).toBe(true)
    expect(hits(monthEntry, 'A', ...late)).toBe(true)
    expect(hits(openEntry, 'A', ...late)).toBe(true)
    expect(hits(other, 'A', ...late)).toBe(false)
    expect(hits(hourEntry, 'A', t + 5 * H, t + 6 * H)).toBe(false)
    expect(hits(key('AB', t, t + H), 'A', ...late)).toBe(false) // a tenant id that starts with another is another tenant
  })

  it('a backfill over a long span widens to the whole class instead of listing every bucket', () => {
    const patterns = invalidationPatterns('A', 0, 400 * D)
    expect(patterns).toContain('rq:A:|h*')
    expect(patterns).toContain('rq:A:|d*')
    expect(patterns.length).toBeLessThan(40)
  })

  it('fresh data (newer than a minute ago, less skew) cannot overlap a cached range', () => {
    expect(canSkipInvalidation(NOW - 10_000, NOW)).toBe(true)
    expect(canSkipInvalidation(NOW - 2 * 60_000, NOW)).toBe(false)
  })
})
