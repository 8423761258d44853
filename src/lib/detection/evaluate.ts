/**
 * Offline evaluation of a tier over labelled series (`aiops detector eval`, the tests, the benchmarks).
 * Each series runs through a fresh DetectionEngine exactly as the agent would score it; a *detection* is an
 * anomaly opening (the hysteresis output an operator would be paged by), never a single point's score.
 *
 * Window-based counting: a labelled window with ≥ 1 detection in it is a true positive, a window with none a
 * false negative, a detection inside no window a false positive; precision = TP / (TP + FP), recall =
 * TP / (TP + FN). The early-detection reward follows NAB's standard profile: a detected window earns
 * σ(y) = 2 / (1 + e^{5y}) − 1 for its first detection at relative position y ∈ [−1, 0] (−1 at the window
 * start, 0 at its end), a missed window costs 1, a false positive 0.11; normalised to 100 for every window
 * caught at its start and 0 for detecting nothing. Latency is the engine's wall time per point.
 */
import { performance } from 'node:perf_hooks'
import { DetectionEngine, type EngineOptions, type EngineSettings } from './engine.js'
import type { MetricPoint, PointResult, TierName } from './types.js'

export interface LabeledSeries {
  name: string
  timestampsMs: number[]
  values: number[]
  windows: Array<[number, number]>
  /** Timestamps as written in the input (echoed by --scores-out); defaults to ISO strings. */
  timestampText?: string[]
}

export interface Counts {
  points: number
  windows: number
  truePositives: number
  falseNegatives: number
  falsePositives: number
  /** Anomaly openings (detections). */
  detections: number
  /** Most openings inside one window (1 is ideal; more is an alert storm). */
  maxOpensPerWindow: number
  nabRaw: number
  nabNull: number
  nabPerfect: number
  elapsedMs: number
}

export interface Scores {
  precision: number | null
  recall: number | null
  f1: number | null
  /** NAB-like early-detection score, 0–100 (null without labelled windows). */
  nab: number | null
  /** Microseconds of scoring per point. */
  usPerPoint: number
}

export type FileScore = { file: string } & Counts & Scores
export type TotalScore = Counts & Scores

export interface EvalReport {
  tier: TierName
  files: FileScore[]
  total: TotalScore
}

export interface PointScore {
  timestamp: string
  value: number
  score: number
  tier: string
}

const A_TP = 1
const A_FN = -1
const A_FP = -0.11
const sigma = (y: number): number => 2 / (1 + Math.exp(5 * y)) - 1

export function toPoints(s: LabeledSeries): MetricPoint[] {
  return s.timestampsMs.map((t, i) => ({
    tenant: 'eval',
    series: s.name,
    metric: s.name,
    service: 'eval',
    tsNs: (BigInt(Math.round(t)) * 1_000_000n).toString(),
    value: s.values[i]!,
  }))
}

/** Counts of one series from its detections (opening times, ms) and labelled windows. */
export function countDetections(openings: number[], windows: Array<[number, number]>, points: number, elapsedMs: number): Counts {
  let tp = 0
  let maxOpens = 0
  let nabRaw = 0
  for (const [start, end] of windows) {
    const hits = openings.filter((t) => t >= start && t <= end)
    maxOpens = Math.max(maxOpens, hits.length)
    if (hits.length > 0) {
      tp++
      const y = end > start ? (Math.min(...hits) - end) / (end - start) : -1
      nabRaw += A_TP * sigma(y)
    } else {
      nabRaw += A_FN
    }
  }
  const fp = openings.filter((t) => !windows.some(([s, e]) => t >= s && t <= e)).length
  nabRaw += A_FP * fp
  return {
    points,
    windows: windows.length,
    truePositives: tp,
    falseNegatives: windows.length - tp,
    falsePositives: fp,
    detections: openings.length,
    maxOpensPerWindow: maxOpens,
    nabRaw,
    nabNull: A_FN * windows.length,
    nabPerfect: A_TP * sigma(-1) * windows.length,
    elapsedMs,
  }
}

export function scoresOf(c: Counts): Scores {
  const precision = c.truePositives + c.falsePositives > 0 ? c.truePositives / (c.truePositives + c.falsePositives) : null
  const recall = c.windows > 0 ? c.truePositives / c.windows : null
  const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : precision === null && recall === null ? null : 0
  const nab = c.nabPerfect > c.nabNull ? (100 * (c.nabRaw - c.nabNull)) / (c.nabPerfect - c.nabNull) : null
  return { precision, recall, f1, nab, usPerPoint: c.points > 0 ? (1000 * c.elapsedMs) / c.points : 0 }
}

function sum(files: Counts[]): Counts {
  const t: Counts = {
    points: 0,
    windows: 0,
    truePositives: 0,
    falseNegatives: 0,
    falsePositives: 0,
    detections: 0,
    maxOpensPerWindow: 0,
    nabRaw: 0,
    nabNull: 0,
    nabPerfect: 0,
    elapsedMs: 0,
  }
  for (const f of files) {
    for (const k of Object.keys(t) as Array<keyof Counts>) {
      t[k] = k === 'maxOpensPerWindow' ? Math.max(t[k], f[k]) : t[k] + f[k]
    }
  }
  return t
}

export interface EvaluateOptions {
  tier: TierName
  settings: EngineSettings
  /** Engine options (model, breaker…) for each series' engine; `offline` is forced on. */
  engine?: Omit<EngineOptions, 'offline'>
  /** Collect per-point scores (for --scores-out). */
  keepScores?: boolean
}

export async function evaluate(
  series: readonly LabeledSeries[],
  opts: EvaluateOptions,
): Promise<{ report: EvalReport; scores: Map<string, PointScore[]> }> {
  const files: FileScore[] = []
  const scores = new Map<string, PointScore[]>()
  const settings: EngineSettings = { ...opts.settings, defaultTier: opts.tier, routes: [] }
  for (const s of series) {
    const engine = new DetectionEngine(settings, { ...opts.engine, offline: true })
    const points = toPoints(s)
    const t0 = performance.now()
    const out = await engine.process(points, { keepResults: opts.keepScores === true })
    const elapsed = performance.now() - t0
    await engine.close()
    const openings = out.events.filter((e) => e.state === 'open').map((e) => Number(e.tsNs) / 1e6)
    const counts = countDetections(openings, s.windows, points.length, elapsed)
    files.push({ file: s.name, ...counts, ...scoresOf(counts) })
    if (opts.keepScores) scores.set(s.name, out.results.map((r, i) => pointScore(r, s, i)))
  }
  const total = sum(files)
  return { report: { tier: opts.tier, files, total: { ...total, ...scoresOf(total) } }, scores }
}

function pointScore(r: PointResult, s: LabeledSeries, i: number): PointScore {
  return {
    timestamp: s.timestampText?.[i] ?? new Date(s.timestampsMs[i]!).toISOString(),
    value: r.point.value,
    score: r.score,
    tier: r.skipped ?? r.tier,
  }
}
