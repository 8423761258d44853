/**
 * Cache keys, TTLs and invalidation patterns for query results.
 *
 * TTL by data age, from the design documents: a range that ended < 1 h ago lives 60 s, < 1 day 300 s, < 7 days
 * 3600 s, older 86 400 s; a range ending within the last minute (data still arriving) is never cached, and neither
 * is a query without an end bound (it reads up to "now").
 *
 * The key is `rq:<tenant>:<buckets>|:<hash>`. The hash covers the normalized (rewritten, comment-free) query, the
 * tenant, the resolved range, the format, settings and parameters. The bucket list names the time buckets the range
 * covers — hours for ranges up to 48 h, days up to 92 days, months up to 20 years, `a` for an open start — so that
 * "late data arrived for tenant T in [f, t]" becomes a few glob patterns (`rq:T:*|h<hour>|*`) that both cache layers
 * can delete by (Cache.del), from any router instance, without an index of keys kept anywhere.
 */
import { hash } from 'node:crypto'

const HOUR = 3_600_000
const DAY = 86_400_000
export const NEVER_CACHE_WITHIN_MS = 60_000
/** The last instant a JavaScript Date can hold. */
export const MAX_DATE_MS = 8_640_000_000_000_000

/** Seconds to keep a result of a range ending at `toMs`; undefined when it must not be cached. */
export function ttlForRange(toMs: number | undefined, nowMs: number): number | undefined {
  if (toMs === undefined) return undefined
  const age = nowMs - toMs
  if (age < NEVER_CACHE_WITHIN_MS) return undefined
  if (age < HOUR) return 60
  if (age < DAY) return 300
  if (age < 7 * DAY) return 3600
  return 86_400
}

export interface KeyParts {
  tenant: string
  sql: string
  format: string
  fromMs: number | undefined
  toMs: number
  /** Forwarded settings and query parameters; order does not matter. */
  settings: Record<string, string>
  params: Record<string, string>
}

const monthIndex = (ms: number): number => {
  const d = new Date(ms)
  return d.getUTCFullYear() * 12 + d.getUTCMonth()
}

/** The bucket tokens of a cached range, e.g. `|h493001|h493002`. */
export function bucketTokens(fromMs: number | undefined, toMs: number): string {
  if (fromMs === undefined || fromMs > toMs) return '|a'
  const span = toMs - fromMs
  const list = (prefix: string, a: number, b: number): string => {
    let s = ''
    for (let x = a; x <= b; x++) s += `|${prefix}${x}`
    return s
  }
  if (span <= 48 * HOUR) return list('h', Math.floor(fromMs / HOUR), Math.floor(toMs / HOUR))
  if (span <= 92 * DAY) return list('d', Math.floor(fromMs / DAY), Math.floor(toMs / DAY))
  if (span <= 240 * 30 * DAY) return list('m', monthIndex(fromMs), monthIndex(toMs))
  return '|a'
}

export function cacheKey(p: KeyParts): string {
  // One string, hashed in one call: the same bytes as feeding the parts one by one, without a crossing into the
  // hash implementation per part (this runs on every miss, and on hits of queries whose range moves).
  let input = `${p.tenant}\0${p.sql}\0${p.format}\0${p.fromMs ?? '-'}..${p.toMs}\0`
  for (const [k, v] of Object.entries(p.settings).sort(([a], [b]) => (a < b ? -1 : 1))) input += `s:${k}=${v}\0`
  for (const [k, v] of Object.entries(p.params).sort(([a], [b]) => (a < b ? -1 : 1))) input += `p:${k}=${v}\0`
  return `rq:${p.tenant}:${bucketTokens(p.fromMs, p.toMs)}|:${hash('sha256', input, 'hex').slice(0, 40)}`
}

/**
 * Glob patterns deleting every cached result of `tenant` whose range overlaps [fromMs, toMs] (and, where a bucket
 * list would be too long, every result of that class: over-invalidation only costs a recomputation).
 */
export function invalidationPatterns(tenant: string, fromMs: number, toMs: number): string[] {
  fromMs = Math.max(0, Math.min(fromMs, MAX_DATE_MS))
  toMs = Math.max(fromMs, Math.min(toMs, MAX_DATE_MS))
  const out = [`rq:${tenant}:|a|*`]
  const each = (prefix: string, a: number, b: number, max: number): void => {
    if (b - a + 1 > max) {
      out.push(`rq:${tenant}:|${prefix}*`)
      return
    }
    for (let x = a; x <= b; x++) out.push(`rq:${tenant}:*|${prefix}${x}|*`)
  }
  each('h', Math.floor(fromMs / HOUR), Math.floor(toMs / HOUR), 72)
  each('d', Math.floor(fromMs / DAY), Math.floor(toMs / DAY), 31)
  each('m', monthIndex(fromMs), monthIndex(toMs), 24)
  return out
}

/**
 * Ingested data newer than this cannot overlap any live cache entry: an entry is only written for a range that
 * ended ≥ 60 s before it was written, so every live entry ends before now − 60 s. A margin covers clock skew.
 */
export function canSkipInvalidation(fromMs: number, nowMs: number, skewMs = 5_000): boolean {
  return fromMs > nowMs - NEVER_CACHE_WITHIN_MS + skewMs
}
