/**
 * The engine's per-point rules: warm-up, bad values, replays, gaps, the series cap, hysteresis (one anomaly
 * per incident), cumulative counters, the statistical → rules fallback, and config entries that fail loudly.
 */
import { describe, expect, it } from 'vitest'
import { DetectionEngine, type EngineSettings } from '../../src/lib/detection/engine.js'
import { BasicState } from '../../src/lib/detection/robust-stats.js'
import { parseRules, parseTierRoutes, tierFor } from '../../src/lib/detection/routing.js'
import { gaussian, rng } from '../../src/lib/detection/synthetic.js'
import type { MetricPoint } from '../../src/lib/detection/types.js'
import { ConfigError } from '../../src/lib/errors.js'
import { defaultSettings } from '../fixtures/detector/settings.js'

const MIN = 60_000
const point = (series: string, i: number, value: number, extra: Partial<MetricPoint> = {}): MetricPoint => ({
  tenant: 't1',
  series,
  metric: series.split('{')[0]!,
  service: 'svc',
  tsNs: (BigInt(1_700_000_000_000 + i * MIN) * 1_000_000n).toString(),
  value,
  ...extra,
})

function noisy(series: string, n: number, seed: number, at: (i: number) => number = () => 0): MetricPoint[] {
  const rand = rng(seed)
  return Array.from({ length: n }, (_, i) => point(series, i, 100 + gaussian(rand) + at(i)))
}

let base: EngineSettings
const settings = async (over: Partial<EngineSettings> = {}): Promise<EngineSettings> => ({ ...(base ??= await defaultSettings()), ...over })

describe('DetectionEngine', () => {
  it('skips warm-up points, invalid values and replayed timestamps, and scores the rest', async () => {
    const s = await settings()
    const outcomes: Record<string, number> = {}
    const engine = new DetectionEngine(s, { hooks: { point: (o, n) => (outcomes[o] = (outcomes[o] ?? 0) + n) } })
    const pts = noisy('cpu', 100, 1)
    pts[50] = { ...pts[50]!, value: NaN }
    const { results } = await engine.process(pts, { keepResults: true })
    expect(results.slice(0, s.warmup).every((r) => r.skipped === 'warmup')).toBe(true)
    expect(results[50]!.skipped).toBe('invalid')
    expect(results.filter((r) => !r.skipped).every((r) => r.tier === 'basic' && r.score >= 0 && r.score < 1)).toBe(true)
    // The same points again (a bus redelivery): nothing is scored twice.
    const replay = await engine.process(pts.slice(40), { keepResults: true })
    expect(replay.results.map((r) => r.skipped)).toEqual(pts.slice(40).map((p) => (Number.isNaN(p.value) ? 'invalid' : 'stale')))
    expect(replay.events).toEqual([])
    expect(outcomes).toEqual({ warmup: s.warmup, invalid: 2, scored: 100 - s.warmup - 1, stale: 59 })
  })

  it('opens one anomaly for a spike with value, expected band, tier and degradation level, then closes it', async () => {
    const engine = new DetectionEngine(await settings())
    const { events } = await engine.process(noisy('latency', 200, 2, (i) => (i === 120 ? 30 : 0)))
    expect(events.map((e) => e.state)).toEqual(['open', 'close'])
    const [open, close] = events
    expect(open).toMatchObject({ tenant: 't1', series: 'latency', tier: 'basic', configuredTier: 'basic', detector: 'ewma-mad', degradation: 0 })
    expect(open!.tsNs).toBe(point('latency', 120, 0).tsNs)
    expect(open!.value).toBeGreaterThan(125)
    expect(Math.abs(open!.expected - 100)).toBeLessThan(1.5)
    expect(open!.lower).toBeLessThan(100)
    expect(open!.upper).toBeGreaterThan(100)
    expect(open!.upper).toBeLessThan(open!.value)
    expect(open!.score).toBeGreaterThan(0.9999)
    expect(close!.id).toBe(open!.id)
  })

  it('a long anomaly is one anomaly: opens once, updates at most once per updateIntervalS, no storm', async () => {
    const s = await settings({ window: 32 })
    const engine = new DetectionEngine({ ...s, hysteresis: { ...s.hysteresis, updateIntervalMs: 10 * MIN } })
    // A variance explosion lasting 200 points.
    const rand = rng(3)
    const pts = Array.from({ length: 400 }, (_, i) => point('q', i, 100 + gaussian(rand) * (i >= 150 && i < 350 ? 8 : 1)))
    const { events } = await engine.process(pts)
    const opens = events.filter((e) => e.state === 'open')
    expect(opens.length).toBeGreaterThanOrEqual(1)
    expect(opens.length).toBeLessThanOrEqual(2)
    expect(events.filter((e) => e.state === 'update').length).toBeLessThanOrEqual(200 / 10)
  })

  it('restarts a series after a long gap (warm-up again, no alarm on the jump across it)', async () => {
    let resets = 0
    const s = await settings()
    const engine = new DetectionEngine(s, { hooks: { gapReset: () => resets++ } })
    const before = noisy('g', 60, 4)
    const after = noisy('g', 60, 5, () => 50).map((p, i) => point('g', 60 + s.maxGapPoints + 10 + i, p.value))
    const { results, events } = await engine.process([...before, ...after], { keepResults: true })
    expect(resets).toBe(1)
    expect(results[60]!.skipped).toBe('warmup')
    expect(events).toEqual([])
  })

  it('keeps at most maxSeries series, evicting the least recently seen and counting it', async () => {
    let evicted = 0
    const engine = new DetectionEngine(await settings({ maxSeries: 3 }), { hooks: { evicted: (n) => (evicted += n) } })
    await engine.process([point('a', 0, 1), point('b', 0, 1), point('c', 0, 1), point('a', 1, 1), point('d', 0, 1)])
    expect(engine.seriesCount).toBe(3)
    expect(evicted).toBe(1)
    // b was least recently seen (a was touched again): b starts over, a does not.
    const { results } = await engine.process([point('a', 2, 1), point('b', 1, 1)], { keepResults: true })
    expect(results.map((r) => r.skipped)).toEqual(['warmup', 'warmup'])
    expect(evicted).toBe(2) // b came back and pushed c (now the oldest) out
  })

  it('scores cumulative counters by their rate (resets included), not by their ever-growing level', async () => {
    const engine = new DetectionEngine(await settings())
    let total = 0
    const pts: MetricPoint[] = []
    const rand = rng(6)
    for (let i = 0; i < 150; i++) {
      if (i === 100) total = 0 // process restart: the counter resets
      total += 60 * (10 + gaussian(rand) * 0.5) + (i === 130 ? 3000 : 0)
      pts.push(point('requests', i, total, { derive: 'rate' }))
    }
    const { results, events } = await engine.process(pts, { keepResults: true })
    expect(results[0]!.skipped).toBe('warmup') // nothing to difference yet
    expect(results[60]!.value).toBeGreaterThan(8)
    expect(results[60]!.value).toBeLessThan(12)
    expect(events.filter((e) => e.state === 'open').map((e) => e.tsNs)).toEqual([pts[130]!.tsNs])
  })

  it('when the statistical tier throws, static rules score the point (degradation level 2), then recover', async () => {
    let broken = true
    class Flaky extends BasicState {
      override score(...args: Parameters<BasicState['score']>): void {
        if (broken) throw new Error('statistics corrupted')
        super.score(...args)
      }
    }
    const s = await settings({ rules: parseRules(['latency>500']) })
    const engine = new DetectionEngine(s, { basicFactory: (w, a) => new Flaky(w, a) })
    const pts = noisy('latency', 60, 7, (i) => (i === 40 ? 1000 : 0))
    const { results, events } = await engine.process(pts, { keepResults: true })
    const scored = results.filter((r) => !r.skipped)
    expect(scored.every((r) => r.tier === 'rules' && r.detector === 'static-threshold')).toBe(true)
    expect(results[40]!.score).toBe(1)
    expect(events[0]).toMatchObject({ state: 'open', tier: 'rules', degradation: 2, expected: 500 })
    expect(engine.degradation.level).toBe(2)
    broken = false
    await engine.process(noisy('latency', 70, 8).slice(60))
    expect(engine.degradation.level).toBe(0)
  })
})

