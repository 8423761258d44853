import { describe, expect, it } from 'vitest'
import { DependencyError, UsageError } from '../../src/lib/errors.js'
import { nsRange } from '../../src/lib/store/dedup.js'
import { cleanMessage, clickhouseCode, toStoreError } from '../../src/lib/store/errors.js'
import { bindParams, encodeJSONEachRow, encodeJSONValue, quoteString, quoteTable } from '../../src/lib/store/sql.js'
import type { Row } from '../../src/lib/store/types.js'

describe('JSONEachRow encoding', () => {
  it('keeps 64-bit integers exact and spells what JSON cannot', () => {
    const body = encodeJSONEachRow([{ a: 1700000000123456789n, b: ['x', 2n], c: Number.NaN, d: -Infinity, e: true, f: undefined, g: null }])
    expect(body.toString()).toBe('{"a":1700000000123456789,"b":["x",2],"c":"nan","d":"-inf","e":1,"g":null}\n')
  })

  it('fills defaults for missing keys, appends the stamp and drops the row keys it replaces', () => {
    const body = encodeJSONEachRow([{ a: 1, dedup_token: 'forged' }, { a: 2, w: 0.5 }], {
      defaults: { w: 1 },
      stamp: { tokenColumn: 'dedup_token', token: 't', seqColumn: 'dedup_seq', seq: (i) => i },
    })
    expect(body.toString()).toBe('{"a":1,"w":1,"dedup_token":"t","dedup_seq":0}\n{"a":2,"w":0.5,"dedup_token":"t","dedup_seq":1}\n')
  })
})

describe('client-side {name:Type} binding (servers < 19.11)', () => {
  it('escapes strings and types every value', () => {
    const sql = bindParams('SELECT {s:String}, {n:UInt64}, {xs:Array(String)}, {z:Nullable(String)}, {d:DateTime}', {
      s: "o'neil \\ \n",
      n: 1700000000123456789n,
      xs: ['a', "b'c"],
      z: null,
      d: new Date(1_700_000_000_000),
    })
    expect(sql).toBe(
      "SELECT 'o\\'neil \\\\ \\n', CAST('1700000000123456789' AS UInt64), CAST(['a', 'b\\'c'] AS Array(String)), " +
        'CAST(NULL AS Nullable(String)), CAST(1700000000 AS DateTime)',
    )
  })

  it('leaves placeholders inside literals, quoted identifiers and comments alone', () => {
    const sql = "SELECT '{a:String}', `{a:String}` -- {a:String}\n, {a:String} /* {a:String} */"
    expect(bindParams(sql, { a: 'v' })).toBe("SELECT '{a:String}', `{a:String}` -- {a:String}\n, 'v' /* {a:String} */")
  })

  it('refuses missing parameters and values that do not fit the type', () => {
    expect(() => bindParams('SELECT {a:String}', {})).toThrow(UsageError)
    expect(() => bindParams('SELECT {n:UInt64}', { n: '1; DROP TABLE x' })).toThrow(/not a number/)
    expect(() => bindParams('SELECT {n:Int32}', { n: 1.5 })).toThrow(UsageError)
    expect(() => bindParams('SELECT {s:String}', { s: null })).toThrow(/Nullable/)
  })

  it('quotes table names and refuses anything else', () => {
    expect(quoteTable('aiops.spans')).toBe('`aiops`.`spans`')
    expect(() => quoteTable('spans; DROP TABLE x')).toThrow(UsageError)
    expect(quoteString("\\'\t\0")).toBe("'\\\\\\'\\t\\0'")
  })
})

