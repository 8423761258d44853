/**
 * The fallback chain around the real ONNX session: inference failing at run time (injected around the real
 * ORT session) opens the ml_inference breaker within 5 failures, every window is still scored (statistically,
 * degradation level 1, on the records too), and the breaker closes again after 30 s and 2 good trial batches.
 * A full batcher queue degrades the same way, counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DetectionEngine, type EngineSettings, type FallbackReason } from '../../src/lib/detection/engine.js'
import { loadRobustModel, type RobustModel } from '../../src/lib/detection/onnx/session.js'
import { gaussian, rng } from '../../src/lib/detection/synthetic.js'
import type { MetricPoint } from '../../src/lib/detection/types.js'
import { breakerDefaults, CircuitBreaker, ManualClock } from '../../src/lib/resilience/index.js'
import { silentLogger } from '../../src/lib/telemetry/index.js'
import { ensureModel } from '../fixtures/detector/ensure-model.js'
import { defaultSettings } from '../fixtures/detector/settings.js'

/** The real model, with a switch that makes run() throw like a crashing execution provider. */
class FaultInjected implements RobustModel {
  failing = false
  calls = 0
  failures = 0
  constructor(private readonly inner: RobustModel) {}
  get device() {
    return this.inner.device
  }
  get window() {
    return this.inner.window
  }
  async run(windows: Float32Array, batch: number): Promise<Float32Array> {
    this.calls++
    if (this.failing) {
      this.failures++
      throw new Error('onnxruntime: injected execution failure')
    }
    return this.inner.run(windows, batch)
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

const SERIES = 16
const MIN = 60_000
/** Points `from`..`to` of SERIES noisy series, interleaved as a bus would deliver them; spikes where asked. */
function points(from: number, to: number, spikeAt = -1): MetricPoint[] {
  const out: MetricPoint[] = []
  for (let i = from; i < to; i++) {
    for (let s = 0; s < SERIES; s++) {
      const rand = rng(1000 * s + i)
      out.push({
        tenant: 't',
        series: `s${s}`,
        metric: 'latency',
        service: 'api',
        tsNs: (BigInt(1_700_000_000_000 + i * MIN) * 1_000_000n).toString(),
        value: 100 + gaussian(rand) + (i === spikeAt && s === 0 ? 40 : 0),
      })
    }
  }
  return out
}

let model: FaultInjected
let settings: EngineSettings
beforeAll(async () => {
  const loaded = await loadRobustModel({ path: await ensureModel(), device: 'cpu', threads: 1, logger: silentLogger })
  if (!loaded.ok) throw new Error(loaded.reason)
  model = new FaultInjected(loaded.model)
  settings = { ...(await defaultSettings()), defaultTier: 'robust' }
})
afterAll(() => model?.close())

describe('ml_inference breaker and the statistical fallback', () => {
  it('opens within 5 failed batches, scores every window statistically meanwhile, and closes after recovery', async () => {
    const clock = new ManualClock(1_700_000_000_000)
    const breaker = new CircuitBreaker('ml_inference', breakerDefaults.ml_inference, { clock })
    const fallbacks: Partial<Record<FallbackReason, number>> = {}
    const engine = new DetectionEngine(
      { ...settings, robust: { ...settings.robust, maxBatch: 8 } },
      { model, breaker, clock, offline: true, hooks: { fallback: (r, n) => (fallbacks[r] = (fallbacks[r] ?? 0) + n) } },
    )

    const healthy = await engine.process(points(0, 100), { keepResults: true })
    expect(healthy.results.filter((r) => !r.skipped).every((r) => r.tier === 'robust')).toBe(true)
    expect(engine.degradation.level).toBe(0)

    model.failing = true
    const callsBefore = model.calls
    const failing = await engine.process(points(100, 140, 130), { keepResults: true })
    expect(model.failures).toBe(5) // the 5th failure opened it; no call reached the model after that
    expect(model.calls - callsBefore).toBe(5)
    expect(breaker.state).toBe('open')
    const scored = failing.results.filter((r) => !r.skipped)
    expect(scored).toHaveLength(40 * SERIES) // no window went unscored
    expect(scored.every((r) => r.tier === 'basic' && r.configuredTier === 'robust' && r.detector === 'ewma-mad')).toBe(true)
    expect(fallbacks.inference_error).toBe(5 * 8)
    expect(fallbacks.inference_error! + fallbacks.breaker_open!).toBe(40 * SERIES)
    expect(engine.degradation.level).toBe(1)
    expect(engine.degradation.reasons()).toEqual(['ml_unavailable: ml_inference breaker open'])
    const spike = failing.events.find((e) => e.state === 'open' && e.series === 's0')
    expect(spike).toMatchObject({ series: 's0', tier: 'basic', configuredTier: 'robust', degradation: 1 })

    // Still open: nothing reaches the model until openMs has passed.
    await engine.process(points(140, 150))
    expect(model.calls - callsBefore).toBe(5)

    model.failing = false
    await clock.advance(breakerDefaults.ml_inference.openMs)
    expect(breaker.state).toBe('half_open')
    const recovered = await engine.process(points(150, 160), { keepResults: true })
    expect(breaker.state).toBe('closed') // two successful trial batches
    expect(engine.degradation.level).toBe(0)
    // Once closed, windows are model-scored again.
    expect(recovered.results.filter((r) => !r.skipped).slice(-SERIES).every((r) => r.tier === 'robust')).toBe(true)
    await engine.close()
  })

  it('a full batcher queue falls back per window (counted as queue_full), never drops a point', async () => {
    const fallbacks: Partial<Record<FallbackReason, number>> = {}
    let rejected = 0
    const engine = new DetectionEngine(
      { ...settings, robust: { ...settings.robust, capacity: 10, maxBatch: 64 } },
      { model, offline: true, hooks: { fallback: (r, n) => (fallbacks[r] = (fallbacks[r] ?? 0) + n), rejected: (_, n) => (rejected += n) } },
    )
    const { results } = await engine.process(points(0, 80), { keepResults: true })
    const scored = results.filter((r) => !r.skipped)
    expect(scored.length).toBeGreaterThan(0)
    expect(scored.every((r) => r.score >= 0 && (r.tier === 'robust' || r.tier === 'basic'))).toBe(true)
    expect(fallbacks.queue_full).toBeGreaterThan(0)
    expect(fallbacks.queue_full).toBe(rejected)
    expect(fallbacks, JSON.stringify(fallbacks)).toEqual({ queue_full: rejected })
    expect(scored.filter((r) => r.tier === 'basic')).toHaveLength(fallbacks.queue_full!)
    await engine.close()
  })
})
