/**
 * Per-tenant token buckets (the design's tenant tiers: small < 10K, medium 10K–100K, large > 100K items/s). A request
 * takes one token per item; the bucket refills at the tenant's rate up to `rate × burstSeconds`. A request larger
 * than the whole bucket is let through when the bucket is full and leaves it in debt, so a big batch is never refused
 * forever and the tenant's long-run rate still holds. Time comes from an injected clock (tests use ManualClock).
 */
import { type Clock, systemClock } from '../../lib/resilience/clock.js'

export type TakeResult = { ok: true } | { ok: false; retryAfterS: number }

export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    readonly rate: number,
    readonly capacity: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = capacity
    this.last = clock.now()
  }

  private refill(): void {
    const now = this.clock.now()
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate)
      this.last = now
    }
  }

  /** Tokens available now (negative while in debt). */
  get available(): number {
    this.refill()
    return this.tokens
  }

  take(n: number): TakeResult {
    this.refill()
    const need = Math.min(n, this.capacity)
    if (this.tokens >= need) {
      this.tokens -= n
      return { ok: true }
    }
    // Whole seconds (Retry-After's unit), at least 1: when `need` tokens will have accumulated.
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((need - this.tokens) / this.rate)) }
  }
}

export class TenantRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>()

  constructor(
    private readonly burstSeconds: number,
    private readonly clock: Clock = systemClock,
  ) {}

  take(tenant: string, rate: number, items: number): TakeResult {
    let b = this.buckets.get(tenant)
    if (!b || b.rate !== rate) {
      b = new TokenBucket(rate, Math.max(1, Math.round(rate * this.burstSeconds)), this.clock)
      this.buckets.set(tenant, b)
    }
    return b.take(items)
  }
}
