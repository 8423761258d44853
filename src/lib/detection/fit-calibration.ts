/**
 * Fitting the calibration tables on anomaly-free generated series (models/calibrate.ts writes them into
 * calibration-tables.ts; the calibration test re-fits and compares). basic is fitted on noisy baselines
 * (its nominal use: stationary metrics), agile on seasonal ones (where it has a period), robust on both.
 */
import { fitCalibration, type CalibrationTable } from './calibration.js'
import { DetectionEngine, type EngineSettings } from './engine.js'
import { toPoints } from './evaluate.js'
import type { RobustModel } from './onnx/session.js'
import { generateDataset, type Baseline } from './synthetic.js'
import type { TierName } from './types.js'

export const FIT_PLAN: Record<TierName, { detector: string; baselines: Baseline[]; seed: number }> = {
  basic: { detector: 'ewma-mad', baselines: ['noisy'], seed: 1001 },
  agile: { detector: 'seasonal-phase', baselines: ['seasonal'], seed: 2002 },
  robust: { detector: 'spectral-residual', baselines: ['noisy', 'seasonal'], seed: 3003 },
}

/** Raw statistics a tier produces on normal series (only points that tier itself scored). */
export async function normalRawStats(
  tier: TierName,
  settings: EngineSettings,
  opts: { model?: RobustModel; perKind: number; seed?: number; baselines?: Baseline[] },
): Promise<number[]> {
  const plan = FIT_PLAN[tier]
  const series = generateDataset({ seed: opts.seed ?? plan.seed, perKind: opts.perKind, kinds: ['none'], baselines: opts.baselines ?? plan.baselines })
  const engine = new DetectionEngine({ ...settings, defaultTier: tier, routes: [] }, { offline: true, ...(opts.model ? { model: opts.model } : {}) })
  const out: number[] = []
  for (const s of series) {
    const res = await engine.process(toPoints(s), { keepResults: true })
    for (const r of res.results) if (!r.skipped && r.tier === tier) out.push(r.raw)
  }
  await engine.close()
  return out
}

export async function fitTables(
  settings: EngineSettings,
  opts: { model: RobustModel; perKind: number },
): Promise<Record<TierName, CalibrationTable>> {
  const fit = async (t: TierName): Promise<CalibrationTable> => fitCalibration(FIT_PLAN[t].detector, await normalRawStats(t, settings, opts))
  return { basic: await fit('basic'), agile: await fit('agile'), robust: await fit('robust') }
}
