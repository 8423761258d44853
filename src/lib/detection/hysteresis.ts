/**
 * Turns a series' stream of scores into anomaly events, so a long incident is one anomaly, not an alert
 * storm: it opens when a score reaches `openScore`; while open, an `update` is emitted at most once per
 * `updateIntervalMs` of series time (and only while still above `openScore`); it closes after `closeAfter`
 * consecutive points below `closeScore` (< openScore: the gap between the two is the hysteresis band that
 * stops a score hovering at the threshold from flapping open/closed).
 */
import { createHash } from 'node:crypto'
import type { AnomalyRecord, AnomalyState, DegradationLevelValue, PointResult } from './types.js'

export interface HysteresisSettings {
  openScore: number
  closeScore: number
  closeAfter: number
  updateIntervalMs: number
}

interface OpenAnomaly {
  id: string
  openedNs: string
  peak: number
  points: number
  below: number
  lastEmitMs: number
}

export class Hysteresis {
  private open: OpenAnomaly | undefined

  get isOpen(): boolean {
    return this.open !== undefined
  }

  reset(): void {
    this.open = undefined
  }

  /** Feeds one scored point; returns the event it causes, if any. */
  step(r: PointResult, tsMs: number, s: HysteresisSettings, degradation: DegradationLevelValue): AnomalyRecord | undefined {
    const a = this.open
    if (!a) {
      if (r.score < s.openScore) return undefined
      const opened: OpenAnomaly = { id: anomalyId(r), openedNs: r.point.tsNs, peak: r.score, points: 1, below: 0, lastEmitMs: tsMs }
      this.open = opened
      return record(r, 'open', opened, degradation)
    }
    if (r.score >= s.closeScore) a.below = 0
    if (r.score >= s.openScore) {
      a.points++
      a.peak = Math.max(a.peak, r.score)
      if (tsMs - a.lastEmitMs >= s.updateIntervalMs) {
        a.lastEmitMs = tsMs
        return record(r, 'update', a, degradation)
      }
      return undefined
    }
    if (r.score < s.closeScore && ++a.below >= s.closeAfter) {
      this.open = undefined
      return record(r, 'close', a, degradation)
    }
    return undefined
  }
}

/** Same series + same opening point → same id, so a replay after a restart re-creates the same anomaly. */
function anomalyId(r: PointResult): string {
  return createHash('sha256').update(`${r.point.tenant}\u0000${r.point.series}\u0000${r.point.tsNs}`).digest('hex').slice(0, 32)
}

function record(r: PointResult, state: AnomalyState, a: OpenAnomaly, degradation: DegradationLevelValue): AnomalyRecord {
  const p = r.point
  return {
    id: a.id,
    state,
    tenant: p.tenant,
    series: p.series,
    metric: p.metric,
    service: p.service,
    tsNs: p.tsNs,
    openedNs: a.openedNs,
    value: r.value,
    expected: r.expected,
    lower: r.lower,
    upper: r.upper,
    score: r.score,
    peakScore: a.peak,
    tier: r.tier,
    configuredTier: r.configuredTier,
    detector: r.detector,
    degradation,
    points: a.points,
    ...(p.receivedMs !== undefined ? { sourceMs: p.receivedMs } : {}),
  }
}
