import { Registry } from 'prom-client'
import { describe, expect, it, vi } from 'vitest'
import { CircuitOpenError } from '../../src/lib/errors.js'
import { type BreakerState, CircuitBreaker, breakerDefaults } from '../../src/lib/resilience/breaker.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'

const settings = { failureThreshold: 3, successThreshold: 2, openMs: 30_000 }
const boom = () => Promise.reject(new Error('ECONNREFUSED'))
const ok = () => Promise.resolve('ok')

async function metricValue(registry: Registry, name: string, breaker: string): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name)
  const data = await metric?.get()
  return data?.values.find((v) => v.labels.breaker === breaker)?.value
}

function setup(over: Partial<typeof settings> = {}) {
  const clock = new ManualClock(1_000_000)
  const registry = new Registry()
  const changes: Array<[BreakerState, BreakerState]> = []
  const breaker = new CircuitBreaker('store', { ...settings, ...over }, {
    clock,
    registry,
    onStateChange: (from, to) => changes.push([from, to]),
  })
  const trip = async () => {
    for (let i = 0; i < (over.failureThreshold ?? settings.failureThreshold); i++) await breaker.execute(boom).catch(() => {})
  }
  return { clock, registry, breaker, changes, trip }
}

describe('breakerDefaults', () => {
  it('has the design document values and ours', () => {
    expect(breakerDefaults.ml_inference).toEqual({ failureThreshold: 5, successThreshold: 2, openMs: 30_000 })
    expect(breakerDefaults.graph_db).toEqual({ failureThreshold: 3, successThreshold: 1, openMs: 60_000 })
    expect(breakerDefaults.external_integrations).toEqual({ failureThreshold: 10, successThreshold: 3, openMs: 120_000 })
    expect(breakerDefaults.store).toEqual({ failureThreshold: 5, successThreshold: 2, openMs: 30_000 })
    expect(breakerDefaults.cache).toEqual({ failureThreshold: 3, successThreshold: 1, openMs: 10_000 })
    expect(breakerDefaults.bus).toEqual({ failureThreshold: 5, successThreshold: 2, openMs: 15_000 })
  })
})

