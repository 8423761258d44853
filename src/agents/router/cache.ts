/**
 * The two cache layers in front of the replicas: L1 in process (l1.ts: decoded entries, a TTL LRU bounded by entries
 * and bytes, at most router.cache.l1TtlS per entry), L2 shared (Redis, when configured). A lookup tries L1, then L2
 * (an L2 hit is copied into L1); a fill writes both. One fill per key at a time: concurrent misses of a key wait for
 * the first one.
 *
 * Neither Redis round trip may slow a miss down: the L2 lookup is abandoned after l2WaitMs (the query goes to a
 * replica; a late answer is dropped), and the L2 write happens after the response is on its way (setImmediate).
 * Redis down costs nothing but the lookups: RedisCache fails fast behind its breaker, errors here count as misses,
 * and queries are served from L1 and the replicas.
 */
import type { Cache } from '../../lib/cache/types.js'
import { invalidationPatterns, MAX_DATE_MS } from '../../lib/routing/cache-key.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/index.js'
import type { ResultL1 } from './l1.js'
import { lookupTallies, type RouterMetrics } from './metrics.js'

export interface CachedResult {
  headers: Record<string, string>
  body: Buffer
  /** Epoch ms after which the entry is stale in every layer. */
  expiresAtMs: number
  replica: string
  /** `headers` as a flat [name, value, …] list, built once when the entry enters L1 (not stored in L2). */
  headerList?: readonly string[]
}

export function flatHeaders(h: Record<string, string>): string[] {
  const out: string[] = []
  for (const k in h) out.push(k, h[k] as string)
  return out
}

export type CacheLayer = 'l1' | 'l2'

/** L2 values: [4-byte length][JSON of headers, expiry, replica][body bytes, as the replica sent them]. */
export function encodeEntry(e: CachedResult): Buffer {
  const meta = JSON.stringify({ h: e.headers, x: e.expiresAtMs, r: e.replica })
  const n = Buffer.byteLength(meta)
  const out = Buffer.allocUnsafe(4 + n + e.body.length)
  out.writeUInt32BE(n, 0)
  out.write(meta, 4, 'utf8')
  e.body.copy(out, 4 + n)
  return out
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

/** Default wait for an L2 answer: several times a healthy Redis round trip, well under any replica query. */
export const DEFAULT_L2_WAIT_MS = 5

export interface ResultCacheOptions {
  l1: ResultL1
  l2: Cache | undefined
  l1TtlS: number
  /** How long a lookup waits for L2 before treating it as a miss (default DEFAULT_L2_WAIT_MS). */
  l2WaitMs?: number
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

  private readonly lookups: ReturnType<typeof lookupTallies>

  constructor(private readonly o: ResultCacheOptions) {
    this.lookups = lookupTallies(o.metrics)
  }

  get hasL2(): boolean {
    return this.o.l2 !== undefined
  }

  /** L1 and then L2. */
  async get(key: string): Promise<{ entry: CachedResult; layer: CacheLayer } | undefined> {
    const now = this.o.clock.now()
    const local = this.getL1(key, now)
    if (local) return { entry: local, layer: 'l1' }
    const shared = await this.getL2(key, now)
    return shared ? { entry: shared, layer: 'l2' } : undefined
  }

  /** The L1 lookup, synchronous: the hit path. The entry is shared, read-only. */
  getL1(key: string, now: number): CachedResult | undefined {
    const e = this.o.l1.get(key, now)
    if (e) this.lookups.l1Hit.n++
    else this.lookups.l1Miss.n++
    return e
  }

  /** The L2 lookup: undefined on a miss, an error, or no answer within l2WaitMs. A hit is copied into L1. */
  async getL2(key: string, now: number): Promise<CachedResult | undefined> {
    const l2 = this.o.l2
    if (!l2) return undefined
    let raw: Buffer | undefined | typeof TOO_SLOW
    try {
      raw = await within(l2.get(key), this.o.l2WaitMs ?? DEFAULT_L2_WAIT_MS)
    } catch (err) {
      this.lookups.l2Error.n++
      this.o.logger.logOnce('l2-get-failed', 'warn', 'L2 cache lookup failed; serving from L1 and replicas', { err })
      return undefined
    }
    if (raw === TOO_SLOW) {
      this.lookups.l2Slow.n++
      this.o.logger.logOnce('l2-get-slow', 'warn', 'L2 cache lookup slower than the wait budget; the query went to a replica', { waitMs: this.o.l2WaitMs ?? DEFAULT_L2_WAIT_MS })
      return undefined
    }
    const e = raw ? decodeEntry(raw) : undefined
    const shared = e && e.expiresAtMs > now ? e : undefined
    if (shared) this.lookups.l2Hit.n++
    else this.lookups.l2Miss.n++
    if (shared) this.o.l1.set(key, shared, Math.max(1, Math.min(this.o.l1TtlS, Math.floor((shared.expiresAtMs - now) / 1000))))
    return shared
  }

  /**
   * Writes L1 now (the next request must find it) and L2 after the current response is on its way (setImmediate:
   * the Redis write never delays an answer). `stillValid` is asked again just before the L2 write (an invalidation
   * may have arrived in between). The promise settles when the L2 write is done (tests); it never rejects.
   */
  set(key: string, entry: CachedResult, ttlS: number, stillValid: () => boolean = () => true): Promise<void> {
    this.o.l1.set(key, entry, Math.min(this.o.l1TtlS, ttlS))
    this.o.metrics.cacheWrites.inc(L1_WRITE_OK)
    const l2 = this.o.l2
    if (!l2) return Promise.resolve()
    return new Promise<void>((resolve) => setImmediate(() => void this.writeL2(l2, key, entry, ttlS, stillValid).then(resolve)))
  }

  private async writeL2(l2: Cache, key: string, entry: CachedResult, ttlS: number, stillValid: () => boolean): Promise<void> {
    if (!stillValid()) return
    try {
      await l2.set(key, encodeEntry(entry), ttlS)
      this.o.metrics.cacheWrites.inc(L2_WRITE_OK)
    } catch (err) {
      this.o.metrics.cacheWrites.inc(L2_WRITE_ERROR)
      this.o.logger.logOnce('l2-set-failed', 'warn', 'L2 cache write failed; the result stays in L1 only', { err })
    }
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
    for (const pattern of patterns) l1 += this.o.l1.del(pattern)
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

const TOO_SLOW = Symbol('too slow')

/**
 * `p`, or TOO_SLOW when it has not settled within `ms` (p keeps running; its late result is dropped). The verdict
 * waits for the poll phase after the timer (setImmediate): when the event loop itself is late, an answer that came
 * in meanwhile is read first and wins, so a busy router does not mistake its own lag for a slow Redis.
 */
function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TOO_SLOW> {
  let timer: NodeJS.Timeout | undefined
  let immediate: NodeJS.Immediate | undefined
  const slow = new Promise<typeof TOO_SLOW>((resolve) => (timer = setTimeout(() => (immediate = setImmediate(resolve, TOO_SLOW)), ms)))
  return Promise.race([p, slow]).finally(() => {
    clearTimeout(timer)
    if (immediate) clearImmediate(immediate)
  })
}

// Label objects built once (writes happen on every miss).
const L1_WRITE_OK = { layer: 'l1', result: 'ok' }
const L2_WRITE_OK = { layer: 'l2', result: 'ok' }
const L2_WRITE_ERROR = { layer: 'l2', result: 'error' }
