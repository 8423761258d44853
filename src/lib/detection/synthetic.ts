/**
 * The project's labelled synthetic series: the tests, `aiops detector eval --synthetic`, the calibration fit
 * and the benchmarks all draw from here, with a seed, so every figure can be reproduced.
 *
 * Baselines: `noisy` (a level with AR(1) noise and a slow random-walk drift) and `seasonal` (a two-harmonic
 * daily-like pattern of period 48–144 points plus noise). One anomaly per series, placed at 65–88 % of its
 * length (after warm-up and ≥ 3 periods of history), sized in units of the noise's standard deviation σ:
 *   spike / dip        one point ± 6–12 σ                       window [t, t + 3 steps]
 *   level_shift        ± 5–10 σ from t on                       window [t, t + 15 steps]
 *   trend_change       a slope of ± 0.15–0.3 σ/step for 150 steps, level kept after   window [t, t + 150]
 *   variance_change    noise × 4–6 for 150 steps                window [t, t + 150]
 *   seasonal_break     one period flattened to its mean, or shifted by half a period (seasonal only)
 *   missing_data       no anomaly: 1–3 gaps of 5–40 points; any alarm on it is a false positive
 *   none               nothing: the false-positive baseline
 */

export type AnomalyKind = 'spike' | 'dip' | 'level_shift' | 'trend_change' | 'variance_change' | 'seasonal_break' | 'missing_data' | 'none'
export type Baseline = 'noisy' | 'seasonal'

export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'spike',
  'dip',
  'level_shift',
  'trend_change',
  'variance_change',
  'seasonal_break',
  'missing_data',
  'none',
]
export const BASELINES: readonly Baseline[] = ['noisy', 'seasonal']

export interface SyntheticSeries {
  /** Relative path it is written as, e.g. `spike/noisy-003.csv`. */
  name: string
  kind: AnomalyKind
  baseline: Baseline
  timestampsMs: number[]
  values: number[]
  /** Labelled anomaly windows [startMs, endMs] (inclusive). */
  windows: Array<[number, number]>
  /** Seasonal period in points (0 for noisy baselines). */
  period: number
}

export interface SyntheticOptions {
  seed?: number
  /** Series per (kind, baseline) pair. */
  perKind?: number
  length?: number
  intervalMs?: number
  startMs?: number
  kinds?: readonly AnomalyKind[]
  baselines?: readonly Baseline[]
}

/** mulberry32: small, fast, and the same sequence on every platform. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
}

const uniform = (rand: () => number, lo: number, hi: number): number => lo + (hi - lo) * rand()
const sign = (rand: () => number): number => (rand() < 0.5 ? -1 : 1)

export function generateDataset(opts: SyntheticOptions = {}): SyntheticSeries[] {
  const rand = rng(opts.seed ?? 42)
  const out: SyntheticSeries[] = []
  for (const kind of opts.kinds ?? ANOMALY_KINDS) {
    for (const baseline of opts.baselines ?? BASELINES) {
      if (kind === 'seasonal_break' && baseline !== 'seasonal') continue
      for (let i = 0; i < (opts.perKind ?? 5); i++) {
        const s = generateSeries(kind, baseline, rand, opts)
        s.name = `${kind}/${baseline}-${String(i).padStart(3, '0')}.csv`
        out.push(s)
      }
    }
  }
  return out
}

export function generateSeries(kind: AnomalyKind, baseline: Baseline, rand: () => number, opts: SyntheticOptions = {}): SyntheticSeries {
  const n = opts.length ?? 1400
  const step = opts.intervalMs ?? 60_000
  const t0 = opts.startMs ?? 1_700_000_000_000
  const level = 10 ** uniform(rand, 1, 3)
  const seasonal = baseline === 'seasonal'
  const amp = seasonal ? level * uniform(rand, 0.2, 0.5) : 0
  const period = seasonal ? [48, 96, 144][Math.floor(rand() * 3)]! : 0
  const phase = rand() * 2 * Math.PI
  const sigma = seasonal ? amp * uniform(rand, 0.05, 0.15) : level * uniform(rand, 0.02, 0.08)
  const at = Math.floor(n * uniform(rand, 0.65, 0.88))
  const size = uniform(rand, 0, 1)
  const dir = sign(rand)
  const breakKind = rand() < 0.5 ? 'flat' : 'shift'
  const pattern = (i: number): number =>
    seasonal ? amp * (Math.sin((2 * Math.PI * i) / period + phase) + 0.3 * Math.sin((4 * Math.PI * i) / period + 2 * phase)) : 0

  const values: number[] = []
  let ar = 0
  let drift = 0
  for (let i = 0; i < n; i++) {
    let noiseScale = 1
    if (kind === 'variance_change' && i >= at && i < at + 150) noiseScale = 4 + 2 * size
    ar = 0.3 * ar + Math.sqrt(1 - 0.09) * gaussian(rand)
    if (!seasonal) drift += 0.02 * sigma * gaussian(rand)
    let season = pattern(i)
    if (kind === 'seasonal_break' && i >= at && i < at + period) season = breakKind === 'flat' ? 0 : pattern(i + period / 2)
    let v = level + drift + season + sigma * noiseScale * ar
    if (kind === 'spike' && i === at) v += (6 + 6 * size) * sigma
    if (kind === 'dip' && i === at) v -= (6 + 6 * size) * sigma
    if (kind === 'level_shift' && i >= at) v += dir * (5 + 5 * size) * sigma
    if (kind === 'trend_change' && i >= at) v += dir * (0.15 + 0.15 * size) * sigma * Math.min(i - at, 150)
    values.push(v)
  }
  const span = { spike: 3, dip: 3, level_shift: 15, trend_change: 150, variance_change: 150, seasonal_break: period } as const
  const windows: Array<[number, number]> = kind in span ? [[t0 + at * step, t0 + (at + span[kind as keyof typeof span]) * step]] : []

  const keep = new Array<boolean>(n).fill(true)
  if (kind === 'missing_data') {
    const gaps = 1 + Math.floor(rand() * 3)
    for (let g = 0; g < gaps; g++) {
      const start = Math.floor(uniform(rand, 0.3, 0.9) * n)
      const len = 5 + Math.floor(rand() * 36)
      for (let i = start; i < Math.min(n, start + len); i++) keep[i] = false
    }
  }
  const timestampsMs: number[] = []
  const kept: number[] = []
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue
    timestampsMs.push(t0 + i * step)
    kept.push(values[i]!)
  }
  return { name: `${kind}/${baseline}.csv`, kind, baseline, timestampsMs, values: kept, windows, period }
}
