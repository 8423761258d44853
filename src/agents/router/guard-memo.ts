/**
 * What the executor remembers per (tenant, SQL text): the guard's rewrite, whether the query's time range moves
 * with the clock, the range when it does not, and the cache keys built for it. Dashboards send the same few queries
 * over and over; parsing, checking and rewriting them is the costly pure part of a request, done once here.
 *
 * Keyed by tenant AND text: the rewrite carries the tenant's id (its rows are the only ones the rewritten query can
 * read), so one tenant's entry must never serve another tenant's request.
 */
import type { GuardedQuery } from '../../lib/routing/guard.js'
import type { TimeRange } from '../../lib/routing/time-range.js'

export interface Guarded {
  g: GuardedQuery
  /** The time range depends on the clock (now(), today(), …) or on {parameters}: resolved per request. */
  moving: boolean
  /** The range of a query whose range does not move (its tokens are dropped from `g` then). */
  range: TimeRange | undefined
  /** Cache keys by format and settings, for queries whose range does not move. */
  keys?: Map<string, string>
}

interface Entry extends Guarded {
  tenant: string
  /** When it was last moved to the recent end of the LRU order. */
  touched: number
}

/**
 * A bounded LRU over SQL texts, each holding the entries of the tenants that sent it (usually one). Looked up by the
 * text as received, with no key string built per request; a hit only moves its text to the recent end when it has
 * drifted into the older half, so most hits cost one lookup.
 */
export class GuardMemo {
  private readonly texts = new Map<string, Entry[]>()
  private count = 0
  private clock = 0

  constructor(private readonly size = 2000) {}

  get(tenant: string, sql: string, make: () => Guarded): Guarded {
    const list = this.texts.get(sql)
    if (list) {
      for (const e of list) {
        if (e.tenant !== tenant) continue
        if (this.clock - e.touched > this.size / 2) {
          this.texts.delete(sql)
          this.texts.set(sql, list)
          e.touched = ++this.clock
        }
        return e
      }
    }
    const entry: Entry = { ...make(), tenant, touched: ++this.clock }
    if (list) list.push(entry)
    else this.texts.set(sql, [entry])
    this.count++
    for (const [text, l] of this.texts) {
      if (this.count <= this.size) break
      this.texts.delete(text)
      this.count -= l.length
    }
    return entry
  }
}

/** A range written with now()/today() or {params} moves; any other is the same on every request. */
export function rangeMoves(g: GuardedQuery): boolean {
  return g.tokens.some((t) => (t.type === 'word' && /^(now|now64|today|yesterday)$/i.test(t.text)) || (t.type === 'op' && t.text === '{'))
}
