import { describe, expect, it } from 'vitest'
import { sampleRows } from '../../src/agents/gateway/sampling.js'
import { hashUnit } from '../../src/lib/resilience/backpressure.js'
import type { Row } from '../../src/lib/store/types.js'

const traceId = (i: number): string => i.toString(16).padStart(32, '0')
const span = (i: number, extra: Row = {}): Row => ({ trace_id: traceId(i), status_code: 'UNSET', http_status: 200, duration_ns: '1000', sample_weight: 1, ...extra })
const opts = { slowSpanNs: 1e9 }

describe('backpressure sampling', () => {
  it('keeps everything at rate 1', () => {
    const rows = Array.from({ length: 50 }, (_, i) => span(i))
    expect(sampleRows('traces', rows, 1, opts)).toEqual({ kept: rows, sampledOut: 0 })
  })

  it('decides per trace by hash: all spans of a trace share the decision, on any replica', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => span(i % 200))
    const { kept, sampledOut } = sampleRows('traces', rows.map((r) => ({ ...r })), 0.3, opts)
    const keptTraces = new Set(kept.map((r) => r.trace_id))
    for (const t of keptTraces) expect(kept.filter((r) => r.trace_id === t)).toHaveLength(10)
    for (const r of kept) expect(hashUnit(r.trace_id as string)).toBeLessThan(0.3)
    expect(kept.length + sampledOut).toBe(2000)
    // A second replica with the same rate keeps the same traces.
    const again = sampleRows('traces', rows.map((r) => ({ ...r })), 0.3, opts)
    expect(new Set(again.kept.map((r) => r.trace_id))).toEqual(keptTraces)
    // A higher rate keeps a superset (monotone): raising the rate never splits a kept trace.
    const more = sampleRows('traces', rows.map((r) => ({ ...r })), 0.6, opts)
    for (const t of keptTraces) expect(more.kept.some((r) => r.trace_id === t)).toBe(true)
  })

  it('always keeps errors, 5xx and slow spans, with weight 1; others kept get 1/rate', () => {
    const dropped = Array.from({ length: 500 }, (_, i) => i).find((i) => hashUnit(traceId(i)) >= 0.1)!
    const keptByHash = Array.from({ length: 500 }, (_, i) => i).find((i) => hashUnit(traceId(i)) < 0.1)!
    const rows = [
      span(dropped),
      span(dropped, { status_code: 'ERROR' }),
      span(dropped, { http_status: 502 }),
      span(dropped, { duration_ns: '1000000000' }),
      span(keptByHash),
    ]
    const { kept, sampledOut } = sampleRows('traces', rows, 0.1, opts)
    expect(sampledOut).toBe(1)
    expect(kept.map((r) => r.sample_weight)).toEqual([1, 1, 1, 10])
  })

  it('metrics: error points always kept, series sampled whole by hash', () => {
    const point = (series: string, extra: Row = {}): Row => ({ name: 'http.server.duration', series, attr_keys: [], attr_values: [], sample_weight: 1, ...extra })
    const rows = [
      ...Array.from({ length: 300 }, (_, i) => point(`s${i % 30}`)),
      point('e1', { name: 'app.errors' }),
      point('e2', { attr_keys: ['error.type'], attr_values: ['timeout'] }),
      point('e3', { attr_keys: ['http.response.status_code'], attr_values: ['503'] }),
    ]
    const { kept } = sampleRows('metrics', rows, 0.2, opts)
    expect(kept.filter((r) => (r.series as string).startsWith('e')).map((r) => r.sample_weight)).toEqual([1, 1, 1])
    const series = new Set(kept.filter((r) => (r.series as string).startsWith('s')).map((r) => r.series))
    for (const s of series) expect(kept.filter((r) => r.series === s)).toHaveLength(10)
    for (const r of kept) if ((r.series as string).startsWith('s')) expect(r.sample_weight).toBe(5)
  })

  it('logs: WARN and above always kept; others follow their trace, or chance without one', () => {
    const log = (extra: Row): Row => ({ trace_id: '', severity_number: 9, severity_text: '', sample_weight: 1, ...extra })
    const rows = [log({ severity_number: 13 }), log({ severity_number: 21 }), log({ severity_number: 0, severity_text: 'ERROR' }), log({}), log({ trace_id: traceId(1) })]
    const never = sampleRows('logs', rows.map((r) => ({ ...r })), 0.01, { ...opts, random: () => 0.99 })
    expect(never.kept.map((r) => r.severity_number)).toEqual(expect.arrayContaining([13, 21, 0]))
    expect(never.kept.some((r) => r.severity_number === 9 && r.trace_id === '')).toBe(false)
    const always = sampleRows('logs', rows.map((r) => ({ ...r })), 0.01, { ...opts, random: () => 0 })
    expect(always.kept.some((r) => r.severity_number === 9 && r.trace_id === '')).toBe(true)
    const withTrace = always.kept.some((r) => r.trace_id === traceId(1))
    expect(withTrace).toBe(hashUnit(traceId(1)) < 0.01)
  })
})
