import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { BackpressureController, hashUnit } from '../../src/lib/resilience/backpressure.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'

function setup(opts: { minRate?: number } = {}) {
  const state = { lag: 0, queue: 0, fail: false }
  const clock = new ManualClock()
  const registry = new Registry()
  const read = (k: 'lag' | 'queue') => async () => {
    if (state.fail) throw new Error('broker unreachable')
    return state[k]
  }
  const bp = new BackpressureController(
    { readLag: read('lag'), readInsertQueue: read('queue') },
    { lagThreshold: 1000, insertQueueThreshold: 100, ...opts },
    { clock, registry, intervalMs: 10_000 },
  )
  return { state, clock, registry, bp }
}

const gauge = async (r: Registry) => (await r.getSingleMetric('aiops_sample_rate')?.get())?.values[0]?.value

describe('BackpressureController rules', () => {
  it('lag above threshold → × 0.9', async () => {
    const { state, bp } = setup()
    state.lag = 1001
    expect(await bp.tick()).toBeCloseTo(0.9)
  })
  it('insert queue above threshold → × 0.8', async () => {
    const { state, bp } = setup()
    state.queue = 101
    expect(await bp.tick()).toBeCloseTo(0.8)
  })
  it('both above → both apply (× 0.72)', async () => {
    const { state, bp } = setup()
    state.lag = 5000
    state.queue = 5000
    expect(await bp.tick()).toBeCloseTo(0.72)
  })
  it('lag below half the threshold → × 1.1, capped at 1.0', async () => {
    const { state, bp } = setup()
    state.lag = 2000
    await bp.tick()
    await bp.tick() // 0.81
    state.lag = 499
    expect(await bp.tick()).toBeCloseTo(0.891)
    expect(await bp.tick()).toBeCloseTo(0.9801)
    expect(await bp.tick()).toBe(1)
    expect(await bp.tick()).toBe(1)
  })
  it('holds the rate between half and full threshold', async () => {
    const { state, bp } = setup()
    state.lag = 2000
    await bp.tick()
    state.lag = 500 // exactly half: not below it
    expect(await bp.tick()).toBeCloseTo(0.9)
    state.lag = 1000 // exactly the threshold: not above it
    expect(await bp.tick()).toBeCloseTo(0.9)
  })
  it('does not raise the rate while the insert queue is above threshold, even with low lag', async () => {
    const { state, bp } = setup()
    state.queue = 200
    expect(await bp.tick()).toBeCloseTo(0.8)
    expect(await bp.tick()).toBeCloseTo(0.64)
  })
  it('never goes below 1 % (or the configured floor)', async () => {
    const { state, bp } = setup()
    state.lag = state.queue = 1e9
    for (let i = 0; i < 100; i++) await bp.tick()
    expect(bp.rate).toBe(0.01)
    const custom = setup({ minRate: 0.2 })
    custom.state.lag = 1e9
    for (let i = 0; i < 100; i++) await custom.bp.tick()
    expect(custom.bp.rate).toBe(0.2)
  })
  it('publishes the rate as aiops_sample_rate', async () => {
    const { state, bp, registry } = setup()
    expect(await gauge(registry)).toBe(1)
    state.queue = 1000
    await bp.tick()
    expect(await gauge(registry)).toBeCloseTo(0.8)
  })
  it('a failing source leaves the rate unchanged and counts the error', async () => {
    const { state, bp, registry } = setup()
    state.lag = 2000
    await bp.tick()
    state.fail = true
    expect(await bp.tick()).toBeCloseTo(0.9)
    expect(bp.readErrors).toBe(1)
    expect((await registry.getSingleMetric('aiops_backpressure_read_errors_total')?.get())?.values[0]?.value).toBe(1)
  })
  it('a hanging source counts as an error after one interval', async () => {
    const clock = new ManualClock()
    const bp = new BackpressureController(
      { readLag: () => new Promise<number>(() => {}), readInsertQueue: async () => 0 },
      { lagThreshold: 10, insertQueueThreshold: 10 },
      { clock, intervalMs: 10_000 },
    )
    const t = bp.tick()
    await clock.advance(10_000)
    expect(await t).toBe(1)
    expect(bp.readErrors).toBe(1)
  })
})

describe('BackpressureController loop', () => {
  it('checks every interval on the injected clock and stops cleanly', async () => {
    const { state, bp, clock } = setup()
    state.lag = 2000
    bp.start()
    bp.start() // idempotent: still one loop
    await clock.advance(9_999)
    expect(bp.rate).toBe(1)
    await clock.advance(1)
    expect(bp.rate).toBeCloseTo(0.9)
    await clock.advance(20_000)
    expect(bp.rate).toBeCloseTo(0.729)
    await bp.stop()
    await bp.stop()
    await clock.advance(100_000)
    expect(bp.rate).toBeCloseTo(0.729)
    expect(clock.pending).toBe(0)
  })
})

describe('shouldKeep', () => {
  it('always keeps errors and slow events, even at the floor', async () => {
    const { state, bp } = setup()
    state.lag = state.queue = 1e9
    for (let i = 0; i < 100; i++) await bp.tick()
    expect(bp.shouldKeep({ isError: true, hash: 0.99 })).toBe(true)
    expect(bp.shouldKeep({ isSlow: true, hash: 0.99 })).toBe(true)
    expect(bp.shouldKeep({ hash: 0.99 })).toBe(false)
    expect(bp.shouldKeep({ hash: 0.005 })).toBe(true)
  })
  it('keeps by hash < rate: one trace, one decision; kept stays kept as the rate rises', async () => {
    const { state, bp } = setup()
    state.queue = 1000
    await bp.tick() // 0.8
    await bp.tick() // 0.64
    const ids = Array.from({ length: 500 }, (_, i) => `4bf92f3577b34da6a3ce929d0e0e${i.toString(16).padStart(4, '0')}`)
    const keptAtLow = ids.filter((id) => bp.shouldKeep({ hash: hashUnit(id) }))
    expect(ids.every((id) => bp.shouldKeep({ hash: hashUnit(id) }) === bp.shouldKeep({ hash: hashUnit(id) }))).toBe(true)
    state.queue = 0
    await bp.tick()
    expect(keptAtLow.every((id) => bp.shouldKeep({ hash: hashUnit(id) }))).toBe(true)
  })
  it('uses the random source without a hash', () => {
    let r = 0.3
    const bp = new BackpressureController(
      { readLag: async () => 0, readInsertQueue: async () => 0 },
      { lagThreshold: 1, insertQueueThreshold: 1 },
      { random: () => r },
    )
    expect(bp.shouldKeep({})).toBe(true)
    r = 1
    expect(bp.shouldKeep({})).toBe(false)
  })
  it('hashUnit is deterministic and in [0, 1)', () => {
    expect(hashUnit('abc')).toBe(hashUnit('abc'))
    for (const s of ['', 'a', 'ffffffffffffffffffffffffffffffff', '0']) {
      expect(hashUnit(s)).toBeGreaterThanOrEqual(0)
      expect(hashUnit(s)).toBeLessThan(1)
    }
  })
})
