/**
 * Fits the calibration tables (src/lib/detection/calibration-tables.ts) on anomaly-free generated series:
 *   npx tsx models/calibrate.ts [--series N]
 * (fit-calibration.ts says which baselines each tier is fitted on). Rerun after changing a detector or
 * the model; test/unit/detector-calibration.test.ts fails when the tables no longer fit.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { resolveConfig } from '../src/lib/config/index.js'
import type { CalibrationTable } from '../src/lib/detection/calibration.js'
import { fitTables } from '../src/lib/detection/fit-calibration.js'
import { loadRobustModel } from '../src/lib/detection/onnx/session.js'
import { defaultModelPath, engineSettingsFrom } from '../src/lib/detection/settings.js'
import { silentLogger } from '../src/lib/telemetry/index.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const arg = process.argv.indexOf('--series')
const perKind = arg > 0 ? Number(process.argv[arg + 1]) : 300

const { config } = await resolveConfig({ cwd: here, env: {} })
const settings = engineSettingsFrom(config.detector)
const loaded = await loadRobustModel({ path: defaultModelPath(), device: 'cpu', threads: 1, logger: silentLogger })
if (!loaded.ok) throw new Error(loaded.reason)

const tables = await fitTables(settings, { model: loaded.model, perKind })
await loaded.model.close()

const fmt = (t: CalibrationTable): string =>
  `{ detector: '${t.detector}', raw: [${t.raw.map((v) => Number(v.toPrecision(5))).join(', ')}], fittedOn: ${t.fittedOn} }`
const body = `/**
 * Calibration tables of every detector statistic (see calibration.ts), fitted by \`npx tsx models/calibrate.ts\`
 * on anomaly-free series from the project's generator (synthetic.ts). test/unit/detector-calibration.test.ts
 * re-fits on fresh series and fails when these drift from what the detectors now produce.
 * Generated file: edit models/calibrate.ts, not this.
 */
import type { CalibrationTable } from './calibration.js'

export const CALIBRATION_TABLES: Record<'basic' | 'agile' | 'robust', CalibrationTable> = {
  basic: ${fmt(tables.basic)},
  agile: ${fmt(tables.agile)},
  robust: ${fmt(tables.robust)},
}
`
const file = path.resolve(here, '../src/lib/detection/calibration-tables.ts')
await writeFile(file, body)
console.log(body)
