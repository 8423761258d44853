/**
 * The detector's degradation level (the design document's hierarchy, 0 full … 4 emergency), derived from
 * named conditions that parts of the agent raise and clear: the model being unavailable or its breaker
 * open (→ 1), the statistical tier failing (→ 2), the store refusing anomaly writes (→ 3), and the bus
 * refusing them as well (→ 4). The level is the worst that applies; `reasons` says why, for /readyz and logs.
 */
import { DEGRADATION_NAMES, DegradationLevel, type DegradationLevelValue } from './types.js'

export type Condition = 'ml_unavailable' | 'statistical_failed' | 'store_failed' | 'bus_failed'

export class Degradation {
  private readonly active = new Map<Condition, string>()
  /** Live condition (e.g. the breaker's state) consulted on every read, besides the raised ones. */
  private readonly probes: Array<() => [Condition, string] | undefined> = []
  private lastLevel: DegradationLevelValue = DegradationLevel.full

  constructor(private readonly onChange?: (level: DegradationLevelValue, from: DegradationLevelValue, reasons: string[]) => void) {}

  raise(c: Condition, reason: string): void {
    this.active.set(c, reason)
    this.check()
  }

  clear(c: Condition): void {
    if (this.active.delete(c)) this.check()
  }

  addProbe(probe: () => [Condition, string] | undefined): void {
    this.probes.push(probe)
  }

  conditions(): Map<Condition, string> {
    const all = new Map(this.active)
    for (const p of this.probes) {
      const c = p()
      if (c && !all.has(c[0])) all.set(c[0], c[1])
    }
    return all
  }

  get level(): DegradationLevelValue {
    return this.check()
  }

  reasons(): string[] {
    return [...this.conditions()].map(([c, r]) => `${c}: ${r}`)
  }

  describe(): string {
    const level = this.level
    const reasons = this.reasons()
    return `level ${level} ${DEGRADATION_NAMES[level]}${reasons.length ? `: ${reasons.join('; ')}` : ''}`
  }

  private check(): DegradationLevelValue {
    const c = this.conditions()
    let level: DegradationLevelValue = DegradationLevel.full
    if (c.has('store_failed') && c.has('bus_failed')) level = DegradationLevel.emergency
    else if (c.has('store_failed') || c.has('bus_failed')) level = DegradationLevel.minimal
    else if (c.has('statistical_failed')) level = DegradationLevel.noMl
    else if (c.has('ml_unavailable')) level = DegradationLevel.reducedMl
    if (level !== this.lastLevel) {
      const from = this.lastLevel
      this.lastLevel = level
      this.onChange?.(level, from, this.reasons())
    }
    return level
  }
}
