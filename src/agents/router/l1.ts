/**
 * The router's L1: query results in process, kept decoded. A hit is the hottest path of the router, so an entry is
 * stored as the object the response is written from (headers, body Buffer, the response's header list built once)
 * and handed out without a copy or a parse: callers must treat it as read-only.
 *
 * A TTL LRU bounded by entry count and bytes, like src/lib/cache's MemoryCache (which stores Buffers and copies them
 * on every get, because its callers may mutate what they get): a Map iterates in insertion order, so re-inserting a
 * key keeps the least recently used entry first. Deletion by the same glob patterns as Redis, for invalidation
 * (rq:<tenant>:*|h<hour>|*).
 */
import { globToRegExp } from '../../lib/cache/memory.js'
import type { Clock } from '../../lib/resilience/clock.js'
import { flatHeaders, type CachedResult } from './cache.js'

export interface ResultL1Options {
  maxEntries: number
  maxBytes: number
  clock: Clock
}

interface Slot {
  result: CachedResult
  /** L1's own expiry (at most router.cache.l1TtlS), never later than the result's. */
  expiresAt: number
  size: number
  /** When it was last moved to the recent end of the LRU order. */
  touched: number
}

/** Per-entry bookkeeping (Map slot, header strings, object headers) counted against maxBytes besides key and body. */
const ENTRY_OVERHEAD = 256

export class ResultL1 {
  private readonly entries = new Map<string, Slot>()
  private bytes = 0
  private clock = 0

  constructor(private readonly o: ResultL1Options) {}

  /** The live entry of `key`, or undefined. The result is shared: do not mutate it. */
  get(key: string, now: number): CachedResult | undefined {
    const slot = this.entries.get(key)
    if (slot === undefined) return undefined
    if (slot.expiresAt <= now) {
      this.remove(key, slot)
      return undefined
    }
    // LRU, approximately: a hit moves its entry to the recent end only once it has drifted into the older half, so
    // the hot entries of a dashboard cost one lookup per hit and still never reach the eviction end.
    if (this.clock - slot.touched > this.entries.size / 2) {
      this.entries.delete(key)
      this.entries.set(key, slot)
      slot.touched = ++this.clock
    }
    return slot.result
  }

  /** Stores `result` for at most `ttlS` seconds (and never past its expiresAtMs). A result over maxBytes is dropped. */
  set(key: string, result: CachedResult, ttlS: number): void {
    const old = this.entries.get(key)
    if (old !== undefined) this.remove(key, old)
    const size = key.length + result.body.length + ENTRY_OVERHEAD
    if (size > this.o.maxBytes) return
    const expiresAt = Math.min(this.o.clock.now() + ttlS * 1000, result.expiresAtMs)
    this.entries.set(key, { result: { ...result, body: own(result.body), headerList: flatHeaders(result.headers) }, expiresAt, size, touched: ++this.clock })
    this.bytes += size
    this.evict()
  }

  /** Deletes the keys matching a Redis glob pattern; returns how many live entries were deleted. */
  del(pattern: string): number {
    const re = globToRegExp(pattern)
    const now = this.o.clock.now()
    let deleted = 0
    for (const [key, slot] of this.entries) {
      if (!re.test(key)) continue
      this.remove(key, slot)
      if (slot.expiresAt > now) deleted++
    }
    return deleted
  }

  stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes }
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
  }

  private evict(): void {
    for (const [key, slot] of this.entries) {
      if (this.entries.size <= this.o.maxEntries && this.bytes <= this.o.maxBytes) return
      this.remove(key, slot)
    }
  }

  private remove(key: string, slot: Slot): void {
    this.entries.delete(key)
    this.bytes -= slot.size
  }
}

/**
 * The body as a Buffer of its own: a small Buffer can be a slice of a shared 8 KiB pool slab, which would then stay
 * alive, uncounted, as long as the entry.
 */
function own(body: Buffer): Buffer {
  if (body.byteOffset === 0 && body.buffer.byteLength === body.length) return body
  const copy = Buffer.allocUnsafeSlow(body.length)
  body.copy(copy)
  return copy
}
