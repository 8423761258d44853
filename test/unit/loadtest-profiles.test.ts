import { describe, expect, it } from 'vitest'
import { ConfigError, UsageError } from '../../src/lib/errors.js'
import { buildPlan, parseStage, type ProfileSettings } from '../../src/lib/loadgen/profiles.js'

const base: ProfileSettings = {
  profile: 'baseline',
  rate: 100,
  duration: '',
  stages: [],
  stress: { stepRate: 0, stepDuration: '20s', maxSteps: 5 },
  spike: { multiplier: 10, warmup: '20s', duration: '10s', recovery: '30s' },
  soak: { duration: '30m', windows: 10 },
}

describe('load profiles → stages and windows', () => {
  it('baseline: one steady stage, 30 s by default', () => {
    const p = buildPlan(base)
    expect(p.stages).toEqual([{ rate: 100, durationS: 30, rampS: 0 }])
    expect(p.windows).toHaveLength(1)
    expect(buildPlan({ ...base, duration: '2m' }).durationS).toBe(120)
  })

  it('stress: steps of +rate (or stepRate), each judged after a settle time', () => {
    const p = buildPlan({ ...base, profile: 'stress' })
    expect(p.stages.map((s) => s.rate)).toEqual([100, 200, 300, 400, 500])
    expect(p.windows.map((w) => [w.fromS, w.toS])).toEqual([[0, 20], [20, 40], [40, 60], [60, 80], [80, 100]])
    expect(p.windows[0]!.settleS).toBe(2)
    const q = buildPlan({ ...base, profile: 'stress', stress: { stepRate: 50, stepDuration: '5s', maxSteps: 3 } })
    expect(q.stages.map((s) => s.rate)).toEqual([100, 150, 200])
    expect(q.windows[0]!.settleS).toBe(1)
  })

  it('spike: base, × multiplier, base again, with phase windows', () => {
    const p = buildPlan({ ...base, profile: 'spike' })
    expect(p.stages).toEqual([
      { rate: 100, durationS: 20, rampS: 0 },
      { rate: 1000, durationS: 10, rampS: 0 },
      { rate: 100, durationS: 30, rampS: 0 },
    ])
    expect(p.windows.map((w) => w.name)).toEqual(['before', 'spike', 'after'])
    expect(p.durationS).toBe(60)
  })

  it('soak: the soak duration (unless --duration) cut into windows', () => {
    const p = buildPlan({ ...base, profile: 'soak' })
    expect(p.durationS).toBe(1800)
    expect(p.windows).toHaveLength(10)
    expect(p.windows[9]!.toS).toBe(1800)
    expect(buildPlan({ ...base, profile: 'soak', duration: '40s', soak: { duration: '1h', windows: 4 } }).windows.map((w) => w.toS)).toEqual([10, 20, 30, 40])
  })

  it('custom stages: RATE:DURATION[:RAMP]', () => {
    expect(parseStage('200:30s', 'f')).toEqual({ rate: 200, durationS: 30, rampS: 0 })
    expect(parseStage('500:1m:10s', 'f')).toEqual({ rate: 500, durationS: 60, rampS: 10 })
    const p = buildPlan({ ...base, profile: 'custom', stages: ['10:5s', '50:10s:5s'] })
    expect(p.durationS).toBe(15)
    expect(p.windows.map((w) => [w.name, w.fromS, w.toS, w.settleS])).toEqual([['stage 1', 0, 5, 0], ['stage 2', 5, 15, 5]])
  })

  it.each([['fast:30s'], ['100'], ['100:soon'], ['100:10s:20s'], ['100:0s']])('stage %s is refused naming the field', (text) => {
    expect(() => parseStage(text, 'loadtest.stages')).toThrow(ConfigError)
    try {
      parseStage(text, 'loadtest.stages')
    } catch (e) {
      expect((e as ConfigError).field).toBe('loadtest.stages')
    }
  })

  it('stages with a non-custom profile other than baseline is a usage error', () => {
    expect(() => buildPlan({ ...base, profile: 'stress', stages: ['1:1s'] })).toThrow(UsageError)
    expect(() => buildPlan({ ...base, profile: 'custom' })).toThrow(/needs stages/)
  })
})
