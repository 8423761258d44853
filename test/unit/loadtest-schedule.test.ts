import { describe, expect, it } from 'vitest'
import { ArrivalSchedule } from '../../src/lib/loadgen/schedule.js'

describe('ArrivalSchedule (open-model arrival times)', () => {
  it('a constant rate spaces requests 1/rate apart from t = 0', () => {
    const s = new ArrivalSchedule([{ rate: 100, durationS: 2, rampS: 0 }])
    expect(s.totalRequests).toBe(200)
    expect(s.durationS).toBe(2)
    expect(s.timeOf(0)).toBe(0)
    expect(s.timeOf(1)).toBeCloseTo(0.01, 12)
    expect(s.timeOf(150)).toBeCloseTo(1.5, 12)
    expect(s.timeOf(199)).toBeCloseTo(1.99, 12)
    expect(s.timeOf(200)).toBeNull()
    expect(s.timeOf(-1)).toBeNull()
  })

  it('a linear ramp from 0 puts request k at sqrt(2k / slope), the inverse of N(t) = slope·t²/2', () => {
    // 0 → 100 req/s over 10 s: slope 10 req/s², N(10) = 500 requests.
    const s = new ArrivalSchedule([{ rate: 100, durationS: 10, rampS: 10 }])
    expect(s.totalRequests).toBe(500)
    for (const k of [1, 5, 80, 320, 499]) expect(s.timeOf(k)).toBeCloseTo(Math.sqrt((2 * k) / 10), 9)
    expect(s.rateAt(5)).toBeCloseTo(50, 9)
  })

  it('stages chain: a ramp starts at the previous stage rate, then holds', () => {
    const s = new ArrivalSchedule([
      { rate: 10, durationS: 10, rampS: 0 }, // 100 requests
      { rate: 30, durationS: 20, rampS: 10 }, // ramp 10→30 over 10 s (200) + hold 10 s at 30 (300)
    ])
    expect(s.totalRequests).toBe(600)
    expect(s.countBetween(0, 10)).toBeCloseTo(100, 9)
    expect(s.countBetween(10, 20)).toBeCloseTo(200, 9)
    expect(s.countBetween(20, 30)).toBeCloseTo(300, 9)
    // In the ramp, N(τ) = 10τ + τ² (slope 2): request 100 + 24 is due where 10τ + τ² = 24 → τ = 2.
    expect(s.timeOf(124)).toBeCloseTo(12, 9)
    expect(s.rateAt(15)).toBeCloseTo(20, 9)
    expect(s.rateAt(25)).toBe(30)
  })

  it('is monotone and matches countBetween for any order of queries', () => {
    const s = new ArrivalSchedule([
      { rate: 50, durationS: 3, rampS: 1 },
      { rate: 5, durationS: 2, rampS: 2 },
      { rate: 0, durationS: 1, rampS: 0 },
      { rate: 20, durationS: 1, rampS: 0 },
    ])
    let prev = -1
    for (let k = 0; k < s.totalRequests; k++) {
      const t = s.timeOf(k)!
      expect(t).toBeGreaterThanOrEqual(prev)
      prev = t
    }
    // Random access (a cursor reset) gives the same answers.
    expect(s.timeOf(3)).toBeCloseTo(new ArrivalSchedule([{ rate: 50, durationS: 3, rampS: 1 }]).timeOf(3)!, 12)
    // The zero-rate stage sends nothing: no request is due in [5, 6); the last stage sends its 20 in [6, 7).
    const due = Array.from({ length: s.totalRequests }, (_, k) => s.timeOf(k)!)
    expect(due.filter((t) => t >= 5.000001 && t < 6)).toEqual([])
    expect(due.filter((t) => t >= 6 && t < 7)).toHaveLength(20)
  })

  it('workers taking every W-th request cover the global schedule exactly once', () => {
    const s = new ArrivalSchedule([{ rate: 333, durationS: 1.5, rampS: 0.5 }])
    const W = 3
    const seen: number[] = []
    for (let w = 0; w < W; w++) {
      const mine = new ArrivalSchedule([{ rate: 333, durationS: 1.5, rampS: 0.5 }])
      for (let k = w; mine.timeOf(k) !== null; k += W) seen.push(k)
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: s.totalRequests }, (_, k) => k))
  })
})
