/**
 * The in-process cache: `aiops up`'s only cache and the router's L1 in front of Redis. A TTL LRU bounded by
 * entry count AND bytes, because query results vary from a few bytes to megabytes and a count bound alone
 * would let a handful of huge results take the process's heap.
 *
 * A Map iterates in insertion order, so deleting and re-inserting a key on every hit keeps the least recently
 * used entry first: get, set and eviction are O(1) with no linked list of our own.
 */
import { AiopsError, UsageError } from '../errors.js'
import { systemClock, type Clock } from '../resilience/clock.js'
import type { HealthResult } from '../bus/types.js'
import type { Cache } from './types.js'

export interface MemoryCacheOptions {
  /** At most this many entries (default 10 000). */
  maxEntries?: number
  /** At most this many bytes of keys (UTF-8) plus values (default 64 MiB). */
  maxBytes?: number
  /** Time source for TTLs; tests pass a ManualClock. */
  clock?: Clock
}

export interface MemoryCacheStats {
  entries: number
  bytes: number
  hits: number
  misses: number
  /** Live (unexpired) entries dropped to make room. Expired entries removed on the way do not count. */
  evictions: number
}

interface Entry {
  value: Buffer
  expiresAt: number
  size: number
}

export class MemoryCache implements Cache {
  readonly kind = 'memory' as const
  private readonly entries = new Map<string, Entry>()
  private readonly maxEntries: number
  private readonly maxBytes: number
  private readonly clock: Clock
  private bytes = 0
  private hits = 0
  private misses = 0
  private evictions = 0
  private closed = false

  constructor(opts: MemoryCacheOptions = {}) {
    this.maxEntries = positiveInt('cache.memory.maxEntries', opts.maxEntries ?? 10_000)
    this.maxBytes = positiveInt('cache.memory.maxBytes', opts.maxBytes ?? 64 * 1024 * 1024)
    this.clock = opts.clock ?? systemClock
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.assertOpen()
    const entry = this.entries.get(key)
    if (entry === undefined) {
      this.misses++
      return undefined
    }
    if (entry.expiresAt <= this.clock.now()) {
      this.remove(key, entry)
      this.misses++
      return undefined
    }
    // Move to the back: the most recently used entry is the last one evicted.
    this.entries.delete(key)
    this.entries.set(key, entry)
    this.hits++
    // A copy, like Redis returns: a caller that mutates its result must not corrupt the cached bytes.
    return Buffer.from(entry.value)
  }

  async set(key: string, value: Buffer, ttlS: number): Promise<void> {
    this.assertOpen()
    validateTtl(ttlS)
    const old = this.entries.get(key)
    if (old !== undefined) this.remove(key, old)
    const size = Buffer.byteLength(key, 'utf8') + value.length
    // An entry that alone exceeds the byte bound is not stored (it would evict everything and then itself).
    // The old value was removed above all the same: keeping it would serve data the caller just replaced.
    if (size > this.maxBytes) return
    // Copy into an unpooled buffer of exactly this size: the caller may reuse its buffer, and a small Buffer
    // can be a slice of a shared 8 KiB pool slab that would then stay alive, uncounted, as long as the entry.
    const copy = Buffer.allocUnsafeSlow(value.length)
    value.copy(copy)
    this.entries.set(key, { value: copy, expiresAt: this.clock.now() + ttlS * 1000, size })
    this.bytes += size
    this.evict()
  }

  async del(pattern: string): Promise<number> {
    this.assertOpen()
    const re = globToRegExp(pattern)
    const now = this.clock.now()
    let deleted = 0
    // Deleting from a Map while iterating it is safe: removed entries are simply not visited.
    for (const [key, entry] of this.entries) {
      if (!re.test(key)) continue
      this.remove(key, entry)
      // Expired keys are already gone as far as callers can tell (Redis would not count them either).
      if (entry.expiresAt > now) deleted++
    }
    return deleted
  }

  async ping(): Promise<HealthResult> {
    return this.closed ? { ok: false, error: 'memory cache is closed' } : { ok: true }
  }

  async close(): Promise<void> {
    this.closed = true
    this.entries.clear()
    this.bytes = 0
  }

  stats(): MemoryCacheStats {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses, evictions: this.evictions }
  }

  /** Drops least recently used entries until both bounds hold. */
  private evict(): void {
    const now = this.clock.now()
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) return
      this.remove(key, entry)
      if (entry.expiresAt > now) this.evictions++
    }
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key)
    this.bytes -= entry.size
  }

  private assertOpen(): void {
    if (this.closed) throw new AiopsError('the memory cache is closed', { code: 'AIOPS_CACHE_CLOSED' })
  }
}

/**
 * TTLs must be positive: a zero or negative TTL is a caller bug (Redis rejects it too), and "no expiry" is not
 * something a cache of query results should offer. Shared by both backends so they fail alike.
 */
export function validateTtl(ttlS: number): void {
  if (!Number.isFinite(ttlS) || ttlS <= 0) {
    throw new UsageError(`cache TTL must be a positive number of seconds, got ${ttlS}`)
  }
}

function positiveInt(field: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${field} must be a positive integer, got ${n}`, { suggestions: [`set ${field} to a number above 0`] })
  }
  return n
}

/** Redis glob semantics for the two wildcards we promise: `*` any run of characters, `?` exactly one. */
export function globToRegExp(pattern: string): RegExp {
  let src = ''
  for (const ch of pattern) {
    if (ch === '*') src += '.*'
    else if (ch === '?') src += '.'
    else src += ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
  }
  // `s`: `.` must match newlines too (keys are arbitrary strings); `u`: `?` is one code point, not half of one.
  return new RegExp(`^${src}$`, 'su')
}
