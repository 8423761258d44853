/**
 * The statistics under the tiers: the streaming median/MAD equals a brute-force one on every window; the agile
 * tier finds a seasonal period and refuses one where there is none; calibration is monotone and invertible.
 */
import { describe, expect, it } from 'vitest'
import { Calibration, fitCalibration, QUANTILES } from '../../src/lib/detection/calibration.js'
import { CALIBRATION_TABLES } from '../../src/lib/detection/calibration-tables.js'
import { BasicState, type StatOutput } from '../../src/lib/detection/robust-stats.js'
import { AgileState, detectPeriod } from '../../src/lib/detection/seasonal.js'
import { gaussian, rng } from '../../src/lib/detection/synthetic.js'

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

describe('BasicState (robust streaming statistics)', () => {
  it('keeps the median and MAD of the last `window` values exactly, through duplicates and outliers', () => {
    const rand = rng(3)
    for (const window of [5, 8, 32]) {
      const st = new BasicState(window, 0.3)
      const seen: number[] = []
      for (let i = 0; i < 400; i++) {
        // Rounded values make many ties; every 37th value is a wild outlier.
        const x = i % 37 === 0 ? 1e6 * (rand() - 0.5) : Math.round(10 * gaussian(rand)) / 2
        st.push(x)
        seen.push(x)
        const w = seen.slice(-window)
        const med = median(w)
        expect(st.median()).toBeCloseTo(med, 12)
        const mad = median(w.map((v) => Math.abs(v - med)))
        if (mad > 0) expect(st.scale(med)).toBeCloseTo(1.4826 * mad, 9)
      }
    }
  })

  it('scores an outlier far above ordinary points, and a constant series still has a (tiny) scale', () => {
    const rand = rng(4)
    const st = new BasicState(32, 0.3)
    for (let i = 0; i < 64; i++) st.push(100 + gaussian(rand))
    const out: StatOutput = { raw: 0, expected: 0, scale: 0 }
    st.score(100.5, out)
    const normal = out.raw
    st.score(110, out)
    expect(out.raw).toBeGreaterThan(5)
    expect(normal).toBeLessThan(2)
    expect(out.expected).toBeCloseTo(100, 0)
    const flat = new BasicState(8, 0.3)
    for (let i = 0; i < 8; i++) flat.push(7)
    expect(flat.scale(7)).toBeGreaterThan(0)
    flat.score(7, out)
    expect(out.raw).toBe(0)
  })

  it('the EWMA part catches a small sustained shift that no single point shows', () => {
    const rand = rng(5)
    const st = new BasicState(32, 0.3)
    for (let i = 0; i < 64; i++) st.push(gaussian(rand))
    const out: StatOutput = { raw: 0, expected: 0, scale: 0 }
    let maxRaw = 0
    let maxPointZ = 0
    for (let i = 0; i < 12; i++) {
      const x = 2 + 0.1 * gaussian(rand) // 2σ: unremarkable as one point
      st.score(x, out)
      maxRaw = Math.max(maxRaw, out.raw)
      maxPointZ = Math.max(maxPointZ, Math.abs(x - out.expected) / out.scale)
      st.push(x)
    }
    expect(maxPointZ).toBeLessThan(3)
    expect(maxRaw).toBeGreaterThan(1.5 * maxPointZ)
  })
})

describe('seasonality (agile tier)', () => {
  const settings = { minPeriod: 4, maxPeriod: 100, minAcf: 0.3 }

  it('finds the period of a noisy seasonal series, and none in noise or a random walk', () => {
    const rand = rng(6)
    for (const period of [12, 24, 48]) {
      const v = Float64Array.from({ length: 300 }, (_, i) => 10 * Math.sin((2 * Math.PI * i) / period) + gaussian(rand) + 0.01 * i)
      expect(detectPeriod(v, settings)).toBe(period)
    }
    const noise = Float64Array.from({ length: 300 }, () => gaussian(rand))
    expect(detectPeriod(noise, settings)).toBe(0)
    let walk = 0
    const rw = Float64Array.from({ length: 300 }, () => (walk += gaussian(rand)))
    expect(detectPeriod(rw, settings)).toBe(0)
  })

  it('keeps phases across missing points (NaN slots) and compares with the same phase of past periods', () => {
    const rand = rng(7)
    const P = 24
    const a = new AgileState({ ...settings, window: 32, alpha: 0.3, warmup: 10 })
    const out: StatOutput = { raw: 0, expected: 0, scale: 0 }
    const value = (i: number): number => 50 + 10 * Math.sin((2 * Math.PI * i) / P) + 0.3 * gaussian(rand)
    for (let i = 0; i < 400; i++) {
      if (i >= 200 && i < 205) {
        a.pushMissing(1)
        continue
      }
      a.push(value(i))
    }
    expect(a.period).toBe(P)
    expect(a.ready).toBe(true)
    // The expected value follows the pattern: at a peak phase it is near the peak, not near the mean.
    const peak = 400 + (P / 4 - (400 % P) + P) % P
    for (let i = 400; i < peak; i++) a.push(value(i))
    expect(a.score(60, out)).toBe(true)
    expect(out.expected).toBeGreaterThan(57)
    expect(out.raw).toBeLessThan(4)
    // A flat value where the pattern peaks is a seasonal break even though 50 is the series' own mean.
    expect(a.score(50, out)).toBe(true)
    expect(out.raw).toBeGreaterThan(8)
  })
})

describe('calibration', () => {
  it('is monotone, maps each knot to its quantile, and rawFor inverts score', () => {
    for (const table of Object.values(CALIBRATION_TABLES)) {
      const cal = new Calibration(table)
      table.raw.forEach((r, i) => expect(cal.score(r)).toBeCloseTo(QUANTILES[i]!, 9))
      let prev = -1
      for (let x = 0; x < 3 * table.raw.at(-1)!; x += 0.01) {
        const s = cal.score(x)
        expect(s).toBeGreaterThanOrEqual(prev)
        expect(s).toBeLessThan(1)
        prev = s
      }
      for (const s of [0.3, 0.5, 0.95, 0.999, 0.9999, 0.99999]) expect(cal.score(cal.rawFor(s))).toBeCloseTo(s, 9)
      expect(cal.score(NaN)).toBe(0)
    }
  })

  it('fits the quantiles of what it is given', () => {
    const rand = rng(8)
    const z = Array.from({ length: 200_000 }, () => Math.abs(gaussian(rand)))
    const t = fitCalibration('half-normal', z)
    // |N(0,1)| quantiles: 0.674, 1.645, 2.576, 3.291, 3.891
    ;[0.674, 1.645, 2.576, 3.291, 3.891].forEach((q, i) => expect(t.raw[i]).toBeCloseTo(q, i < 3 ? 1 : 0))
    expect(() => fitCalibration('x', [1, 2, 3])).toThrow(/too few/)
  })
})
