import { describe, expect, it } from 'vitest'
import { identName, serialize, SqlSyntaxError, tokenize } from '../../src/lib/routing/tokens.js'

describe('router SQL tokenizer', () => {
  it('drops comments and keeps one space where they were', () => {
    const t = tokenize("SELECT /* a */ 1 -- b\n, 'x' # c\nFROM t")
    expect(serialize(t)).toBe("SELECT 1 , 'x' FROM t")
  })

  it('reads strings and quoted identifiers by ClickHouse rules (backslash escapes, doubled quotes)', () => {
    const t = tokenize("SELECT 'a\\' UNION', 'b''c', `we``ird`, \"x\\\"y\"")
    expect(t.map((x) => x.type)).toEqual(['word', 'string', 'op', 'string', 'op', 'quoted', 'op', 'quoted'])
    expect(t[1]!.text).toBe("'a\\' UNION'")
    expect(identName(t[5])).toBe('we`ird')
    expect(identName(t[7])).toBe('x"y')
  })

  it('keeps numbers (hex, exponents), operators longest first and {param:Type} pieces', () => {
    const t = tokenize('SELECT 0x1F, 1.5e-3, a::UInt8, b->c, {p:DateTime64(3)} >= 1')
    expect(t.map((x) => x.text)).toEqual(['SELECT', '0x1F', ',', '1.5e-3', ',', 'a', '::', 'UInt8', ',', 'b', '->', 'c', ',', '{', 'p', ':', 'DateTime64', '(', '3', ')', '}', '>=', '1'])
  })

  it('refuses what it cannot read instead of guessing', () => {
    expect(() => tokenize("SELECT 'open")).toThrow(SqlSyntaxError)
    expect(() => tokenize('SELECT /* open')).toThrow(/unterminated/)
    expect(() => tokenize('SELECT /* a /* b */ c */')).toThrow(/nested/)
    expect(() => tokenize('SELECT $x')).toThrow(/unexpected character/)
    expect(() => tokenize('SELECT ``')).toThrow(/empty quoted identifier/)
  })
})
