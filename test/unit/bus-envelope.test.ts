import { describe, expect, it } from 'vitest'
import { ByteWriter } from '../../src/lib/bytes.js'
import { decodeEnvelope, encodeEnvelope, encodeEnvelopeV2, EnvelopeError } from '../../src/lib/otlp/envelope.js'

const span = (i: number): Record<string, unknown> => ({ tenant_id: 'acme', trace_id: 'ab'.repeat(16), span_id: `s${i}`, duration_ns: String(i), attr_keys: ['k'], attr_values: ['v'], sample_weight: 1 })

describe('bus envelope', () => {
  it('writes v3: binary, each repeated string once, and reads back the same rows', () => {
    const rows = [span(1), span(2), span(3)]
    const value = encodeEnvelope({ id: 'p-1', signal: 'traces', tenant: 'acme', rows })
    expect(value[0]).toBe(3)
    const text = value.toString('latin1')
    expect(text.split('ab'.repeat(16)).length - 1).toBe(1) // the trace id of all three rows, once
    expect(text.split('attr_keys').length - 1).toBe(1) // column names once
    expect(decodeEnvelope(value)).toEqual({ v: 3, id: 'p-1', signal: 'traces', tenant: 'acme', rows })
  })

  it('keeps every value type through v3: unicode, integers past 2^32, negatives, floats, NaN, ±Infinity, booleans, nested arrays, objects', () => {
    const row = {
      s: 'caisse-ü日本🚀', long: 'x'.repeat(300), empty: '', big: 2 ** 53 - 1, mid: 2 ** 40 + 3, neg: -7, f: 0.1 + 0.2, nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY, ninf: Number.NEGATIVE_INFINITY, t: true, no: false, nested: [[1, 'a'], []], obj: { a: [1, { b: 'c' }] },
    }
    const back = decodeEnvelope(encodeEnvelope({ signal: 'metrics', tenant: 't', rows: [row, { ...row, s: 'other' }] }))
    expect(back.rows).toEqual([row, { ...row, s: 'other' }])
    expect(() => encodeEnvelope({ signal: 'metrics', tenant: 't', rows: [{ b: 1n }] })).toThrow(/bigint/)
  })

  it('writes a value equal to the row before as a repeat, and hands out the one decoded value', () => {
    const res = ['service.name', 'host.name']
    const rows = [0, 1, 2].map((i) => ({ span_id: `s${i}`, resource_keys: i === 1 ? [...res] : res, n: 5, f: Number.NaN }))
    const value = encodeEnvelope({ signal: 'traces', tenant: 'acme', rows })
    const back = decodeEnvelope(value).rows
    expect(back).toEqual(rows)
    expect(back[1]!.resource_keys).toBe(back[0]!.resource_keys) // equal content, copied array: still one value
    expect(back[2]!.resource_keys).toBe(back[0]!.resource_keys)
    // A repeat is one byte: row 2's resource_keys cost 1 byte, not 1 + count + an index per element.
    const text = value.toString('latin1')
    expect(text.split('service.name').length - 1).toBe(1)
  })

  it('writes v2 (JSON) on request, and reads it back', () => {
    const rows = [span(1), span(2), span(3)]
    const value = encodeEnvelopeV2({ id: 'p-1', signal: 'traces', tenant: 'acme', rows })
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

  it('is smaller than v1 and v2 for converter rows', () => {
    const rows = Array.from({ length: 10 }, (_, i) => span(i))
    const v1 = JSON.stringify({ v: 1, signal: 'traces', tenant: 'acme', rows })
    const v2 = encodeEnvelopeV2({ signal: 'traces', tenant: 'acme', rows })
    expect(v2.length).toBeLessThan(v1.length * 0.8)
    expect(encodeEnvelope({ signal: 'traces', tenant: 'acme', rows }).length).toBeLessThan(v2.length * 0.6)
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

  /** A v3 message written by hand: header, then `strings` and `rows` as raw bytes. */
  function v3(o: { signal?: number; tenant?: string; cols?: string[]; strings?: string[]; body?: number[]; nrows?: number }): Buffer {
    const w = new ByteWriter(64)
    w.u8(3)
    w.u8(o.signal ?? 0)
    w.str(o.tenant ?? 'a')
    w.str('')
    const cols = o.cols ?? ['a']
    w.varint(cols.length)
    for (const c of cols) w.str(c)
    const strings = o.strings ?? []
    w.varint(strings.length)
    for (const s of strings) w.str(s)
    w.varint(o.nrows ?? 1)
    w.bytes(Uint8Array.from(o.body ?? [1, 0]))
    return w.take()
  }

  it.each([
    ['a string index past the table', v3({ body: [1, 1, 0] }), 'bad_rows', /string 0 of a table of 0/],
    ['more values than columns', v3({ body: [2, 0, 0] }), 'bad_rows', /2 values for 1 columns/],
    ['an unknown tag', v3({ body: [1, 42] }), 'bad_rows', /unknown value tag 42/],
    ['truncated', v3({ body: [1, 2, 0, 0] }), 'bad_rows', /unexpected end/],
    ['trailing bytes', v3({ body: [1, 0, 9] }), 'bad_rows', /1 bytes after the last row/],
    ['an array longer than the message', v3({ body: [1, 4, 100] }), 'bad_rows', /past the end/],
    ['arrays nested too deep', v3({ body: [1, ...Array.from({ length: 40 }, () => [4, 1]).flat(), 0] }), 'bad_rows', /nested deeper/],
    ['a row count past the end', v3({ nrows: 1000 }), 'bad_rows', /1000 rows past the end/],
    ['an unknown signal', v3({ signal: 7 }), 'bad_signal', /signal 7/],
    ['an empty tenant', v3({ tenant: '' }), 'bad_tenant', /tenant/],
    ['a __proto__ column', v3({ cols: ['__proto__'] }), 'bad_rows', /__proto__/],
    ['a repeat in the first row', v3({ body: [1, 9] }), 'bad_rows', /repeats column 0, which the row before does not have/],
    ['a repeat inside an array', v3({ body: [1, 4, 1, 9] }), 'bad_rows', /unknown value tag 9/],
  ])('refuses a malformed v3 message: %s', (_what, value, reason, message) => {
    const err = (() => {
      try {
        decodeEnvelope(value)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(EnvelopeError)
    expect((err as EnvelopeError).reason).toBe(reason)
    expect((err as Error).message).toMatch(message)
  })

  it('decodes thousands of random mutations of valid v3 messages without anything but EnvelopeError', () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ ...span(i), f: i / 3, n: -i, a: [[i]] }))
    const good = encodeEnvelope({ id: 'x', signal: 'traces', tenant: 'acme', rows })
    let seed = 42
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n)
    let refused = 0
    for (let k = 0; k < 5000; k++) {
      const b = Buffer.from(good)
      const edits = 1 + rand(4)
      for (let e = 0; e < edits; e++) b[1 + rand(b.length - 1)] = rand(256)
      const cut = rand(10) === 0 ? b.subarray(0, rand(b.length)) : b
      try {
        decodeEnvelope(cut)
      } catch (err) {
        expect(err).toBeInstanceOf(EnvelopeError)
        refused++
      }
    }
    expect(refused).toBeGreaterThan(1000)
  })
})
