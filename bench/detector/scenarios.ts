/**
 * The detector benchmark's scenarios (bench/detector/detector.ts runs them and prints the table):
 * - engine throughput per tier: points already decoded, scored by the DetectionEngine, checks/s of wall and of
 *   this process's CPU time (per core); the robust tier batched (64) and unbatched (1);
 * - the limit beside it: raw `InferenceSession.run` on windows of the same shape and batch size, the tensor
 *   made once outside the timing: only what the model itself costs per window. The engine side includes
 *   everything else a point costs (series lookup, validation, the statistics kept as the fallback, the window
 *   copy, the batcher, a Tensor per batch, calibration, hysteresis) and is checked to run full batches only;
 * - memory per 100K active series, per tier.
 */
import { performance } from 'node:perf_hooks'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import * as ort from 'onnxruntime-node'
import { DetectionEngine, type EngineSettings } from '../../src/lib/detection/engine.js'
import type { RobustModel } from '../../src/lib/detection/onnx/session.js'
import { SR, SR_INPUT } from '../../src/lib/detection/onnx/spectral-residual.js'
import { gaussian, rng } from '../../src/lib/detection/synthetic.js'
import type { MetricPoint, TierName } from '../../src/lib/detection/types.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

export interface Throughput {
  scenario: string
  points: number
  wallS: number
  cpuS: number
  perS: number
  perCoreS: number
  batch?: number
  /** Robust tier: mean windows per model run in the timed part (must equal `batch` for a fair comparison). */
  meanBatch?: number
}

const MIN = 60_000
const T0 = Date.now() - 30 * 24 * 3_600_000

/** Points i0..i1 of `series` series, interleaved by time (as a bus delivers them); daily-like pattern of period 96. */
export function makePoints(series: number, i0: number, i1: number, seasonal: boolean): MetricPoint[] {
  const out: MetricPoint[] = new Array((i1 - i0) * series)
  const rand = rng(i0 * 31 + series)
  let k = 0
  for (let i = i0; i < i1; i++) {
    const tsNs = (BigInt(T0 + i * MIN) * 1_000_000n).toString()
    for (let s = 0; s < series; s++) {
      const season = seasonal ? 20 * Math.sin((2 * Math.PI * (i + s)) / 96) : 0
      out[k++] = { tenant: 't', series: `m{id=${s}}`, metric: 'm', service: 'svc', tsNs, value: 100 + season + gaussian(rand) }
    }
  }
  return out
}

/** Points per engine.process() call (a bus batch); a multiple of 64, so offline model batches are all full. */
const BUS_BATCH = 1024

/**
 * Runs whole bus batches of `points` through the engine and measures wall and CPU time; returns how many it
 * ran (the rest, less than one bus batch, is for the next call).
 */
async function timed(engine: DetectionEngine, points: MetricPoint[]): Promise<{ ran: number; wallS: number; cpuS: number }> {
  const ran = points.length - (points.length % BUS_BATCH)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < ran; i += BUS_BATCH) await engine.process(points.slice(i, i + BUS_BATCH))
  const wallS = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  return { ran, wallS, cpuS: (c.user + c.system) / 1e6 }
}

