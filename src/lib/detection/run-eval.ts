/**
 * What `aiops detector eval` does after parsing flags: load the data (a folder + labels, or the generator),
 * load the model when the robust tier is asked for, score every series with each tier, optionally write the
 * per-point scores. Robust without a usable model is an error here (an evaluation must say what it ran).
 */
import path from 'node:path'
import { DependencyError } from '../errors.js'
import type { AiopsConfig } from '../config/index.js'
import type { Logger } from '../telemetry/index.js'
import { evaluate, type EvalReport, type LabeledSeries } from './evaluate.js'
import { loadDataset, writeScores } from './eval-files.js'
import { loadRobustModel, type RobustModel } from './onnx/session.js'
import { engineSettingsFrom, modelPathFrom } from './settings.js'
import { generateDataset } from './synthetic.js'
import type { TierName } from './types.js'

export interface RunEvalOptions {
  config: AiopsConfig
  tiers: TierName[]
  dir?: string
  labels?: string
  synthetic?: { seed: number; perKind: number }
  scoresOut?: string
  logger: Logger
}

export interface RunEvalResult {
  source: string
  series: number
  points: number
  reports: EvalReport[]
  scoresWritten: number
  device?: string
}

export async function runEvaluation(o: RunEvalOptions): Promise<RunEvalResult> {
  const data: LabeledSeries[] = o.synthetic ? generateDataset(o.synthetic) : await loadDataset(o.dir!, o.labels)
  const settings = engineSettingsFrom(o.config.detector)
  let model: RobustModel | undefined
  if (o.tiers.includes('robust')) {
    const d = o.config.detector
    const loaded = await loadRobustModel({ path: modelPathFrom(d), device: d.robust.device, threads: d.robust.threads, logger: o.logger })
    if (!loaded.ok) {
      throw new DependencyError('model', `cannot evaluate the robust tier: ${loaded.reason}`, {
        retriable: false,
        suggestions: ['run `aiops detector build-model` (or set detector.robust.modelPath)', 'or evaluate --tier basic / agile'],
      })
    }
    model = loaded.model
  }
  const reports: EvalReport[] = []
  let scoresWritten = 0
  try {
    for (const tier of o.tiers) {
      const { report, scores } = await evaluate(data, {
        tier,
        settings,
        ...(tier === 'robust' && model ? { engine: { model } } : {}),
        keepScores: o.scoresOut !== undefined,
      })
      reports.push(report)
      if (o.scoresOut) {
        const dir = o.tiers.length > 1 ? path.join(o.scoresOut, tier) : o.scoresOut
        scoresWritten += (await writeScores(dir, scores)).length
      }
    }
  } finally {
    await model?.close()
  }
  return {
    source: o.synthetic ? `synthetic (seed ${o.synthetic.seed}, ${o.synthetic.perKind} per kind)` : path.resolve(o.dir!),
    series: data.length,
    points: data.reduce((n, s) => n + s.values.length, 0),
    reports,
    scoresWritten,
    ...(model ? { device: model.device } : {}),
  }
}
