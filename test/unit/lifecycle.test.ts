import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { ManualClock } from '../../src/lib/resilience/clock.js'
import { Shutdown, runUntilSignal } from '../../src/lib/telemetry/lifecycle.js'

function setup(stop: () => Promise<void>, deadlineMs = 30_000) {
  const emitter = new EventEmitter()
  const clock = new ManualClock()
  const exit = vi.fn()
  const done = runUntilSignal({ stop, exit, emitter, clock, deadlineMs })
  return { emitter, clock, exit, done }
}

describe('runUntilSignal', () => {
  it('first signal → stop → exit 0, listeners removed', async () => {
    const stop = vi.fn(async () => {})
    const { emitter, exit, done } = setup(stop)
    expect(emitter.listenerCount('SIGTERM')).toBe(1)
    expect(emitter.listenerCount('SIGINT')).toBe(1)
    expect(stop).not.toHaveBeenCalled()
    emitter.emit('SIGTERM', 'SIGTERM')
    await expect(done).resolves.toBe(0)
    expect(stop).toHaveBeenCalledTimes(1)
    expect(exit.mock.calls).toEqual([[0]])
    expect(emitter.listenerCount('SIGTERM')).toBe(0)
    expect(emitter.listenerCount('SIGINT')).toBe(0)
  })

  it('stop slower than the deadline → exit 130, once', async () => {
    let finishStop!: () => void
    const { emitter, clock, exit, done } = setup(() => new Promise<void>((r) => (finishStop = r)), 1000)
    emitter.emit('SIGINT', 'SIGINT')
    await clock.advance(999)
    expect(exit).not.toHaveBeenCalled()
    await clock.advance(1)
    await expect(done).resolves.toBe(130)
    finishStop()
    await clock.flush()
    expect(exit.mock.calls).toEqual([[130]])
  })

  it('a second signal while stopping → exit 130', async () => {
    const stop = vi.fn(() => new Promise<void>(() => {}))
    const { emitter, exit, done } = setup(stop)
    emitter.emit('SIGTERM', 'SIGTERM')
    emitter.emit('SIGINT', 'SIGINT')
    await expect(done).resolves.toBe(130)
    expect(stop).toHaveBeenCalledTimes(1)
    expect(exit.mock.calls).toEqual([[130]])
  })

  it('a failing stop → exit 1', async () => {
    const { emitter, exit, done } = setup(async () => {
      throw new Error('flush failed')
    })
    emitter.emit('SIGTERM', 'SIGTERM')
    await expect(done).resolves.toBe(1)
    expect(exit.mock.calls).toEqual([[1]])
  })
})

describe('Shutdown', () => {
  it('closes in reverse order, each once, and is safe to run twice', async () => {
    const order: string[] = []
    const s = new Shutdown()
    s.add('bus', async () => void order.push('bus'))
    s.add('store', () => void order.push('store'))
    s.add('server', async () => void order.push('server'))
    const a = s.run()
    const b = s.run()
    expect(b).toBe(a)
    await a
    await s.run()
    expect(order).toEqual(['server', 'store', 'bus'])
    expect(s.started).toBe(true)
  })

  it('keeps closing after a failure and reports all failures together', async () => {
    const order: string[] = []
    const s = new Shutdown()
    s.add('a', () => void order.push('a'))
    s.add('b', () => {
      throw new Error('b broke')
    })
    s.add('c', () => void order.push('c'))
    const err = await s.run().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AggregateError)
    expect((err as AggregateError).errors.map((e: Error) => e.message)).toEqual(['b broke'])
    expect(order).toEqual(['c', 'a'])
  })

  it('closes a resource added after shutdown started right away', async () => {
    const s = new Shutdown()
    await s.run()
    const late = vi.fn()
    s.add('late', late)
    await Promise.resolve()
    expect(late).toHaveBeenCalledTimes(1)
  })
})
