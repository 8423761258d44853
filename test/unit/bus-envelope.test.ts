import { describe, expect, it } from 'vitest'
import { decodeEnvelope, encodeEnvelope, EnvelopeError } from '../../src/lib/otlp/envelope.js'

const span = (i: number): Record<string, unknown> => ({ tenant_id: 'acme', trace_id: 'ab'.repeat(16), span_id: `s${i}`, duration_ns: String(i), attr_keys: ['k'], attr_values: ['v'], sample_weight: 1 })

describe('bus envelope', () => {
  it('writes v2: column names once, rows as arrays, and reads back the same rows', () => {
    const rows = [span(1), span(2), span(3)]
    const value = encodeEnvelope({ id: 'p-1', signal: 'traces', tenant: 'acme', rows })
    const json = JSON.parse(value.toString()) as { v: number; cols: string[]; rows: unknown[][] }
    expect(json.v).toBe(2)
    expect(json.cols).toEqual(Object.keys(span(0)))
    expect(json.rows[1]).toEqual(Object.values(span(2)))
    expect(decodeEnvelope(value)).toEqual({ v: 2, id: 'p-1', signal: 'traces', tenant: 'acme', rows })
  })

  it('keeps rows whose keys differ (union of columns; a missing column stays missing)', () => {
    const rows = [{ a: 1, b: 'x' }, { b: 'y', c: [1, 2] }, { a: 2 }, {}]
    expect(decodeEnvelope(encodeEnvelope({ signal: 'logs', tenant: 't', rows })).rows).toEqual(rows)
  })

  it('is smaller than v1 for converter rows', () => {
    const rows = Array.from({ length: 10 }, (_, i) => span(i))
    const v1 = JSON.stringify({ v: 1, signal: 'traces', tenant: 'acme', rows })
    expect(encodeEnvelope({ signal: 'traces', tenant: 'acme', rows }).length).toBeLessThan(v1.length * 0.8)
  })

  it('still reads v1 (records on the bus or in a spool from before v2)', () => {
    const v1 = Buffer.from(JSON.stringify({ v: 1, id: 'old-1', signal: 'metrics', tenant: 't', rows: [{ name: 'm', value: 1 }] }))
    expect(decodeEnvelope(v1)).toEqual({ v: 1, id: 'old-1', signal: 'metrics', tenant: 't', rows: [{ name: 'm', value: 1 }] })
  })

  it.each([
    ['{"v":2,"signal":"traces","tenant":"a","cols":"x","rows":[]}', /cols must be/],
    ['{"v":2,"signal":"traces","tenant":"a","cols":["a","a"],"rows":[]}', /distinct/],
    ['{"v":2,"signal":"traces","tenant":"a","cols":["__proto__"],"rows":[[{"polluted":1}]]}', /__proto__/],
    ['{"v":2,"signal":"traces","tenant":"a","cols":["a"],"rows":[{"a":1}]}', /row 0 must be an array/],
    ['{"v":2,"signal":"traces","tenant":"a","cols":["a"],"rows":[[1,2]]}', /at most 1 values/],
    ['{"v":2,"signal":"traces","tenant":"a","cols":["a"],"rows":{}}', /rows must be an array/],
  ])('refuses a malformed v2 message with bad_rows: %s', (text, message) => {
    const err = (() => {
      try {
        decodeEnvelope(Buffer.from(text))
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(EnvelopeError)
    expect((err as EnvelopeError).reason).toBe('bad_rows')
    expect((err as Error).message).toMatch(message)
  })
})
