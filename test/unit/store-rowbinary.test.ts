import { describe, expect, it } from 'vitest'
import { rowBinaryEncoder } from '../../src/lib/store/rowbinary.js'
import { tableSpec, type TableSpec } from '../../src/lib/store/tables.js'
import type { Row } from '../../src/lib/store/types.js'

/** A tiny RowBinary reader for the test table below: what the server would read back. */
class Reader {
  pos = 0
  constructor(private readonly b: Buffer) {}
  varint(): number {
    let n = 0
    let shift = 0
    for (;;) {
      const byte = this.b[this.pos++]!
      n += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return n
      shift += 7
    }
  }
  str(): string {
    const n = this.varint()
    const s = this.b.toString('utf8', this.pos, this.pos + n)
    this.pos += n
    return s
  }
  u64(): bigint {
    const v = this.b.readBigUInt64LE(this.pos)
    this.pos += 8
    return v
  }
  u16(): number {
    const v = this.b.readUInt16LE(this.pos)
    this.pos += 2
    return v
  }
  u32(): number {
    const v = this.b.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }
  f64(): number {
    const v = this.b.readDoubleLE(this.pos)
    this.pos += 8
    return v
  }
  done(): boolean {
    return this.pos === this.b.length
  }
}

const SPEC: TableSpec = {
  name: 't',
  columns: [
    { name: 's', type: 'String' },
    { name: 'n', type: 'UInt64' },
    { name: 'code', type: 'UInt16' },
    { name: 'w', type: 'Float64', default: 1 },
    { name: 'xs', type: 'Array(UInt64)' },
  ],
  time: { column: 'ts', from: 'n' },
  partition: 'day',
  orderBy: ['s'],
  retentionDays: 1,
  dedupPrune: [],
}

function readRow(r: Reader): { s: string; n: bigint; code: number; w: number; xs: bigint[] } {
  const s = r.str()
  const n = r.u64()
  const code = r.u16()
  const w = r.f64()
  const xs = Array.from({ length: r.varint() }, () => r.u64())
  return { s, n, code, w, xs }
}

