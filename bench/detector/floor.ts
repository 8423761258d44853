/**
 * The floor under the robust tier's cost per point, for the detector benchmark: the least work a point needs
 * besides the model, written as one plain loop — find its series (tenant, then series), read its timestamp,
 * keep the statistical fallback warm (score the point against the window, then add it), shift the model window
 * and copy it into the batch's input — plus one calibration per model score. Nothing else: no validation, gap
 * handling or warm-up, no batcher, deadlines or breaker, no point results, fallback bookkeeping or hysteresis.
 * Its ratio to raw `InferenceSession.run` bounds what any bookkeeping design reaches on the machine it runs on.
 */
import { performance } from 'node:perf_hooks'
import * as ort from 'onnxruntime-node'
import { Calibration } from '../../src/lib/detection/calibration.js'
import { CALIBRATION_TABLES } from '../../src/lib/detection/calibration-tables.js'
import type { EngineSettings } from '../../src/lib/detection/engine.js'
import { SR, SR_INPUT, SR_OUTPUT } from '../../src/lib/detection/onnx/spectral-residual.js'
import { BasicState, type StatOutput } from '../../src/lib/detection/robust-stats.js'
import type { MetricPoint } from '../../src/lib/detection/types.js'
import { makePoints, type Throughput } from './scenarios.js'

class FloorSeries {
  readonly window = new Float32Array(SR.window)
  constructor(readonly basic: BasicState) {}
}

export async function robustFloor(modelPath: string, settings: EngineSettings, opts: { series: number; batch: number; seconds: number }): Promise<Throughput> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' })
  const W = SR.window
  const B = opts.batch
  const cal = new Calibration(CALIBRATION_TABLES.robust)
  const table = new Map<string, Map<string, FloorSeries>>()
  const input = new Float32Array(B * W)
  const scores = new Float64Array(B)
  const stat: StatOutput = { raw: 0, expected: 0, scale: 0 }
  let rows = 0
  let lastTsNs = ''
  let lastTsMs = 0
  let sink = 0

  const run = async (points: readonly MetricPoint[]): Promise<void> => {
    for (const p of points) {
      let bySeries = table.get(p.tenant)
      if (!bySeries) table.set(p.tenant, (bySeries = new Map()))
      let st = bySeries.get(p.series)
      if (!st) bySeries.set(p.series, (st = new FloorSeries(new BasicState(settings.window, settings.alpha))))
      if (p.tsNs !== lastTsNs) lastTsMs = Number((lastTsNs = p.tsNs)) / 1e6
      const x = p.value
      if (st.basic.size > 0) st.basic.score(x, stat)
      st.basic.push(x)
      st.window.copyWithin(0, 1)
      st.window[W - 1] = x
      input.set(st.window, rows * W)
      if (++rows < B) continue
      const out = await session.run({ [SR_INPUT]: new ort.Tensor('float32', input, [B, W]) })
      const raw = out[SR_OUTPUT]!.data as Float32Array
      for (let k = 0; k < B; k++) scores[k] = cal.score(raw[k]!)
      rows = 0
    }
    sink += stat.raw + lastTsMs + scores[0]!
  }

  // Warm up as the engine scenario does (not timed), then time rounds of fresh points.
  await run(makePoints(opts.series, 0, 80, false))
  const round = Math.max(1, Math.ceil(20_000 / opts.series))
  let i = 80
  let points = 0
  let wallS = 0
  let cpuS = 0
  while (wallS < opts.seconds) {
    const pts = makePoints(opts.series, i, i + round, false)
    i += round
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await run(pts)
    wallS += (performance.now() - t0) / 1000
    const c = process.cpuUsage(c0)
    cpuS += (c.user + c.system) / 1e6
    points += pts.length
  }
  await session.release()
  if (!Number.isFinite(sink)) throw new Error('floor: non-finite scores')
  return { scenario: `robust floor (minimal), batch ${B}`, points, wallS, cpuS, perS: points / wallS, perCoreS: points / cpuS, batch: B }
}
