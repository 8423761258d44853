/**
 * Calibration tables of every detector statistic (see calibration.ts), fitted by `npx tsx models/calibrate.ts`
 * on anomaly-free series from the project's generator (synthetic.ts). test/unit/detector-calibration.test.ts
 * re-fits on fresh series and fails when these drift from what the detectors now produce.
 * Generated file: edit models/calibrate.ts, not this.
 */
import type { CalibrationTable } from './calibration.js'

export const CALIBRATION_TABLES: Record<'basic' | 'agile' | 'robust', CalibrationTable> = {
  basic: { detector: 'ewma-mad', raw: [1.0817, 2.2924, 3.6571, 4.908, 6.0938], fittedOn: 414000 },
  agile: { detector: 'seasonal-phase', raw: [1.084, 2.3202, 3.7263, 4.9889, 6.2896], fittedOn: 331480 },
  robust: { detector: 'spectral-residual', raw: [0.52446, 1.5851, 3.129, 4.4156, 5.5486], fittedOn: 802200 },
}
