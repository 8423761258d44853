/**
 * The two cache layers in front of the replicas: L1 in process (a TTL LRU bounded by entries and bytes, at most
 * router.cache.l1TtlS per entry), L2 shared (Redis, when configured). A lookup tries L1, then L2 (an L2 hit is copied
 * into L1); a fill writes both. One fill per key at a time: concurrent misses of a key wait for the first one.
 *
 * Redis down costs nothing but the lookups: RedisCache fails fast behind its breaker, errors here count as misses,
 * and queries are served from L1 and the replicas.
 */
import type { Cache } from '../../lib/cache/types.js'
import type { MemoryCache } from '../../lib/cache/memory.js'
import { invalidationPatterns, MAX_DATE_MS } from '../../lib/routing/cache-key.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/index.js'
import type { RouterMetrics } from './metrics.js'

export interface CachedResult {
  headers: Record<string, string>
  body: Buffer
  /** Epoch ms after which the entry is stale in every layer. */
  expiresAtMs: number
  replica: string
}

export type CacheLayer = 'l1' | 'l2'

export function encodeEntry(e: CachedResult): Buffer {
  const meta = Buffer.from(JSON.stringify({ h: e.headers, x: e.expiresAtMs, r: e.replica }))
  const len = Buffer.allocUnsafe(4)
  len.writeUInt32BE(meta.length)
  return Buffer.concat([len, meta, e.body])
}

export function decodeEntry(b: Buffer): CachedResult | undefined {
  if (b.length < 4) return undefined
  const n = b.readUInt32BE(0)
  if (4 + n > b.length) return undefined
  try {
    const meta = JSON.parse(b.toString('utf8', 4, 4 + n)) as { h: Record<string, string>; x: number; r: string }
    return { headers: meta.h, expiresAtMs: meta.x, replica: meta.r, body: b.subarray(4 + n) }
  } catch {
    return undefined // written by an incompatible version: a miss, and the fill overwrites it
  }
}

export interface ResultCacheOptions {
  l1: MemoryCache
  l2: Cache | undefined
  l1TtlS: number
  metrics: RouterMetrics
  logger: Logger
  clock: Clock
}

export class ResultCache {
  private readonly inflight = new Map<string, Promise<CachedResult | undefined>>()
  /** Bumped per tenant on every invalidation: a fill that started before one must not write its (stale) result. */
  private readonly generations = new Map<string, number>()
  /** Invalidations L2 could not apply (Redis down): retried, so stale entries do not resurface when it is back. */
  private pendingL2: Array<{ tenant: string; fromMs: number; toMs: number }> = []

  constructor(private readonly o: ResultCacheOptions) {}

  get hasL2(): boolean {
    return this.o.l2 !== undefined
  }

  async get(key: string): Promise<{ entry: CachedResult; layer: CacheLayer } | undefined> {
    const now = this.o.clock.now()
    const local = decodeFrom(await this.o.l1.get(key), now)
    this.o.metrics.cacheLookups.inc({ layer: 'l1', result: local ? 'hit' : 'miss' })
    if (local) return { entry: local, layer: 'l1' }
    if (!this.o.l2) return undefined
    let raw: Buffer | undefined
    try {
      raw = await this.o.l2.get(key)
    } catch (err) {
      this.o.metrics.cacheLookups.inc({ layer: 'l2', result: 'error' })
      this.o.logger.logOnce('l2-get-failed', 'warn', 'L2 cache lookup failed; serving from L1 and replicas', { err })
      return undefined
    }
    const shared = decodeFrom(raw, now)
    this.o.metrics.cacheLookups.inc({ layer: 'l2', result: shared ? 'hit' : 'miss' })
    if (!shared) return undefined
    await this.o.l1.set(key, raw as Buffer, Math.max(1, Math.min(this.o.l1TtlS, Math.floor((shared.expiresAtMs - now) / 1000))))
    return { entry: shared, layer: 'l2' }
  }