describe('store error mapping', () => {
  const ctx = { dependency: 'clickhouse' as const, op: 'query', locationHint: 'store.clickhouse.url (http://ch:8123)' }

  it('reads the error code from 18.x and current message formats', () => {
    const v18 = 'Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position 1, e.what() = DB::Exception\n'
    const v26 = 'Code: 60. DB::Exception: Unknown table expression identifier \'nope\'. (UNKNOWN_TABLE) (version 26.7.2.1)'
    expect(clickhouseCode(new Error(v18))).toBe(62)
    expect(clickhouseCode(new Error(v26))).toBe(60)
    expect(cleanMessage(v18)).toBe('Syntax error: failed at position 1')
    expect(cleanMessage(v26)).toBe("Unknown table expression identifier 'nope'. (UNKNOWN_TABLE)")
  })

  it('network failures and overload are retriable; refused statements are not', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })
    const down = toStoreError(refused, ctx)
    expect(down).toBeInstanceOf(DependencyError)
    expect(down).toMatchObject({ retriable: true, message: expect.stringContaining('ECONNREFUSED 127.0.0.1:8123') })
    expect(down.suggestions[0]).toContain('store.clickhouse.url')
    expect(toStoreError(new Error('Timeout error.'), ctx).retriable).toBe(true)
    expect(toStoreError(new Error('Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)'), ctx).retriable).toBe(true)
    const syntax = toStoreError(new Error('Code: 62. DB::Exception: Syntax error: failed at position 1. (SYNTAX_ERROR)'), ctx)
    expect(syntax).toMatchObject({ retriable: false, details: { clickhouseCode: 62 } })
    expect(syntax.message).toMatch(/Syntax error/)
  })
})

describe('dedup pruning range', () => {
  it('takes min/max of integer nanoseconds given as string, bigint or safe number', () => {
    expect(nsRange([{ t: '1700000000123456789' }, { t: 5n }, { t: 7 }], 't')).toEqual([5n, 1700000000123456789n])
    expect(nsRange([{ t: '1' }, {}], 't')).toBeUndefined()
    expect(nsRange([{ t: 1.7e18 + 1 }], 't')).toBeUndefined() // not a safe integer: the stored value is unknown
    expect(nsRange([{ t: '0042' }, { t: '9' }, { t: '100' }], 't')).toEqual([9n, 100n]) // leading zeros do not count
    expect(nsRange([{ t: '5' }, { t: 'zz' }], 't')).toBeUndefined() // a non-digit string wins a comparison: no range
    expect(nsRange([{ t: '5' }, { t: '6' }, { t: '1e3' }], 't')).toBeUndefined()
  })
})

describe('encodeJSONEachRow fast path', () => {
  it('writes exactly what the per-value encoder writes, for plain and non-plain rows alike', () => {
    const rows: Row[] = [
      { a: 'x"y\n', b: 1.5, c: ['p', 'q'], d: [1, 2.25], e: null, f: undefined, g: '1700000000123456789' },
      { a: 'plain', n: NaN, big: 12345678901234567890n },
      { flag: true, when: new Date(1_700_000_000_000), nested: { k: 'v' } },
      {},
    ]
    const perValue = rows
      .map((r) => '{' + Object.entries(r).filter(([, v]) => v !== undefined).map(([k, v]) => JSON.stringify(k) + ':' + encodeJSONValue(v)).join(',') + '}\n')
      .join('')
    expect(encodeJSONEachRow(rows).toString('utf8')).toBe(perValue)
  })
  it('writes a batch of plain, complete rows with one stringify: rows separated by commas, stamp replacing the row keys', () => {
    const out = encodeJSONEachRow([{ a: 'x', dedup_token: 'old', sample_weight: 2 }, { a: 'y"\n', sample_weight: 1 }], {
      defaults: { sample_weight: 1 },
      stamp: { tokenColumn: 'dedup_token', token: 't', seqColumn: 'dedup_seq', seq: (i) => 10 + i },
    }).toString('utf8')
    expect(out).toBe('{"a":"x","dedup_token":"t","sample_weight":2,"dedup_seq":10},{"a":"y\\"\\n","sample_weight":1,"dedup_token":"t","dedup_seq":11}')
  })
  it('takes the per-row path when a row lacks a default key, with the same stamp', () => {
    const out = encodeJSONEachRow([{ a: 'x' }, { a: 'y', sample_weight: 3 }], {
      defaults: { sample_weight: 1 },
      stamp: { tokenColumn: 'dedup_token', token: 't', seqColumn: 'dedup_seq', seq: (i) => i },
    }).toString('utf8')
    expect(out).toBe('{"a":"x","sample_weight":1,"dedup_token":"t","dedup_seq":0}\n{"a":"y","sample_weight":3,"dedup_token":"t","dedup_seq":1}\n')
  })
})
