import { describe, expect, it } from 'vitest'
import { TenantDirectory, TenantLimiter, type TenantLimits } from '../../src/agents/router/tenants.js'
import { ConfigError } from '../../src/lib/errors.js'
import { QueryRefusedError } from '../../src/lib/routing/errors.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'

const limits: TenantLimits = { maxConcurrent: 2, queriesPerMinute: 60, maxExecutionS: 30, maxResultRows: 0, maxResultBytes: 0 }

function refused(fn: () => unknown): QueryRefusedError {
  try {
    fn()
  } catch (err) {
    if (err instanceof QueryRefusedError) return err
    throw err
  }
  throw new Error('not refused')
}

describe('router tenants', () => {
  it('maps keys to tenants; a ClickHouse user must be the tenant or default', () => {
    const d = new TenantDirectory(limits, undefined)
    d.addKeys(['k-a=acme', 'k-b=beta'])
    expect(d.authenticate({ key: 'k-a' }).id).toBe('acme')
    expect(d.authenticate({ key: 'k-a', user: 'default' }).id).toBe('acme')
    expect(d.authenticate({ key: 'k-a', user: 'acme' }).id).toBe('acme')
    expect(refused(() => d.authenticate({ key: 'k-a', user: 'beta' })).errorName).toBe('AUTHENTICATION_FAILED')
    expect(refused(() => d.authenticate({ key: 'nope' })).httpStatus).toBe(401)
    expect(refused(() => d.authenticate({})).message).toMatch(/no API key was sent/)
  })

  it('open mode gives requests without a key the open tenant; a wrong key is still refused', () => {
    const d = new TenantDirectory(limits, 'default')
    expect(d.authenticate({}).id).toBe('default')
    expect(d.authenticate({ user: 'default' }).id).toBe('default')
    d.addKeys(['k=acme'])
    expect(refused(() => d.authenticate({ key: 'other' })).errorName).toBe('AUTHENTICATION_FAILED')
  })

  it('tenants file entries set limits and replica credentials; bad entries name the problem', () => {
    const d = new TenantDirectory(limits, undefined)
    d.addFileEntries([{ id: 'acme', keys: ['k1', 'k2'], limits: { queriesPerMinute: 5 }, replica: { username: 'u_acme', password: 'p' } }], 'tenants.yaml')
    const t = d.authenticate({ key: 'k2' })
    expect(t.limits).toEqual({ ...limits, queriesPerMinute: 5 })
    expect(t.replicaAuth).toEqual({ username: 'u_acme', password: 'p' })
    expect(() => d.addKeys(['k1=beta'])).toThrow(/same API key is given to tenants acme and beta/)
    expect(() => d.addKeys(['no-tenant'])).toThrow(ConfigError)
    expect(() => d.addFileEntries([{ id: "bad'id" }], 'f')).toThrow(/tenant id/)
    expect(() => d.addFileEntries([{ id: 'x', limits: { maxConcurrent: 0 } }], 'f')).toThrow(/maxConcurrent must be a positive integer/)
  })

  it('queries per minute: a token bucket refilled continuously; refusals say when to retry', async () => {
    const clock = new ManualClock(0)
    const l = new TenantLimiter(clock)
    const t = { id: 'acme', limits: { ...limits, queriesPerMinute: 3 } }
    l.admit(t)
    l.admit(t)
    l.admit(t)
    const r = refused(() => l.admit(t))
    expect([r.errorName, r.httpStatus, r.retryAfterS]).toEqual(['QUOTA_EXCEEDED', 429, 20])
    await clock.advance(20_000) // one token back (3 per minute)
    l.admit(t)
    expect(() => l.admit(t)).toThrow(QueryRefusedError)
    expect(() => l.admit({ ...t, id: 'other' })).not.toThrow() // buckets are per tenant
  })

  it('concurrent queries: slots per tenant, released once', () => {
    const l = new TenantLimiter(new ManualClock(0))
    const t = { id: 'acme', limits }
    const a = l.acquire(t)
    const b = l.acquire(t)
    const r = refused(() => l.acquire(t))
    expect([r.errorName, r.httpStatus, r.retryAfterS]).toEqual(['TOO_MANY_SIMULTANEOUS_QUERIES', 429, 1])
    a()
    a() // a second release must not free a slot it does not hold
    expect(l.runningOf('acme')).toBe(1)
    l.acquire(t)
    expect(() => l.acquire(t)).toThrow(QueryRefusedError)
    b()
  })
})
