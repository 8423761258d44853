import { describe, expect, it } from 'vitest'
import { MemoryLimiter } from '../../src/agents/gateway/memory-limiter.js'
import { TenantRateLimiter, TokenBucket } from '../../src/agents/gateway/rate-limit.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'

describe('token bucket (per-tenant rate limits)', () => {
  it('allows the burst, then the rate, and says when to come back', async () => {
    const clock = new ManualClock()
    const b = new TokenBucket(1000, 1000, clock)
    expect(b.take(600)).toEqual({ ok: true })
    expect(b.take(400)).toEqual({ ok: true })
    // Empty: 100 items need 100 ms of refill → Retry-After rounds up to 1 s.
    expect(b.take(100)).toEqual({ ok: false, retryAfterS: 1 })
    await clock.advance(100)
    expect(b.take(100)).toEqual({ ok: true })
    expect(b.available).toBeCloseTo(0, 6)
    await clock.advance(10_000)
    expect(b.available).toBe(1000) // never beyond capacity
  })

  it('a request larger than the bucket passes when the bucket is full and leaves it in debt', async () => {
    const clock = new ManualClock()
    const b = new TokenBucket(100, 100, clock)
    expect(b.take(250)).toEqual({ ok: true })
    expect(b.available).toBe(-150)
    // 150 of debt + 10 needed = 160 tokens at 100/s → 2 s.
    expect(b.take(10)).toEqual({ ok: false, retryAfterS: 2 })
    await clock.advance(1600)
    expect(b.take(10)).toEqual({ ok: true })
  })

  it('tenants have separate buckets at their own rate', () => {
    const clock = new ManualClock()
    const limiter = new TenantRateLimiter(1, clock)
    expect(limiter.take('small', 10_000, 10_000)).toEqual({ ok: true })
    expect(limiter.take('small', 10_000, 1).ok).toBe(false)
    expect(limiter.take('large', 1_000_000, 500_000)).toEqual({ ok: true })
    expect(limiter.take('large', 1_000_000, 500_000)).toEqual({ ok: true })
    expect(limiter.take('large', 1_000_000, 1)).toEqual({ ok: false, retryAfterS: 1 })
  })

  it('burstSeconds sets the bucket depth', async () => {
    const clock = new ManualClock()
    const limiter = new TenantRateLimiter(0.5, clock)
    expect(limiter.take('t', 1000, 500)).toEqual({ ok: true })
    expect(limiter.take('t', 1000, 1).ok).toBe(false)
    await clock.advance(250)
    expect(limiter.take('t', 1000, 250)).toEqual({ ok: true })
  })
})

describe('memory limiter', () => {
  it('moves between ok, soft and hard as the reading changes', () => {
    let used = 100
    const seen: number[] = []
    const m = new MemoryLimiter({ softBytes: 1000, hardBytes: 2000, read: () => used, intervalMs: 0, onSample: (b) => seen.push(b) })
    expect(m.level).toBe('ok')
    used = 1000
    expect(m.sample()).toBe('soft')
    used = 2500
    expect(m.sample()).toBe('hard')
    used = 10
    expect(m.sample()).toBe('ok')
    expect(seen).toEqual([100, 1000, 2500, 10])
    expect(m.bytesInUse).toBe(10)
  })

  it('a level holds between samples (requests do not pay for a reading each)', () => {
    let reads = 0
    const m = new MemoryLimiter({ softBytes: 10, hardBytes: 20, read: () => ++reads * 100, intervalMs: 0 })
    expect([m.level, m.level, m.level]).toEqual(['hard', 'hard', 'hard'])
    expect(reads).toBe(1)
  })
})
