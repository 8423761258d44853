/**
 * One score scale for every tier: on fresh anomaly-free series (seeds the tables were not fitted on), a
 * fraction ≈ 1 − s of normal points scores above s, for each tier. Fails when a detector changes without
 * `npx tsx models/calibrate.ts` being rerun (the shipped tables would no longer mean what they say).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Calibration } from '../../src/lib/detection/calibration.js'
import { CALIBRATION_TABLES } from '../../src/lib/detection/calibration-tables.js'
import { normalRawStats } from '../../src/lib/detection/fit-calibration.js'
import { loadRobustModel, type RobustModel } from '../../src/lib/detection/onnx/session.js'
import type { EngineSettings } from '../../src/lib/detection/engine.js'
import { silentLogger } from '../../src/lib/telemetry/index.js'
import { ensureModel } from '../fixtures/detector/ensure-model.js'
import { defaultSettings } from '../fixtures/detector/settings.js'

let model: RobustModel
let settings: EngineSettings
beforeAll(async () => {
  const loaded = await loadRobustModel({ path: await ensureModel(), device: 'cpu', threads: 1, logger: silentLogger })
  if (!loaded.ok) throw new Error(loaded.reason)
  model = loaded.model
  settings = await defaultSettings()
})
afterAll(() => model?.close())

describe.each(['basic', 'agile', 'robust'] as const)('%s calibration', (tier) => {
  it('the share of normal points above score s is ≈ 1 − s (within a factor of 2)', { timeout: 60_000 }, async () => {
    const raw = await normalRawStats(tier, settings, { model, perKind: 40, seed: 777 })
    const cal = new Calibration(CALIBRATION_TABLES[tier])
    expect(raw.length).toBeGreaterThan(30_000)
    for (const s of [0.9, 0.99, 0.999]) {
      const share = raw.filter((r) => cal.score(r) > s).length / raw.length
      expect(share, `${tier}: share above ${s}`).toBeGreaterThan((1 - s) / 2)
      expect(share, `${tier}: share above ${s}`).toBeLessThan((1 - s) * 2)
    }
  })
})