describe('CircuitBreaker', () => {
  it('starts closed with gauge 0 and no rejections', async () => {
    const { breaker, registry } = setup()
    expect(breaker.state).toBe('closed')
    expect(breaker.health()).toEqual({ ok: true })
    expect(await metricValue(registry, 'aiops_circuit_breaker_state', 'store')).toBe(0)
    expect(await metricValue(registry, 'aiops_circuit_breaker_rejected_total', 'store')).toBe(0)
  })

  it('opens after failureThreshold consecutive failures; a success resets the count', async () => {
    const { breaker, changes } = setup()
    await breaker.execute(boom).catch(() => {})
    await breaker.execute(boom).catch(() => {})
    await breaker.execute(ok)
    await breaker.execute(boom).catch(() => {})
    await breaker.execute(boom).catch(() => {})
    expect(breaker.state).toBe('closed')
    await expect(breaker.execute(boom)).rejects.toThrow('ECONNREFUSED')
    expect(breaker.state).toBe('open')
    expect(changes).toEqual([['closed', 'open']])
  })

  it('when open, rejects without calling fn, counts the rejection, reports unhealthy', async () => {
    const { breaker, registry, clock, trip } = setup()
    await trip()
    await clock.advance(10_000)
    const fn = vi.fn(ok)
    const err = await breaker.execute(fn).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CircuitOpenError)
    expect((err as CircuitOpenError).details.retryAfterMs).toBe(20_000)
    expect(fn).not.toHaveBeenCalled()
    expect(await metricValue(registry, 'aiops_circuit_breaker_state', 'store')).toBe(2)
    expect(await metricValue(registry, 'aiops_circuit_breaker_rejected_total', 'store')).toBe(1)
    const health = breaker.health()
    expect(health.ok).toBe(false)
    expect(!health.ok && health.error).toMatch(/open after 3 consecutive failures; next trial in 20s/)
    expect(breaker.snapshot()).toEqual({ name: 'store', state: 'open', failures: 3, openedAt: 1_000_000, retryAfterMs: 20_000 })
  })

  it('reports half_open once openMs has passed, before any call, also in the gauge', async () => {
    const { breaker, registry, clock, trip, changes } = setup()
    await trip()
    await clock.advance(29_999)
    expect(await metricValue(registry, 'aiops_circuit_breaker_state', 'store')).toBe(2)
    await clock.advance(1)
    // The scrape itself notices the elapsed open time (gauge collect hook), nobody called the breaker.
    expect(await metricValue(registry, 'aiops_circuit_breaker_state', 'store')).toBe(1)
    expect(breaker.state).toBe('half_open')
    expect(breaker.health()).toEqual({ ok: true })
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
    ])
  })

  it('half-open lets one trial at a time; successThreshold successes close it', async () => {
    const { breaker, registry, clock, trip } = setup()
    await trip()
    await clock.advance(30_000)
    let release!: (v: string) => void
    const trial = breaker.execute(() => new Promise<string>((r) => (release = r)))
    const other = vi.fn(ok)
    await expect(breaker.execute(other)).rejects.toBeInstanceOf(CircuitOpenError)
    expect(other).not.toHaveBeenCalled()
    expect(await metricValue(registry, 'aiops_circuit_breaker_rejected_total', 'store')).toBe(1)
    release('first')
    await expect(trial).resolves.toBe('first')
    expect(breaker.state).toBe('half_open') // 1 of 2 successes
    await breaker.execute(ok)
    expect(breaker.state).toBe('closed')
    expect(await metricValue(registry, 'aiops_circuit_breaker_state', 'store')).toBe(0)
    expect(breaker.snapshot()).toEqual({ name: 'store', state: 'closed', failures: 0 })
  })

  it('one failure in half-open opens it again for a full openMs', async () => {
    const { breaker, clock, trip, changes } = setup()
    await trip()
    await clock.advance(30_000)
    await breaker.execute(ok)
    await expect(breaker.execute(boom)).rejects.toThrow('ECONNREFUSED')
    expect(breaker.state).toBe('open')
    expect(breaker.snapshot().retryAfterMs).toBe(30_000)
    expect(changes.map((c) => c[1])).toEqual(['open', 'half_open', 'open'])
  })

  it('does not count programming errors, aborts, or what isFailure excludes', async () => {
    const { breaker } = setup({ failureThreshold: 1 })
    await breaker.execute(() => Promise.reject(new TypeError('bug'))).catch(() => {})
    await breaker.execute(() => Promise.reject(new DOMException('aborted', 'AbortError'))).catch(() => {})
    expect(breaker.state).toBe('closed')
    const custom = new CircuitBreaker('x', { ...settings, failureThreshold: 1 }, { isFailure: (e) => (e as Error).message === '5xx' })
    await custom.execute(() => Promise.reject(new Error('4xx'))).catch(() => {})
    expect(custom.state).toBe('closed')
    await custom.execute(() => Promise.reject(new Error('5xx'))).catch(() => {})
    expect(custom.state).toBe('open')
  })

  it('ignores results of calls that started before a transition', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1 })
    let failLate!: (e: Error) => void
    const late = breaker.execute(() => new Promise<string>((_, rej) => (failLate = rej)))
    await breaker.execute(boom).catch(() => {})
    expect(breaker.state).toBe('open')
    await clock.advance(10_000)
    failLate(new Error('late'))
    await late.catch(() => {})
    expect(breaker.snapshot().retryAfterMs).toBe(20_000) // not re-stamped by the stale failure
  })

  it('shares one registry between breakers without duplicate-metric errors', async () => {
    const registry = new Registry()
    const a = new CircuitBreaker('bus', breakerDefaults.bus, { registry })
    new CircuitBreaker('cache', breakerDefaults.cache, { registry })
    expect(() => new CircuitBreaker('bus', breakerDefaults.bus, { registry })).not.toThrow()
    expect(a.name).toBe('bus')
    const text = await registry.metrics()
    expect(text).toContain('aiops_circuit_breaker_state{breaker="cache"} 0')
    expect(text).toContain('aiops_circuit_breaker_rejected_total{breaker="bus"} 0')
  })
})