export async function engineThroughput(
  label: string,
  tier: TierName,
  settings: EngineSettings,
  opts: { series: number; warm: number; seconds: number; model?: RobustModel; maxBatch?: number; seasonal?: boolean },
): Promise<Throughput> {
  const s: EngineSettings = { ...settings, defaultTier: tier, routes: [], robust: { ...settings.robust, maxBatch: opts.maxBatch ?? settings.robust.maxBatch } }
  let scored = 0
  let fallbacks = 0
  let batches = 0
  let windows = 0
  const engine = new DetectionEngine(s, {
    offline: true,
    ...(opts.model ? { model: opts.model } : {}),
    hooks: {
      point: (o, n) => void (o === 'scored' && (scored += n)),
      fallback: (_, n) => void (fallbacks += n),
      batch: (size) => {
        batches++
        windows += size
      },
    },
  })
  // Warm every series past its warm-up (not timed), then time rounds of fresh points until `seconds` have passed.
  await engine.process(makePoints(opts.series, 0, opts.warm, opts.seasonal ?? false))
  scored = 0
  batches = windows = 0
  let i = opts.warm
  let points = 0
  let wallS = 0
  let cpuS = 0
  const round = Math.max(1, Math.ceil(20_000 / opts.series))
  let left: MetricPoint[] = []
  while (wallS < opts.seconds) {
    const pts = left.concat(makePoints(opts.series, i, i + round, opts.seasonal ?? false))
    i += round
    const t = await timed(engine, pts)
    left = pts.slice(t.ran)
    points += t.ran
    wallS += t.wallS
    cpuS += t.cpuS
  }
  // Every timed point must have been a real check, not a warm-up skip.
  if (scored < points) throw new Error(`${label}: only ${scored} of ${points} timed points were scored`)
  // …and, for the robust tier, scored by the model (a fallback would be measuring the statistics instead).
  if (fallbacks > 0) throw new Error(`${label}: ${fallbacks} windows fell back to the statistical tier`)
  // …in full batches only: the raw figure it is compared with runs exactly maxBatch windows per call.
  if (tier === 'robust' && windows !== batches * s.robust.maxBatch) {
    throw new Error(`${label}: ${windows} windows in ${batches} runs, not all full batches of ${s.robust.maxBatch}`)
  }
  await engine.close()
  const robust = tier === 'robust' ? { batch: s.robust.maxBatch, meanBatch: windows / batches } : {}
  return { scenario: label, points, wallS, cpuS, perS: points / wallS, perCoreS: points / cpuS, ...robust }
}

/** The limit: InferenceSession.run on prepared windows of the same shape, nothing else. */
export async function rawOrt(modelPath: string, batch: number, seconds: number): Promise<Throughput> {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  })
  const pts = makePoints(batch, 0, SR.window, false)
  const data = new Float32Array(batch * SR.window)
  for (let k = 0; k < pts.length; k++) data[(k % batch) * SR.window + Math.floor(k / batch)] = pts[k]!.value
  const tensor = new ort.Tensor('float32', data, [batch, SR.window])
  for (let i = 0; i < 50; i++) await session.run({ [SR_INPUT]: tensor })
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  let runs = 0
  while (performance.now() - t0 < seconds * 1000) {
    await session.run({ [SR_INPUT]: tensor })
    runs++
  }
  const wallS = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  const cpuS = (c.user + c.system) / 1e6
  await session.release()
  const points = runs * batch
  return { scenario: `raw InferenceSession.run, batch ${batch}`, points, wallS, cpuS, perS: points / wallS, perCoreS: points / cpuS, batch }
}

export interface MemoryFigure {
  tier: TierName
  series: number
  bytesPerSeries: number
  mbPer100K: number
}

/** Heap + array buffers held by an engine with `series` active series, per series and per 100K. */
export async function memoryPerSeries(tier: TierName, settings: EngineSettings, series: number, model?: RobustModel): Promise<MemoryFigure> {
  const used = (): number => {
    gc()
    gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }
  const before = used()
  const engine = new DetectionEngine({ ...settings, defaultTier: tier, routes: [], maxSeries: series }, { offline: true, ...(model ? { model } : {}) })
  // Enough points that every per-series structure is full (statistics window; the model window is allocated whole).
  const fill = tier === 'basic' ? settings.window + 2 : tier === 'robust' ? SR.window + 2 : 8
  for (let i = 0; i < fill; i += 4) await engine.process(makePoints(series, i, Math.min(fill, i + 4), tier === 'agile'))
  const after = used()
  if (engine.seriesCount !== series) throw new Error(`memory: ${engine.seriesCount} series held, expected ${series}`)
  const bytesPerSeries = (after - before) / series
  await engine.close()
  return { tier, series, bytesPerSeries, mbPer100K: (bytesPerSeries * 100_000) / 1024 / 1024 }
}
