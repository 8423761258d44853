/**
 * Resolved configuration (`detector.*`) → the engine's settings, and where the shipped model lives.
 * Parsing the tier and rule lists here makes a bad entry fail at start with the field named.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AiopsConfig } from '../config/index.js'
import { ConfigError } from '../errors.js'
import type { EngineSettings } from './engine.js'
import { SR, SR_MODEL_NAME } from './onnx/spectral-residual.js'
import { parseRules, parseTierRoutes } from './routing.js'

export type DetectorConfig = AiopsConfig['detector']

export function engineSettingsFrom(d: DetectorConfig): EngineSettings {
  if (d.closeScore >= d.openScore) {
    throw new ConfigError('detector.closeScore', `detector.closeScore (${d.closeScore}) must be below detector.openScore (${d.openScore})`)
  }
  return {
    defaultTier: d.defaultTier,
    routes: parseTierRoutes(d.tiers),
    rules: parseRules(d.rules),
    maxSeries: d.maxSeries,
    warmup: d.warmupPoints,
    window: d.windowPoints,
    alpha: d.ewmaAlpha,
    maxGapPoints: d.maxGapPoints,
    seasonal: { minPeriod: d.agile.minPeriod, maxPeriod: d.agile.maxPeriod, minAcf: d.agile.minAcf },
    modelWindow: SR.window,
    hysteresis: {
      openScore: d.openScore,
      closeScore: d.closeScore,
      closeAfter: d.closeAfterPoints,
      updateIntervalMs: d.updateIntervalS * 1000,
    },
    robust: {
      maxBatch: d.robust.maxBatch,
      maxWaitMs: d.robust.maxWaitMs,
      capacity: d.robust.queueCapacity,
      deadlineMs: d.robust.deadlineMs,
      maxInFlight: d.robust.maxInFlight,
    },
  }
}

/** models/spectral-residual.onnx of this installation (src/lib/detection or dist/lib/detection → ../../../models). */
export function defaultModelPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../models', `${SR_MODEL_NAME}.onnx`)
}

/** The configured model path (relative paths against cwd), or the shipped one. */
export function modelPathFrom(d: DetectorConfig, cwd = process.cwd()): string {
  return d.robust.modelPath === '' ? defaultModelPath() : path.resolve(cwd, d.robust.modelPath)
}
