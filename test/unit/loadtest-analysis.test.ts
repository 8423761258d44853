import { describe, expect, it } from 'vitest'
import type { TimelinePoint } from '../../src/lib/loadgen/aggregate.js'
import { findKnee, soakDrift, spikeRecovery, type StepResult } from '../../src/lib/loadgen/analysis.js'

const step = (rate: number, ok: boolean, breached: string[] = []): StepResult => ({
  name: `step ${rate}`, rate, achievedRps: rate * 0.99, requests: rate * 10, errorRate: 0, dropRate: 0, p50: 1, p95: 2, p99: 3, ok, breached, thresholds: [],
})
const point = (t: number, p99: number | null, errorRate = 0): TimelinePoint => ({
  t, widthS: 1, targetRps: 100, rps: 100, errorsPerS: 0, droppedPerS: 0, errorRate,
  latency: { count: 100, min: 1, mean: 2, p50: 1, p90: 2, p95: 2, p99, p999: p99, max: p99 }, statuses: {},
})

describe('stress knee', () => {
  it('is the last passing step before the first failing one', () => {
    expect(findKnee([step(100, true), step(200, true), step(300, false, ['p99<100ms (actual 180ms)'])])).toEqual({
      rate: 200, achievedRps: 198, breakingRate: 300, breaking: ['p99<100ms (actual 180ms)'],
    })
  })
  it('is null when the first step already fails, and above the top when none fails', () => {
    expect(findKnee([step(100, false, ['x'])]).rate).toBeNull()
    expect(findKnee([step(100, true), step(200, true)])).toMatchObject({ rate: 200, breakingRate: null })
  })
})

describe('spike recovery', () => {
  const phase = { spikeFromS: 10, spikeToS: 15 }
  it('counts seconds from the spike end until p99 stays near the baseline for 3 s', () => {
    const timeline = [
      ...Array.from({ length: 10 }, (_, t) => point(t, 10)),
      ...Array.from({ length: 5 }, (_, i) => point(10 + i, 400)),
      point(15, 300), point(16, 120), point(17, 14), point(18, 40), point(19, 12), point(20, 13), point(21, 11), point(22, 10),
    ]
    // Limit max(1.5 × 10, 10 + 5) = 15 ms: 17 ok, 18 not, then 19-21 hold → recovered at 19, 4 s after the spike.
    expect(spikeRecovery(timeline, phase, { p99: 10, errorRate: 0 }, 400)).toEqual({ baselineP99: 10, spikeP99: 400, recoveryS: 4, recovered: true })
  })
  it('is not recovered while errors stay above the baseline', () => {
    const timeline = Array.from({ length: 10 }, (_, i) => point(15 + i, 10, 0.05))
    expect(spikeRecovery(timeline, phase, { p99: 10, errorRate: 0 }, 400)).toMatchObject({ recovered: false, recoveryS: null })
  })
})

describe('soak drift', () => {
  it('compares the last window with the first and fits a p99 trend per hour', () => {
    const w = (i: number, p99: number, errorRate = 0) => ({ name: `w${i}`, fromS: i * 360, toS: (i + 1) * 360, requests: 1000, p50: p99 / 4, p99, errorRate })
    const d = soakDrift([w(0, 10), w(1, 12), w(2, 14), w(3, 16, 0.01)])
    expect(d.p99Change).toBeCloseTo(0.6, 9)
    expect(d.p50Change).toBeCloseTo(0.6, 9)
    expect(d.errorRateChange).toBeCloseTo(0.01, 9)
    // +2 ms every 0.1 h → 20 ms/h.
    expect(d.p99SlopeMsPerHour).toBeCloseTo(20, 6)
  })
  it('ignores empty windows', () => {
    const d = soakDrift([{ name: 'a', fromS: 0, toS: 1, requests: 0, p50: null, p99: null, errorRate: 0 }])
    expect(d.p99Change).toBeNull()
    expect(d.p99SlopeMsPerHour).toBeNull()
  })
})
