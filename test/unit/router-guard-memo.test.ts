import { describe, expect, it } from 'vitest'
import { GuardMemo, rangeMoves } from '../../src/agents/router/guard-memo.js'
import { guardQuery } from '../../src/lib/routing/guard.js'
import { buildPolicy } from '../../src/lib/routing/policy.js'

const policy = buildPolicy('aiops', [])
const limits = { max_execution_time: 30, max_result_rows: 0, max_result_bytes: 0 }
const make = (tenant: string, sql: string) => () => ({ g: guardQuery(sql, { tenant, policy, limits }), moving: false, range: undefined })

describe('router guard memo', () => {
  it('the same SQL text from two tenants gets two entries, each with its own tenant in the rewrite', () => {
    const memo = new GuardMemo()
    const sql = 'SELECT count() FROM spans'
    const a = memo.get('A', sql, make('A', sql))
    const b = memo.get('B', sql, make('B', sql))
    expect(a.g.sql).toContain("tenant_id = 'A'")
    expect(b.g.sql).toContain("tenant_id = 'B'")
    expect(memo.get('A', sql, () => { throw new Error('A was remembered') })).toBe(a)
    expect(memo.get('B', sql, () => { throw new Error('B was remembered') })).toBe(b)
  })

  it('is bounded: the least recently used texts go first, a text in use stays', () => {
    const memo = new GuardMemo(4)
    const q = (n: number) => `SELECT ${n} FROM logs`
    for (let n = 0; n < 4; n++) memo.get('A', q(n), make('A', q(n)))
    memo.get('A', q(0), make('A', q(0))) // used again: moves to the recent end
    memo.get('A', q(4), make('A', q(4)))
    let made = 0
    memo.get('A', q(0), () => (made++, make('A', q(0))()))
    memo.get('A', q(1), () => (made++, make('A', q(1))()))
    expect(made).toBe(1) // q(0) was kept, q(1) was evicted
  })

  it('a range written with now(), today() or {params} moves; a literal one does not', () => {
    const g = (sql: string) => guardQuery(sql, { tenant: 'A', policy, limits })
    expect(rangeMoves(g('SELECT 1 FROM logs WHERE ts >= now() - INTERVAL 1 HOUR'))).toBe(true)
    expect(rangeMoves(g('SELECT 1 FROM logs WHERE ts >= {start:DateTime}'))).toBe(true)
    expect(rangeMoves(g("SELECT 1 FROM logs WHERE ts >= '2024-01-01 00:00:00'"))).toBe(false)
  })
})