describe('tier routing and rules (config)', () => {
  it('routes by tenant/metric glob, first match wins, else the default tier', () => {
    const routes = parseTierRoutes(['acme/http.*=robust', '*.queue.depth=agile', 'http.server.duration=basic'])
    expect(tierFor(routes, 'basic', 'acme', 'http.server.duration')).toBe('robust')
    expect(tierFor(routes, 'basic', 'other', 'http.server.duration')).toBe('basic')
    expect(tierFor(routes, 'basic', 'other', 'jobs.queue.depth')).toBe('agile')
    expect(tierFor(routes, 'agile', 'other', 'cpu')).toBe('agile')
  })

  it('a bad entry is a ConfigError naming the field and the accepted form', () => {
    expect(() => parseTierRoutes(['http.*=turbo'])).toThrow(ConfigError)
    try {
      parseTierRoutes(['http.*=turbo'])
    } catch (err) {
      expect((err as ConfigError).field).toBe('detector.tiers')
      expect((err as ConfigError).message).toMatch(/"http\.\*=turbo" is not "\[tenant\/\]metricGlob=tier"/)
      expect((err as ConfigError).suggestions[0]).toMatch(/basic, agile, robust/)
    }
    expect(() => parseRules(['latency >> 5'])).toThrow(/detector\.rules: "latency >> 5" is not/)
    expect(parseRules(['acme/q.depth >= 1e3'])[0]).toMatchObject({ op: '>=', threshold: 1000 })
  })

  it('closeScore must be below openScore', async () => {
    await expect(defaultSettings({ AIOPS_DETECTOR_CLOSE_SCORE: '0.9999', AIOPS_DETECTOR_OPEN_SCORE: '0.999' })).rejects.toThrow(/detector\.closeScore/)
  })
})
