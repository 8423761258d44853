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
  /** Raw statistic at openScore per statistical tier: the band's half-width, in scales (fixed, so cached). */
  basicOpenRaw: number
  agileOpenRaw: number
}

export function makeScorers(cal: Pick<Scorers, 'basic' | 'agile' | 'robust'>, openScore: number): Scorers {
  return { ...cal, openScore, basicOpenRaw: cal.basic.rawFor(openScore), agileOpenRaw: cal.agile.rawFor(openScore) }
}

const scratch: StatOutput = { raw: 0, expected: 0, scale: 0 }

/** Scores x (not yet pushed) with the series' statistical tier: agile when it has a period, basic otherwise. */
export function statisticalResult(r: PointResult, st: SeriesState, x: number, s: Scorers): void {
  statisticalStats(r, st, x, s)
  statisticalScore(r, s)
}

/**
 * Everything statisticalResult fills but the calibrated score: the raw statistic, the expected value and band.
 * A robust point needs the score only when the model does not score it (statisticalScore then adds it, from
 * the raw statistic kept in `r`); the statistics themselves must run for every point, since they move the
 * state (the EWMA's clamp) and the band goes on the record either way.
 */
export function statisticalStats(r: PointResult, st: SeriesState, x: number, s: Scorers): void {
  let half: number
  if (st.agile && st.agile.score(x, scratch)) {
    r.tier = 'agile'
    r.detector = 'seasonal-phase'
    half = s.agileOpenRaw * scratch.scale
  } else {
    st.basic.score(x, scratch)
    r.tier = 'basic'
    r.detector = 'ewma-mad'
    half = s.basicOpenRaw * scratch.scale
  }
  r.raw = scratch.raw
  r.expected = scratch.expected
  r.lower = scratch.expected - half
  r.upper = scratch.expected + half
}

/** The calibrated score of a statistical result from its raw statistic (a rules result keeps its own). */
export function statisticalScore(r: PointResult, s: Scorers): void {
  if (r.tier === 'basic') r.score = s.basic.score(r.raw)
  else if (r.tier === 'agile') r.score = s.agile.score(r.raw)
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
