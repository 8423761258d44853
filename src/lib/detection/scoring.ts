/**
 * Filling a point's result from the statistical tiers or the static rules. Each tier's raw statistic goes
 * through its calibration, so the score means the same whichever tier produced it; the expected band is
 * the range of values that would have scored below the open threshold (expected ± raw-at-threshold × scale).
 */
import type { Calibration } from './calibration.js'
import type { StatOutput } from './robust-stats.js'
import { breaches, type StaticRule } from './routing.js'
import type { SeriesState } from './series-state.js'
import type { PointResult } from './types.js'

export interface Scorers {
  basic: Calibration
  agile: Calibration
  robust: Calibration
  openScore: number
}

const scratch: StatOutput = { raw: 0, expected: 0, scale: 0 }
const halfWidths = new WeakMap<Calibration, Map<number, number>>()

/** Raw statistic at the open threshold, cached per calibration. */
function rawAtOpen(cal: Calibration, openScore: number): number {
  let m = halfWidths.get(cal)
  if (!m) halfWidths.set(cal, (m = new Map()))
  let v = m.get(openScore)
  if (v === undefined) m.set(openScore, (v = cal.rawFor(openScore)))
  return v
}

/** Scores x (not yet pushed) with the series' statistical tier: agile when it has a period, basic otherwise. */
export function statisticalResult(r: PointResult, st: SeriesState, x: number, s: Scorers): void {
  let cal: Calibration
  if (st.agile && st.agile.score(x, scratch)) {
    cal = s.agile
    r.tier = 'agile'
    r.detector = 'seasonal-phase'
  } else {
    st.basic.score(x, scratch)
    cal = s.basic
    r.tier = 'basic'
    r.detector = 'ewma-mad'
  }
  r.raw = scratch.raw
  r.score = cal.score(scratch.raw)
  r.expected = scratch.expected
  const half = rawAtOpen(cal, s.openScore) * scratch.scale
  r.lower = scratch.expected - half
  r.upper = scratch.expected + half
}

/** The last resort: static thresholds. A breach scores 1 (an operator declared it abnormal), else 0. */
export function rulesResult(r: PointResult, rules: readonly StaticRule[], x: number): void {
  r.tier = 'rules'
  r.detector = rules.length > 0 ? 'static-threshold' : 'none'
  r.score = 0
  r.raw = 0
  r.expected = NaN
  r.lower = -Infinity
  r.upper = Infinity
  for (const rule of rules) {
    if (!breaches(rule, x)) continue
    r.score = 1
    r.raw = x
    r.expected = rule.threshold
    if (rule.op === '>' || rule.op === '>=') r.upper = rule.threshold
    else r.lower = rule.threshold
    return
  }
}
