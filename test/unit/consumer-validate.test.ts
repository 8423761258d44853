import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/agents/consumer/validate.js'
import type { ConsumedRecord } from '../../src/lib/bus/types.js'
import { encodeEnvelope, encodeEnvelopeV2 } from '../../src/lib/otlp/envelope.js'
import type { Row } from '../../src/lib/store/types.js'
import { spanRow } from '../../bench/lib/consumer-data.js'

const NS = 1_700_000_000_000_000_000n
const rec = (value: Buffer, offset = 0): ConsumedRecord => ({ topic: 't', partition: 0, offset: String(offset), key: 'k', value, timestampMs: 0 })
const spans = (rows: Row[], tenant = 'acme'): ConsumedRecord => rec(encodeEnvelope({ signal: 'traces', tenant, rows }))
const good = (over: Row = {}): Row => ({ ...spanRow(1, 'r', 'acme', NS), ...over })

function rejected(r: ConsumedRecord): { reason: string; message: string } {
  const d = decodeRecord(r)
  if (d.ok) throw new Error('expected a rejection')
  return { reason: d.reason, message: d.message }
}

describe('consumer record validation', () => {
  it('accepts gateway rows and routes them by signal', () => {
    const d = decodeRecord(spans([good(), good({ span_id: 'x' })]))
    expect(d).toMatchObject({ ok: true, table: 'spans', tenant: 'acme' })
    const m = decodeRecord(rec(encodeEnvelope({ signal: 'metrics', tenant: 'acme', rows: [{ name: 'm', ts_ns: '5', value: 1 }] })))
    expect(m).toMatchObject({ ok: true, table: 'metric_points' })
  })

  it('gives the same rows and the same rejections for v1 (row objects), v2 (JSON arrays) and v3 (binary) envelopes', () => {
    const v1 = (rows: Row[]): ConsumedRecord => rec(Buffer.from(JSON.stringify({ v: 1, signal: 'traces', tenant: 'acme', rows })))
    const v2 = (rows: Row[]): ConsumedRecord => rec(encodeEnvelopeV2({ signal: 'traces', tenant: 'acme', rows }))
    const cases: Row[][] = [
      [good(), good({ span_id: 'x', tenant_id: undefined, sample_weight: 0.5 })],
      [good(), good(), good({ span_id: 'y' })], // repeated values (v3 writes them as "same as the row before")
      [good({ attr_keys: ['a', 'b'], attr_values: ['1'] }), good({ attr_keys: ['a', 'b'], attr_values: ['1'] })],
      [good(), good({ http_status: 'x' }), good({ http_status: 'x' })],
      [good(), good({ http_status: 'x' })],
      [good({ nope: 1 })],
      [good({ tenant_id: 'other' })],
      [good({ attr_keys: ['a'], attr_values: [] })],
      [good({ start_time_ns: undefined })],
    ]
    for (const rows of cases) {
      const a = decodeRecord(v1(rows.map((r) => JSON.parse(JSON.stringify(r)) as Row)))
      const strip = (d: ReturnType<typeof decodeRecord>): unknown => (d.ok ? { ...d, record: undefined, rows: d.rows.map((r) => ({ ...r })) } : { ...d, record: undefined })
      expect(strip(decodeRecord(v2(rows)))).toEqual(strip(a))
      expect(strip(decodeRecord(spans(rows)))).toEqual(strip(a))
    }
  })

  it('names the envelope problem: not JSON, wrong version, signal or tenant, rows not objects', () => {
    expect(rejected(rec(Buffer.from([0xff, 0x00, 0x13])))).toMatchObject({ reason: 'not_json' })
    expect(rejected(rec(Buffer.from('{"v":9,"signal":"traces","tenant":"a","rows":[]}')))).toMatchObject({ reason: 'bad_version' })
    expect(rejected(rec(Buffer.from('{"v":1,"signal":"events","tenant":"a","rows":[]}')))).toMatchObject({ reason: 'bad_signal' })
    expect(rejected(rec(Buffer.from('{"v":1,"signal":"traces","tenant":"","rows":[]}')))).toMatchObject({ reason: 'bad_tenant' })
    expect(rejected(rec(Buffer.from('{"v":1,"signal":"traces","tenant":"a","rows":[1]}')))).toMatchObject({ reason: 'bad_rows' })
  })

  it('rejects a column the table does not have, naming it and the table', () => {
    const r = rejected(spans([good(), good({ spanid: 'typo' })]))
    expect(r.reason).toBe('unknown_column')
    expect(r.message).toMatch(/^row 1: column spanid is not in table spans/)
    // The derived time column and the store's dedup stamps are not for senders to set.
    expect(rejected(spans([good({ start_time: 5 })])).reason).toBe('unknown_column')
    expect(rejected(spans([good({ dedup_token: 'x' })])).reason).toBe('unknown_column')
  })

  it('rejects values of the wrong type or range, naming the column and what it accepts', () => {
    expect(rejected(spans([good({ duration_ns: 'soon' })])).message).toBe(
      'row 0: column duration_ns: expected an unsigned 64-bit integer (number or decimal string), got "soon"',
    )
    expect(rejected(spans([good({ duration_ns: '18446744073709551616' })])).reason).toBe('bad_value') // 2^64
    expect(rejected(spans([good({ http_status: 70_000 })])).message).toContain('expected an integer from 0 to 65535')
    expect(rejected(spans([good({ http_status: 1.5 })])).reason).toBe('bad_value')
    expect(rejected(spans([good({ name: 42 })])).message).toContain('column name: expected a string')
    expect(rejected(spans([good({ attr_keys: ['a', 1] })])).reason).toBe('bad_value')
    expect(rejected(spans([good({ sample_weight: 'heavy' })])).reason).toBe('bad_value')
  })

  it('requires the time column inside the store range, and parallel attribute arrays of equal length', () => {
    expect(rejected(spans([good({ start_time_ns: undefined })]))).toMatchObject({ reason: 'missing_column' })
    expect(rejected(spans([good({ start_time_ns: '0' })])).message).toContain('outside 1970..2106')
    expect(rejected(spans([good({ start_time_ns: '9999999999000000000' })])).reason).toBe('bad_value')
    expect(rejected(spans([good({ start_time_ns: '4294967295000000001' })])).reason).toBe('bad_value') // DateTime ends here
    expect(rejected(spans([good({ start_time_ns: '10000000000000000000' })])).reason).toBe('bad_value')
    expect(rejected(spans([good({ start_time_ns: '000' })])).reason).toBe('bad_value')
    for (const ok of ['4294967295000000000', '0001', '00004294967295000000000'.slice(3), 1]) {
      expect(decodeRecord(spans([good({ start_time_ns: ok })])).ok).toBe(true)
    }
    expect(rejected(spans([good({ attr_keys: ['a', 'b'], attr_values: ['1'] })])).message).toContain(
      'attr_keys and attr_values must have the same length (2 vs 1)',
    )
  })

  it("fills a missing tenant_id from the envelope and refuses another tenant's row", () => {
    const d = decodeRecord(spans([good({ tenant_id: undefined })]))
    expect(d.ok && d.rows[0]!.tenant_id).toBe('acme')
    expect(rejected(spans([good({ tenant_id: 'globex' })]))).toMatchObject({ reason: 'tenant_mismatch' })
  })

  it('normalises what JSON cannot spell and drops nulls so the store fills defaults', () => {
    const d = decodeRecord(rec(encodeEnvelope({
      signal: 'metrics',
      tenant: 'acme',
      rows: [{ name: 'm', ts_ns: 5, value: 'NaN', sum: '-Infinity', bucket_bounds: [1, 'inf'], unit: null }],
    })))
    expect(d.ok).toBe(true)
    const row = d.ok ? d.rows[0]! : {}
    expect(row.value).toBeNaN()
    expect(row.sum).toBe(Number.NEGATIVE_INFINITY)
    expect(row.bucket_bounds).toEqual([1, Number.POSITIVE_INFINITY])
    expect('unit' in row).toBe(false)
  })

  it('is a pure function of the bytes: the same record always gives the same rows', () => {
    const r = spans([good(), good({ tenant_id: undefined, span_id: 'b' })])
    const a = decodeRecord(r)
    const b = decodeRecord(r)
    expect(a).toEqual(b)
    expect(a.ok && JSON.stringify(a.rows)).toBe(b.ok && JSON.stringify(b.rows))
  })
})
