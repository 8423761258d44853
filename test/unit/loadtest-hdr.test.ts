import { describe, expect, it } from 'vitest'
import { createHistogram, encodeHistogram, logBuckets, mergeEncoded, recordMs, summarize } from '../../src/lib/loadgen/hdr.js'

describe('HDR latency histograms', () => {
  it('merging workers\' encoded histograms gives what one histogram of all samples gives', () => {
    const all = createHistogram()
    const parts = [createHistogram(), createHistogram(), createHistogram('interval')]
    let seed = 7
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647)
    for (let i = 0; i < 30_000; i++) {
      const ms = Math.exp(rnd() * 8) / 10 // 0.1 ms … 300 ms, long-tailed
      recordMs(all, ms)
      recordMs(parts[i % 3]!, ms)
    }
    const merged = summarize(mergeEncoded(parts.map(encodeHistogram)))
    const direct = summarize(all)
    expect(merged.count).toBe(30_000)
    for (const k of ['p50', 'p90', 'p99', 'p999', 'max'] as const) {
      // The 2-significant-digit interval part bounds the error at ~1%.
      expect(Math.abs(merged[k]! - direct[k]!) / direct[k]!).toBeLessThan(0.011)
    }
  })

  it('an empty histogram has no percentiles (null, not 0)', () => {
    const s = summarize(createHistogram())
    expect(s.count).toBe(0)
    expect(s.p99).toBeNull()
    expect(logBuckets(createHistogram())).toEqual([])
  })

  it('keeps 3 significant digits from microseconds to an hour, and clamps beyond', () => {
    const h = createHistogram()
    recordMs(h, 0.0004) // below 1 µs → 1 µs
    recordMs(h, 1.234)
    recordMs(h, 7_200_000) // two hours → one hour
    const s = summarize(h)
    expect(s.min).toBeCloseTo(0.001, 6)
    expect(s.p50).toBeCloseTo(1.234, 2)
    expect(s.max!).toBeCloseTo(3_600_000, -4)
  })

  it('log buckets hold every sample', () => {
    const h = createHistogram()
    for (let i = 1; i <= 1000; i++) recordMs(h, i / 10)
    const b = logBuckets(h, 20)
    expect(b).toHaveLength(20)
    expect(b.reduce((s, x) => s + x.count, 0)).toBe(1000)
    expect(b[19]!.leMs).toBeCloseTo(100, 0)
  })
})
