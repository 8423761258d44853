import { describe, expect, it } from 'vitest'
import { metricSeriesQuery, parseRange, parseTime, serviceLatencyQuery, traceQuery } from '../../src/lib/routing/api-queries.js'
import type { QueryRefusedError } from '../../src/lib/routing/errors.js'

const NOW = Date.UTC(2024, 5, 1, 12)
const p = (s: string) => new URLSearchParams(s)

describe('router JSON API parameters', () => {
  it('reads times as now-<n><unit>, ISO 8601, and epoch seconds / ms / ns by magnitude', () => {
    expect(parseTime('from', 'now', NOW)).toBe(NOW)
    expect(parseTime('from', 'now-15m', NOW)).toBe(NOW - 15 * 60_000)
    expect(parseTime('from', '2024-05-01T00:00:00Z', NOW)).toBe(Date.UTC(2024, 4, 1))
    expect(parseTime('from', '2024-05-01 02:00:00', NOW)).toBe(Date.UTC(2024, 4, 1, 2))
    expect(parseTime('from', '1714521600', NOW)).toBe(Date.UTC(2024, 4, 1))
    expect(parseTime('from', '1714521600000', NOW)).toBe(Date.UTC(2024, 4, 1))
    expect(parseTime('from', '1714521600000000000', NOW)).toBe(Date.UTC(2024, 4, 1))
    expect(() => parseTime('from', 'yesterday', NOW)).toThrow(/from="yesterday" is not accepted: use ISO 8601/)
  })

  it('defaults to the last hour and refuses an empty range', () => {
    expect(parseRange(p(''), NOW)).toEqual({ fromMs: NOW - 3_600_000, toMs: NOW })
    expect(() => parseRange(p('from=now&to=now-1h'), NOW)).toThrow(/from must be before to/)
  })

  it('writes values as literals, never as SQL', () => {
    const q = serviceLatencyQuery('aiops', p("service=x' OR 1=1 --"), NOW)
    expect(q.sql).toContain("service = 'x\\' OR 1=1 --'")
    expect(q.range).toEqual({ fromMs: NOW - 3_600_000, toMs: NOW })
  })

  it('validates each parameter and names it in the error', () => {
    const err = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        return e as QueryRefusedError
      }
      throw new Error('no error')
    }
    expect(err(() => metricSeriesQuery('aiops', p(''), NOW)).message).toMatch(/parameter name is required/)
    expect(err(() => metricSeriesQuery('aiops', p('name=cpu&step=0'), NOW)).message).toMatch(/step="0"/)
    expect(err(() => metricSeriesQuery('aiops', p('name=cpu&agg=median'), NOW)).message).toMatch(/agg="median" is not accepted: one of avg/)
    expect(err(() => traceQuery('aiops', "abc' OR 1")).httpStatus).toBe(400)
    // A trace may still be growing: no range, so it is never cached.
    expect(traceQuery('aiops', 'ABCDEF').range).toEqual({ fromMs: undefined, toMs: undefined })
  })
})
