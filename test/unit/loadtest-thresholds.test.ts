import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/lib/errors.js'
import type { LatencySummary } from '../../src/lib/loadgen/hdr.js'
import { defaultThresholds, describeResult, evaluate, parseThreshold, type Measurement } from '../../src/lib/loadgen/thresholds.js'

const lat = (p: Partial<LatencySummary>): LatencySummary => ({ count: 100, min: 1, mean: 5, p50: 4, p90: 8, p95: 10, p99: 50, p999: 90, max: 120, ...p })
const m = (over: Partial<Measurement> = {}): Measurement => ({ latency: lat({}), requests: 100, errorRate: 0, dropRate: 0, rps: 100, ...over })

describe('threshold expressions', () => {
  it.each([
    ['p99<200ms', 'p99', '<', 200],
    ['p(95) <= 0.5s', 'p95', '<=', 500],
    ['p99.9<1s', 'p99.9', '<', 1000],
    ['p999<250', 'p99.9', '<', 250],
    ['max<2m', 'max', '<', 120_000],
    ['avg<300us', 'mean', '<', 0.3],
    ['med<5ms', 'p50', '<', 5],
    ['error_rate<1%', 'error_rate', '<', 0.01],
    ['errors<=0.001', 'error_rate', '<=', 0.001],
    ['drop_rate<0.5%', 'drop_rate', '<', 0.005],
    ['rps>=1000', 'rps', '>=', 1000],
    ['knee>5000', 'knee', '>', 5000],
    ['recovery<30s', 'recovery', '<', 30],
    ['recovery<500ms', 'recovery', '<', 0.5],
    ['drift<20%', 'drift', '<', 0.2],
  ])('%s parses', (expr, metric, op, limit) => {
    const t = parseThreshold(expr, '--threshold')
    expect(t).toMatchObject({ metric, op })
    expect(t.limit).toBeCloseTo(limit, 9)
  })

  it.each([
    ['p98<100ms', 'unknown metric'],
    ['p99 = 100ms', 'METRIC OP VALUE'],
    ['p99<100furlongs', 'latency units'],
    ['error_rate<5ms', 'fraction'],
    ['error_rate<150%', 'above 100%'],
    ['rps>fast', 'METRIC OP VALUE'],
  ])('%s is refused with a message that names the flag and says what to write', (expr, why) => {
    let err: unknown
    try {
      parseThreshold(expr, '--threshold')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    const e = err as ConfigError
    expect(e.field).toBe('--threshold')
    expect(e.message).toContain(expr)
    expect(e.message).toContain(why)
    expect(e.suggestions.join(' ')).toContain('p99<200ms')
  })

  it('evaluates against a measurement and describes breaches with the actual value', () => {
    const res = evaluate([parseThreshold('p99<100ms', 'f'), parseThreshold('p95<5ms', 'f'), parseThreshold('error_rate<1%', 'f'), parseThreshold('rps>=50', 'f')], m({ errorRate: 0.02 }))
    expect(res.map((r) => r.ok)).toEqual([true, false, false, true])
    expect(describeResult(res[1]!)).toBe('p95<5ms (actual 10.0ms)')
    expect(describeResult(res[2]!)).toBe('error_rate<1% (actual 2.00%)')
  })

  it('a threshold with nothing to measure fails rather than passing vacuously', () => {
    const res = evaluate([parseThreshold('p99<100ms', 'f'), parseThreshold('error_rate<1%', 'f'), parseThreshold('knee>=1', 'f')], m({ requests: 0, latency: lat({ count: 0, p99: null }) }))
    expect(res.every((r) => !r.ok && r.actual === null)).toBe(true)
  })

  it('defaults come from the SLO table per target kind, plus error and drop rates', () => {
    expect(defaultThresholds('gateway').map((t) => t.expr)).toEqual(['p50<5ms', 'p95<20ms', 'p99<100ms', 'p99.9<200ms', 'error_rate<1%', 'drop_rate<1%'])
    expect(defaultThresholds('router').map((t) => t.expr)).toEqual(['p50<20ms', 'p95<100ms', 'p99<500ms', 'p99.9<1s', 'error_rate<1%', 'drop_rate<1%'])
    expect(defaultThresholds('http').map((t) => t.expr)).toEqual(['error_rate<1%', 'drop_rate<1%'])
    expect(defaultThresholds('gateway')[0]!.source).toBe('SLO table: Metric ingestion')
  })
})
