/**
 * The engine's per-series state: found by tenant, then series, created on first sight with the tier and static
 * rules configured for it, and bounded to `maxSeries` (the least recently seen series is dropped first).
 */
import type { EngineSettings } from './engine.js'
import { rulesFor, tierFor } from './routing.js'
import { type BasicFactory, SeriesState } from './series-state.js'
import type { MetricPoint } from './types.js'

export class SeriesTable {
  /**
   * By tenant, then series: two lookups on the point's own strings are cheaper than one on a joined key, which
   * would be a new string to build and hash for every point.
   */
  private readonly byTenant = new Map<string, Map<string, SeriesState>>()
  /** Every series' state, least recently seen first (see stateFor). */
  private readonly lru = new Set<SeriesState>()
  private readonly moveEvery: number
  private tick = 0

  constructor(
    private readonly s: EngineSettings,
    private readonly basicFactory: BasicFactory,
    private readonly onEvicted?: (n: number) => void,
  ) {
    this.moveEvery = Math.floor(s.maxSeries / 4)
  }

  get size(): number {
    return this.lru.size
  }

  stateFor(p: MetricPoint): SeriesState {
    const tick = ++this.tick
    let bySeries = this.byTenant.get(p.tenant)
    let st = bySeries?.get(p.series)
    if (st) {
      // Re-inserting moves the series to the end of the LRU set's order, so the first entry is the least
      // recently seen. Moving on every point costs a delete + insert; moving only when the last move is older
      // than a quarter of the cap keeps the order exact to within that quarter at a fraction of the cost.
      if (tick - st.movedAt > this.moveEvery) {
        this.lru.delete(st)
        this.lru.add(st)
        st.movedAt = tick
      }
      return st
    }
    const tier = tierFor(this.s.routes, this.s.defaultTier, p.tenant, p.metric)
    st = new SeriesState(p.tenant, p.series, tier, rulesFor(this.s.rules, p.tenant, p.metric), this.s, this.basicFactory)
    st.movedAt = tick
    if (!bySeries) this.byTenant.set(p.tenant, (bySeries = new Map()))
    bySeries.set(p.series, st)
    this.lru.add(st)
    if (this.lru.size > this.s.maxSeries) this.evict()
    return st
  }

  private evict(): void {
    let evicted = 0
    for (const old of this.lru) {
      if (this.lru.size <= this.s.maxSeries) break
      this.lru.delete(old)
      const bySeries = this.byTenant.get(old.tenant)!
      bySeries.delete(old.series)
      if (bySeries.size === 0) this.byTenant.delete(old.tenant)
      evicted++
    }
    this.onEvicted?.(evicted)
  }
}
