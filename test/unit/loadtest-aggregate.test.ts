import { describe, expect, it } from 'vitest'
import { Aggregator, MAX_POINTS } from '../../src/lib/loadgen/aggregate.js'
import { createHistogram, encodeHistogram, recordMs, summarize } from '../../src/lib/loadgen/hdr.js'
import type { IntervalSnapshot } from '../../src/lib/loadgen/recorder.js'

function snap(second: number, completed: number, latencyMs: number): IntervalSnapshot {
  const h = createHistogram('interval')
  for (let i = 0; i < completed; i++) recordMs(h, latencyMs)
  return { second, scheduled: completed, dropped: 0, completed, errors: 0, bytes: 0, events: 0, statuses: { '200': completed }, latency: encodeHistogram(h) }
}

describe('Aggregator (coordinator-side merge)', () => {
  it('a second is final only once every worker has shipped past it', () => {
    const agg = new Aggregator(2, [])
    agg.add(0, [snap(0, 10, 1)], 1)
    expect(agg.advance()).toHaveLength(0) // worker 1 has not reported second 0 yet
    agg.add(1, [snap(0, 5, 3)], 1)
    const out = agg.advance()
    expect(out.map((b) => [b.second, b.completed])).toEqual([[0, 15]])
    expect(summarize(agg.total.hist).max).toBeCloseTo(3, 1)
    agg.add(0, [snap(1, 10, 1)], 2)
    agg.finish(1)
    expect(agg.advance().map((b) => b.second)).toEqual([1])
    expect(agg.total.completed).toBe(25)
  })

  it('fills profile windows with the seconds that lie in them (after the settle time)', () => {
    const agg = new Aggregator(1, [
      { name: 'a', kind: 'step', fromS: 0, toS: 3, rate: 1, settleS: 1 },
      { name: 'b', kind: 'step', fromS: 3, toS: 5, rate: 2, settleS: 0 },
    ])
    agg.add(0, [0, 1, 2, 3, 4].map((s) => snap(s, 1, s + 1)), 5)
    agg.advance()
    expect(agg.windows[0]!.completed).toBe(2) // seconds 1 and 2; second 0 is settling
    expect(agg.windows[1]!.completed).toBe(2)
    expect(summarize(agg.windows[1]!.hist).min).toBeCloseTo(4, 1)
  })

  it(`keeps at most ${MAX_POINTS} timeline points, merging neighbours exactly`, () => {
    const agg = new Aggregator(1, [])
    const n = MAX_POINTS * 2 + 50
    for (let s = 0; s < n; s++) {
      agg.add(0, [snap(s, 2, 1 + (s % 7))], s + 1)
      agg.advance()
    }
    expect(agg.timeline.length).toBeLessThanOrEqual(MAX_POINTS)
    expect(agg.timeline.reduce((sum, b) => sum + b.completed, 0)).toBe(2 * n)
    expect(agg.timeline[0]!.widthS).toBeGreaterThan(1)
    expect(agg.timeline.every((b, i) => i === 0 || b.second === agg.timeline[i - 1]!.second + agg.timeline[i - 1]!.widthS)).toBe(true)
  })
})
