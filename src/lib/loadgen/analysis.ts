/**
 * Verdicts computed from a finished run's windows and timeline: the stress knee, spike recovery time and soak drift.
 * Pure functions over plain numbers, so they are unit-tested with made-up timelines.
 */
import type { TimelinePoint } from './aggregate.js'
import type { ThresholdResult } from './thresholds.js'

export interface StepResult {
  name: string
  rate: number
  achievedRps: number
  requests: number
  errorRate: number
  dropRate: number
  p50: number | null
  p95: number | null
  p99: number | null
  ok: boolean
  /** Expressions that failed in this step. */
  breached: string[]
  thresholds: ThresholdResult[]
}

export interface Knee {
  /** The highest planned rate whose step met every threshold; null if the first step already failed. */
  rate: number | null
  achievedRps: number | null
  /** The step that broke the thresholds (null: every step passed: the knee is above the highest step). */
  breakingRate: number | null
  breaking: string[]
}

/** Steps are in increasing rate order; the knee is the last passing step before the first failing one. */
export function findKnee(steps: readonly StepResult[]): Knee {
  let best: StepResult | null = null
  for (const s of steps) {
    if (!s.ok) return { rate: best?.rate ?? null, achievedRps: best?.achievedRps ?? null, breakingRate: s.rate, breaking: s.breached }
    best = s
  }
  return { rate: best?.rate ?? null, achievedRps: best?.achievedRps ?? null, breakingRate: null, breaking: [] }
}

export interface Recovery {
  /** p99 before the spike (the reference), ms. */
  baselineP99: number | null
  spikeP99: number | null
  /** Seconds from the end of the spike until p99 and the error rate were back near the baseline and stayed there. */
  recoveryS: number | null
  recovered: boolean
}

/**
 * Recovered means: for `hold` consecutive seconds, p99 ≤ max(1.5 × baseline p99, baseline p99 + 5 ms) and the error
 * rate ≤ baseline error rate + 1 percentage point. The tolerance keeps ordinary jitter from reading as "not recovered".
 */
export function spikeRecovery(
  timeline: readonly TimelinePoint[],
  phase: { spikeFromS: number; spikeToS: number },
  baseline: { p99: number | null; errorRate: number },
  spikeP99: number | null,
  hold = 3,
): Recovery {
  const base = baseline.p99
  if (base === null) return { baselineP99: null, spikeP99, recoveryS: null, recovered: false }
  const limit = Math.max(base * 1.5, base + 5)
  const after = timeline.filter((p) => p.t >= phase.spikeToS)
  let streakStart: number | null = null
  let streak = 0
  for (const p of after) {
    const ok = p.latency.p99 !== null && p.latency.p99 <= limit && p.errorRate <= baseline.errorRate + 0.01
    if (ok) {
      if (streakStart === null) streakStart = p.t
      streak += p.widthS
      if (streak >= hold) return { baselineP99: base, spikeP99, recoveryS: streakStart - phase.spikeToS, recovered: true }
    } else {
      streakStart = null
      streak = 0
    }
  }
  return { baselineP99: base, spikeP99, recoveryS: null, recovered: false }
}

export interface SoakWindow {
  name: string
  fromS: number
  toS: number
  requests: number
  p50: number | null
  p99: number | null
  errorRate: number
}

export interface Drift {
  windows: SoakWindow[]
  /** (last window − first window) / first window, as a fraction; null without data. */
  p50Change: number | null
  p99Change: number | null
  errorRateChange: number
  /** Least-squares slope of p99 over the windows, ms per hour: a leak shows as a steady climb. */
  p99SlopeMsPerHour: number | null
}

export function soakDrift(windows: readonly SoakWindow[]): Drift {
  const withData = windows.filter((w) => w.requests > 0)
  const first = withData[0]
  const last = withData[withData.length - 1]
  const change = (a: number | null | undefined, b: number | null | undefined): number | null =>
    a === null || a === undefined || b === null || b === undefined || a === 0 ? null : (b - a) / a
  const pts = withData.filter((w) => w.p99 !== null).map((w) => ({ x: (w.fromS + w.toS) / 2 / 3600, y: w.p99! }))
  return {
    windows: [...windows],
    p50Change: change(first?.p50, last?.p50),
    p99Change: change(first?.p99, last?.p99),
    errorRateChange: (last?.errorRate ?? 0) - (first?.errorRate ?? 0),
    p99SlopeMsPerHour: slope(pts),
  }
}

function slope(pts: ReadonlyArray<{ x: number; y: number }>): number | null {
  if (pts.length < 2) return null
  const n = pts.length
  const mx = pts.reduce((s, p) => s + p.x, 0) / n
  const my = pts.reduce((s, p) => s + p.y, 0) / n
  const sxx = pts.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  if (sxx === 0) return null
  return pts.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx
}
