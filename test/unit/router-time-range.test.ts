import { describe, expect, it } from 'vitest'
import { guardQuery } from '../../src/lib/routing/guard.js'
import { buildPolicy } from '../../src/lib/routing/policy.js'
import { chooseTier, tierOrder } from '../../src/lib/routing/tiers.js'
import { queryTimeRange } from '../../src/lib/routing/time-range.js'

const policy = buildPolicy('aiops', ['one'])
const NOW = Date.UTC(2024, 5, 1, 12, 0, 0)
const range = (sql: string, params: Record<string, string> = {}) =>
  queryTimeRange(guardQuery(sql, { tenant: 'A', policy, limits: { max_execution_time: 30, max_result_rows: 0, max_result_bytes: 0 } }), policy, NOW, params)
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())
const isoRange = (sql: string, params?: Record<string, string>) => {
  const r = range(sql, params)
  return [iso(r.fromMs), iso(r.toMs)]
}

describe('router time range', () => {
  it.each([
    ["SELECT 1 FROM spans WHERE start_time >= '2024-05-01 00:00:00' AND start_time < '2024-05-02'", '2024-05-01T00:00:00.000Z', '2024-05-02T00:00:00.000Z'],
    ['SELECT 1 FROM spans WHERE start_time_ns BETWEEN 1714521600000000000 AND 1714525200000000000', '2024-05-01T00:00:00.000Z', '2024-05-01T01:00:00.000Z'],
    ['SELECT 1 FROM logs WHERE ts >= toDateTime(1714521600) AND ts <= toDateTime(1714525200) AND service = \'x\'', '2024-05-01T00:00:00.000Z', '2024-05-01T01:00:00.000Z'],
    ['SELECT 1 FROM logs WHERE ts > now() - INTERVAL 2 DAY AND ts < now() - INTERVAL 1 DAY', '2024-05-30T12:00:00.000Z', '2024-05-31T12:00:00.000Z'],
    ['SELECT 1 FROM logs WHERE ts > now() - toIntervalHour(3) AND ts < now() - 3600', '2024-06-01T09:00:00.000Z', '2024-06-01T11:00:00.000Z'],
    ['SELECT 1 FROM logs WHERE (ts >= 1714521600 AND ts < 1714525200) AND body != \'\'', '2024-05-01T00:00:00.000Z', '2024-05-01T01:00:00.000Z'],
    ['SELECT 1 FROM logs WHERE toDateTime(1714521600) <= ts AND 1714525200 > ts', '2024-05-01T00:00:00.000Z', '2024-05-01T01:00:00.000Z'],
    ['SELECT 1 FROM logs WHERE ts > 1714521600', '2024-05-01T00:00:00.000Z', undefined],
    ['SELECT 1 FROM logs WHERE ts > 1714521600 OR ts < 5', undefined, undefined],
    ['SELECT 1 FROM logs WHERE toStartOfHour(ts) > 1714521600', undefined, undefined],
    ['SELECT 1 FROM logs', undefined, undefined],
    ['SELECT 1 FROM logs WHERE ts_ns = 1714521600000000000', '2024-05-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z'],
  ])('%s', (sql, from, to) => {
    expect(isoRange(sql)).toEqual([from, to])
  })

  it('is the union over every SELECT reading a table; one without bounds opens it', () => {
    expect(isoRange('SELECT 1 FROM logs WHERE ts >= 1714521600 AND ts < 1714525200 UNION ALL SELECT 1 FROM spans WHERE start_time >= 1714608000 AND start_time < 1714611600'))
      .toEqual(['2024-05-01T00:00:00.000Z', '2024-05-02T01:00:00.000Z'])
    expect(isoRange('SELECT 1 FROM logs WHERE ts >= 1714521600 AND ts < 1714525200 UNION ALL SELECT 1 FROM spans')).toEqual([undefined, undefined])
    // A join reads two tables in one SELECT: which table a bound belongs to is not resolved, so no bound.
    expect(isoRange('SELECT 1 FROM logs a JOIN spans b USING trace_id WHERE ts >= 1714521600 AND ts < 1714525200')).toEqual([undefined, undefined])
  })

  it('reads {param:Type} values', () => {
    expect(isoRange('SELECT 1 FROM logs WHERE ts >= {f:DateTime} AND ts < {t:DateTime}', { f: '1714521600', t: '2024-05-01 01:00:00' }))
      .toEqual(['2024-05-01T00:00:00.000Z', '2024-05-01T01:00:00.000Z'])
  })

  it('a query reading no pipeline table has no data range', () => {
    expect(range('SELECT * FROM system.one').readsData).toBe(false)
    expect(range('DESCRIBE TABLE logs').readsData).toBe(false)
  })

  it('routes by the age of the data: last hour → hot, last week → any, older or unbounded → cold', () => {
    const r = (fromMs: number | undefined) => chooseTier({ fromMs, toMs: undefined, readsData: true }, NOW)
    expect(r(NOW - 10 * 60_000)).toBe('hot')
    expect(r(NOW - 2 * 86_400_000)).toBe('any')
    expect(r(NOW - 30 * 86_400_000)).toBe('cold')
    expect(r(undefined)).toBe('cold')
    expect(chooseTier({ fromMs: undefined, toMs: undefined, readsData: false }, NOW)).toBe('any')
    expect(tierOrder('hot')).toEqual([['hot'], ['warm'], ['cold']])
    expect(tierOrder('any')).toEqual([['hot', 'warm', 'cold']])
  })
})