  /** Writes L1 now and L2 in the background (the caller's response does not wait for Redis). */
  async set(key: string, entry: CachedResult, ttlS: number): Promise<void> {
    const raw = encodeEntry(entry)
    await this.o.l1.set(key, raw, Math.min(this.o.l1TtlS, ttlS))
    this.o.metrics.cacheWrites.inc({ layer: 'l1', result: 'ok' })
    const l2 = this.o.l2
    if (!l2) return
    l2.set(key, raw, ttlS).then(
      () => this.o.metrics.cacheWrites.inc({ layer: 'l2', result: 'ok' }),
      (err: unknown) => {
        this.o.metrics.cacheWrites.inc({ layer: 'l2', result: 'error' })
        this.o.logger.logOnce('l2-set-failed', 'warn', 'L2 cache write failed; the result stays in L1 only', { err })
      },
    )
  }

  generation(tenant: string): number {
    return this.generations.get(tenant) ?? 0
  }

  /**
   * Herd protection: the first caller of a key runs `fill`; callers arriving while it runs wait for its result
   * (undefined when the result was not cacheable, and then each runs its own query).
   */
  async single(key: string, fill: () => Promise<CachedResult | undefined>): Promise<{ entry: CachedResult | undefined; leader: boolean }> {
    const running = this.inflight.get(key)
    if (running) {
      this.o.metrics.coalesced.inc()
      return { entry: await running.catch(() => undefined), leader: false }
    }
    const p = fill()
    this.inflight.set(key, p)
    try {
      return { entry: await p, leader: true }
    } finally {
      this.inflight.delete(key)
    }
  }

  /** Deletes every cached result of `tenant` overlapping [fromMs, toMs] in both layers. */
  async invalidate(tenant: string, fromMs: number, toMs: number): Promise<{ l1: number; l2: number }> {
    this.generations.set(tenant, this.generation(tenant) + 1)
    let l1 = 0
    const patterns = invalidationPatterns(tenant, fromMs, toMs)
    for (const pattern of patterns) l1 += await this.o.l1.del(pattern)
    const l2 = await this.deleteL2(patterns, { tenant, fromMs, toMs })
    this.o.metrics.invalidations.inc({ layer: 'l1' }, l1)
    this.o.metrics.invalidations.inc({ layer: 'l2' }, l2)
    const s = this.o.l1.stats()
    this.o.metrics.l1Entries.set(s.entries)
    this.o.metrics.l1Bytes.set(s.bytes)
    return { l1, l2 }
  }

  /** Applies the L2 invalidations that failed earlier; called periodically. */
  async retryPending(): Promise<void> {
    const pending = this.pendingL2
    this.pendingL2 = []
    for (const p of pending) await this.deleteL2(invalidationPatterns(p.tenant, p.fromMs, p.toMs), p)
  }

  get pendingInvalidations(): number {
    return this.pendingL2.length
  }

  private async deleteL2(patterns: string[], what: { tenant: string; fromMs: number; toMs: number }): Promise<number> {
    if (!this.o.l2) return 0
    let n = 0
    try {
      for (const pattern of patterns) n += await this.o.l2.del(pattern)
      return n
    } catch (err) {
      this.o.logger.logOnce('l2-del-failed', 'warn', 'L2 invalidation failed; it is retried until Redis answers', { err })
      // Bounded: past 10 000 pending ranges, widen to the whole tenant rather than grow without limit.
      if (this.pendingL2.length < 10_000) this.pendingL2.push(what)
      else this.pendingL2.push({ tenant: what.tenant, fromMs: 0, toMs: MAX_DATE_MS })
      return n
    }
  }

  updateGauges(): void {
    const s = this.o.l1.stats()
    this.o.metrics.l1Entries.set(s.entries)
    this.o.metrics.l1Bytes.set(s.bytes)
  }
}

function decodeFrom(raw: Buffer | undefined, now: number): CachedResult | undefined {
  if (!raw) return undefined
  const e = decodeEntry(raw)
  return e && e.expiresAtMs > now ? e : undefined
}