describe('RowBinary encoder', () => {
  it('writes every UInt64 form exactly, at the edges of 2^32, 2^53 and 2^64', () => {
    const enc = rowBinaryEncoder(SPEC)
    const values = ['0', '4294967295', '4294967296', '9007199254740993', '1700000000123456789', '18446744073709551615', '00042']
    const body = enc.encode(values.map((n) => ({ s: '', n })))!
    const r = new Reader(body)
    for (const v of values) expect(readRow(r).n).toBe(BigInt(v))
    expect(r.done()).toBe(true)
    const more = enc.encode([{ n: 2 ** 53 - 1 }, { n: 12345678901234567890n }, { n: 0 }])!
    const r2 = new Reader(more)
    expect([readRow(r2).n, readRow(r2).n, readRow(r2).n]).toEqual([2n ** 53n - 1n, 12345678901234567890n, 0n])
  })

  it('matches BigInt on random 64-bit decimal strings', () => {
    const enc = rowBinaryEncoder(SPEC)
    const values: string[] = []
    for (let i = 0; i < 2000; i++) {
      const digits = 1 + (i % 20)
      let s = String(1 + Math.floor(Math.random() * 9))
      while (s.length < digits) s += String(Math.floor(Math.random() * 10))
      if (BigInt(s) < 2n ** 64n) values.push(s)
    }
    const r = new Reader(enc.encode(values.map((n) => ({ n })))!)
    for (const v of values) expect(readRow(r).n).toBe(BigInt(v))
  })

  it('writes UTF-8 strings with their byte length, long ones with a multi-byte length', () => {
    const enc = rowBinaryEncoder(SPEC)
    const long = 'x'.repeat(300) + '✓'
    const r = new Reader(enc.encode([{ s: 'caisse-ü日本🚀' }, { s: long }, { s: '' }])!)
    expect([readRow(r).s, readRow(r).s, readRow(r).s]).toEqual(['caisse-ü日本🚀', long, ''])
    expect(r.done()).toBe(true)
  })

  it('fills a missing value with the column default, or the type zero', () => {
    const r = new Reader(rowBinaryEncoder(SPEC).encode([{ s: 'a', n: '5', xs: null } as Row])!)
    expect(readRow(r)).toEqual({ s: 'a', n: 5n, code: 0, w: 1, xs: [] })
  })

  it('writes the dedup stamp after the row, and names its columns last', () => {
    const enc = rowBinaryEncoder(SPEC)
    const stamp = { tokenColumn: 'dedup_token', token: 'g/t/0/1-2~x', seqColumn: 'dedup_seq', seq: (i: number) => 10 + i }
    expect(enc.columns(stamp)).toEqual(['s', 'n', 'code', 'w', 'xs', 'dedup_token', 'dedup_seq'])
    const r = new Reader(enc.encode([{ s: 'a', n: 1 }, { s: 'b', n: 2 }], stamp)!)
    for (const i of [0, 1]) {
      readRow(r)
      expect([r.str(), r.u32()]).toEqual(['g/t/0/1-2~x', 10 + i])
    }
    expect(r.done()).toBe(true)
  })

  it('gives up (null) on a value of another type or a key that is no column, so the store falls back to JSONEachRow', () => {
    const enc = rowBinaryEncoder(SPEC)
    expect(enc.encode([{ s: 1 }])).toBeNull()
    expect(enc.encode([{ n: '-1' }])).toBeNull()
    expect(enc.encode([{ n: '18446744073709551616' }])).toBeNull()
    expect(enc.encode([{ n: '123456789012345678901' }])).toBeNull()
    expect(enc.encode([{ n: 1.5 }])).toBeNull()
    expect(enc.encode([{ code: 70_000 }])).toBeNull()
    expect(enc.encode([{ w: 'nan' }])).toBeNull()
    expect(enc.encode([{ xs: ['1', 'x'] }])).toBeNull()
    expect(enc.encode([{ s: 'ok', typo: 1 }])).toBeNull()
    // undefined values are "no value", as in JSONEachRow
    expect(enc.encode([{ s: 'ok', other: undefined }])).not.toBeNull()
  })

  it('writes a row that shares an array with the row before exactly as one with its own copy', () => {
    const xs = ['1', '2', '18446744073709551615']
    const shared = rowBinaryEncoder(SPEC).encode([{ s: 'a', xs }, { s: 'b', xs }, { s: 'c', xs: [] }, { s: 'd', xs }])!
    const copies = rowBinaryEncoder(SPEC).encode([{ s: 'a', xs: [...xs] }, { s: 'b', xs: [...xs] }, { s: 'c', xs: [] }, { s: 'd', xs: [...xs] }])!
    expect(shared.equals(copies)).toBe(true)
  })

  it('encodes the described tables from their specs', () => {
    for (const name of ['spans', 'metric_points', 'logs', 'anomalies', 'incidents']) {
      const enc = rowBinaryEncoder(tableSpec(name)!)
      expect(enc.encode([{ tenant_id: 't' }])!.length).toBeGreaterThan(0)
    }
  })
})

describe('JSONCompactEachRow encoder (chDB)', () => {
  it('writes rows as arrays in column order, defaults filled, stamp last', async () => {
    const { compactJsonEncoder } = await import('../../src/lib/store/compact-json.js')
    const enc = compactJsonEncoder(SPEC)
    const stamp = { tokenColumn: 'dedup_token', token: 'tok', seqColumn: 'dedup_seq', seq: (i: number) => i + 1 }
    const body = enc.encode([{ s: 'a"ü', n: '1700000000123456789', xs: ['1', 2] }, { n: 3, code: 404, w: 0.5 }], stamp)!
    expect(JSON.parse(`[${body.toString()}]`)).toEqual([
      ['a"ü', '1700000000123456789', 0, 1, ['1', 2], 'tok', 1],
      ['', 3, 404, 0.5, [], 'tok', 2],
    ])
    expect(enc.columns()).toEqual(['s', 'n', 'code', 'w', 'xs'])
  })

  it('gives up (null) where JSON cannot spell the value or the key is no column', async () => {
    const { compactJsonEncoder } = await import('../../src/lib/store/compact-json.js')
    const enc = compactJsonEncoder(SPEC)
    for (const bad of [{ w: Number.NaN }, { w: Infinity }, { n: 5n }, { s: 1 }, { code: true }, { xs: ['x'] }, { s: 'a', typo: 1 }]) {
      expect(enc.encode([bad as Row])).toBeNull()
    }
  })
})
