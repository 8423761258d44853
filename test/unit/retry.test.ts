import { describe, expect, it, vi } from 'vitest'
import { BackpressureError, CircuitOpenError, DependencyError, TimeoutError, UsageError } from '../../src/lib/errors.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'
import {
  type RetryPolicy,
  backoffDelay,
  nominalDelays,
  parseRetryAfter,
  retry,
  retryPolicies,
} from '../../src/lib/resilience/retry.js'

const mid = (): number => 0.5 // jitter at its midpoint: the nominal delay

/** Moves the manual clock from sleeper to sleeper until the promise settles. */
async function drive<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let settled = false
  p.then(
    () => (settled = true),
    () => (settled = true),
  )
  for (let i = 0; i < 1000 && !settled; i++) {
    await clock.flush()
    if (!settled) await clock.advanceToNext()
  }
  return p
}

function failing(times: number, err: () => unknown = () => new DependencyError('x', 'ECONNREFUSED')) {
  return vi.fn(async (attempt: number) => {
    if (attempt <= times) throw err()
    return `ok@${attempt}`
  })
}

const fixed = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  retries: 3,
  backoff: 'fixed',
  baseMs: 100,
  jitter: 0,
  deadlineMs: 60_000,
  ...over,
})

describe('backoffDelay', () => {
  it('exponential doubles from the base', () => {
    const p: RetryPolicy = { retries: 4, backoff: 'exponential', baseMs: 1000, deadlineMs: 1e6 }
    expect([1, 2, 3, 4].map((n) => backoffDelay(p, n, mid))).toEqual([1000, 2000, 4000, 8000])
  })
  it('linear grows by the base', () => {
    const p: RetryPolicy = { retries: 3, backoff: 'linear', baseMs: 100, deadlineMs: 1e6 }
    expect([1, 2, 3].map((n) => backoffDelay(p, n, mid))).toEqual([100, 200, 300])
  })
  it('fixed stays at the base', () => {
    expect([1, 2, 5].map((n) => backoffDelay(fixed({ baseMs: 500 }), n, mid))).toEqual([500, 500, 500])
  })
  it('caps the nominal delay at maxDelayMs', () => {
    const p: RetryPolicy = { retries: 9, backoff: 'exponential', baseMs: 100, maxDelayMs: 1000, deadlineMs: 1e6 }
    expect(backoffDelay(p, 9, mid)).toBe(1000)
  })
  it('jitter spreads over ±20 % by default and stays inside', () => {
    const p: RetryPolicy = { retries: 3, backoff: 'exponential', baseMs: 1000, deadlineMs: 1e6 }
    expect(backoffDelay(p, 2, () => 0)).toBe(1600)
    expect(backoffDelay(p, 2, () => 1)).toBe(2400)
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(p, 3, Math.random)
      expect(d).toBeGreaterThanOrEqual(3200)
      expect(d).toBeLessThanOrEqual(4800)
    }
    expect(backoffDelay({ ...p, jitter: 0 }, 2, () => 0)).toBe(2000)
    expect(backoffDelay({ ...p, jitter: 0.5 }, 2, () => 1)).toBe(3000)
  })
})

describe('retryPolicies (design document retry table)', () => {
  it.each([
    ['api', [1000, 2000, 4000], 'exponential', 30_000, 39_000],
    ['databaseWrite', [100, 200, 300, 400, 500], 'linear', 10_000, 12_000],
    ['kafkaProduce', [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000], 'exponential', 60_000, 158_000],
    ['mlInference', [500, 500], 'fixed', 5_000, 7_000],
    ['webhook', [5000, 10000, 20000, 40000, 80000], 'exponential', 30_000, 216_000],
  ] as const)('%s', (name, delays, shape, attemptTimeout, deadline) => {
    const p = retryPolicies[name]
    expect(p.retries).toBe(delays.length)
    expect(p.backoff).toBe(shape)
    expect(nominalDelays(p)).toEqual(delays)
    expect(p.attemptTimeoutMs).toBe(attemptTimeout)
    expect(p.deadlineMs).toBe(deadline)
    // The deadline never cuts a documented retry short when attempts fail fast, even at maximum jitter.
    expect(delays.reduce((a, b) => a + b, 0) * 1.2).toBeLessThan(p.deadlineMs)
  })
})

describe('retry', () => {
  it('retries retriable errors with the backoff delays and returns the result', async () => {
    const clock = new ManualClock()
    const fn = failing(2)
    const onRetry = vi.fn()
    const result = await drive(clock, retry(fn, retryPolicies.api, { clock, random: mid, onRetry }))
    expect(result).toBe('ok@3')
    expect(onRetry.mock.calls.map((c) => [c[1], c[2]])).toEqual([
      [1, 1000],
      [2, 2000],
    ])
    expect(clock.now()).toBe(3000)
  })

  it('gives up after retries + 1 attempts with the last error', async () => {
    const clock = new ManualClock()
    let n = 0
    const fn = vi.fn(async () => {
      throw new DependencyError('x', `fail ${++n}`)
    })
    await expect(drive(clock, retry(fn, fixed({ retries: 2 }), { clock }))).rejects.toThrow('fail 3')
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('never retries programming errors, even when isRetriable says yes', async () => {
    const fn = failing(5, () => new TypeError('x is not a function'))
    await expect(retry(fn, fixed(), { clock: new ManualClock(), isRetriable: () => true })).rejects.toThrow(TypeError)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('does not retry non-retriable errors', async () => {
    const fn = failing(5, () => new UsageError('bad flag'))
    await expect(retry(fn, fixed(), { clock: new ManualClock() })).rejects.toThrow('bad flag')
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('stops at the deadline with a TimeoutError caused by the last error', async () => {
    const clock = new ManualClock()
    let n = 0
    const fn = vi.fn(async () => {
      throw new DependencyError('x', `fail ${++n}`)
    })
    const err = await drive(clock, retry(fn, fixed({ retries: 10, baseMs: 1000, deadlineMs: 2500 }), { clock })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeoutError)
    expect((err as TimeoutError).cause).toMatchObject({ message: 'fail 3' })
    expect(fn).toHaveBeenCalledTimes(3) // at 0, 1000, 2000; a 4th would start at 3000, past the deadline
    expect(clock.now()).toBe(2000)
  })

  it('aborts an attempt still running at the deadline', async () => {
    const clock = new ManualClock()
    let seen: AbortSignal | undefined
    const fn = (_n: number, signal: AbortSignal) => {
      seen = signal
      return new Promise<never>(() => {}) // hangs and ignores the signal: the race must not wait for it
    }
    const err = await drive(clock, retry(fn, fixed({ deadlineMs: 5000 }), { clock })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeoutError)
    expect(clock.now()).toBe(5000)
    expect(seen?.aborted).toBe(true)
  })

  it('times out one attempt and retries it', async () => {
    const clock = new ManualClock()
    const onRetry = vi.fn()
    const fn = vi.fn((attempt: number) => (attempt === 1 ? new Promise<string>(() => {}) : Promise.resolve('second')))
    const result = await drive(clock, retry(fn, fixed({ attemptTimeoutMs: 1000 }), { clock, onRetry }))
    expect(result).toBe('second')
    expect(onRetry.mock.calls[0]?.[0]).toBeInstanceOf(TimeoutError)
    expect(clock.now()).toBe(1100)
  })

  describe('Retry-After', () => {
    const cases: Array<[string, () => unknown, number]> = [
      ['retryAfterMs property', () => Object.assign(new Error('429'), { retryAfterMs: 5000 }), 5000],
      ['BackpressureError.retryAfterS', () => new BackpressureError('slow down', 3), 3000],
      ['CircuitOpenError details', () => new CircuitOpenError('store', 4000), 4000],
      ['Response-like headers.get', () => Object.assign(new Error('503'), { response: { headers: new Headers({ 'Retry-After': '7' }) } }), 7000],
      ['plain headers object', () => Object.assign(new Error('503'), { headers: { 'retry-after': '2' } }), 2000],
    ]
    it.each(cases)('%s sets the delay when longer than the backoff', async (_name, make, expected) => {
      const clock = new ManualClock()
      const onRetry = vi.fn()
      await drive(clock, retry(failing(1, make), fixed(), { clock, onRetry }))
      expect(onRetry.mock.calls[0]?.[2]).toBe(expected)
    })

    it('keeps the backoff when it is the longer one', async () => {
      const clock = new ManualClock()
      const onRetry = vi.fn()
      const make = () => Object.assign(new Error('429'), { retryAfterMs: 10 })
      await drive(clock, retry(failing(1, make), fixed(), { clock, onRetry }))
      expect(onRetry.mock.calls[0]?.[2]).toBe(100)
    })

    it('gives up at once when the server asks for longer than the deadline leaves', async () => {
      const clock = new ManualClock()
      const make = () => new BackpressureError('slow down', 120)
      const err = await retry(failing(1, make), fixed({ deadlineMs: 30_000 }), { clock }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(TimeoutError)
      expect((err as TimeoutError).cause).toBeInstanceOf(BackpressureError)
      expect(clock.now()).toBe(0)
    })

    it('parses delta-seconds and HTTP dates', () => {
      const now = Date.parse('2025-01-01T00:00:00Z')
      expect(parseRetryAfter('120', now)).toBe(120_000)
      expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000)
      expect(parseRetryAfter('soon', now)).toBeUndefined()
      expect(parseRetryAfter(null, now)).toBeUndefined()
    })
  })

  describe('abort', () => {
    it('does not call fn when the signal is already aborted', async () => {
      const fn = vi.fn(async () => 'x')
      await expect(retry(fn, fixed(), { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone')
      expect(fn).not.toHaveBeenCalled()
    })

    it('rejects promptly during a backoff sleep, without the clock moving', async () => {
      const clock = new ManualClock()
      const ctl = new AbortController()
      const fn = failing(5)
      const p = retry(fn, fixed({ baseMs: 60_000, deadlineMs: 600_000 }), { clock, signal: ctl.signal })
      await clock.flush()
      expect(fn).toHaveBeenCalledTimes(1)
      ctl.abort(new Error('shutdown'))
      await expect(p).rejects.toThrow('shutdown')
      expect(clock.pending).toBe(0)
    })

    it('rejects promptly during an attempt and aborts the attempt signal', async () => {
      const clock = new ManualClock()
      const ctl = new AbortController()
      let seen: AbortSignal | undefined
      const p = retry(
        (_n, signal) => {
          seen = signal
          return new Promise<never>(() => {})
        },
        fixed({ attemptTimeoutMs: 10_000 }),
        { clock, signal: ctl.signal },
      )
      await clock.flush()
      ctl.abort(new Error('shutdown'))
      await expect(p).rejects.toThrow('shutdown')
      expect(seen?.aborted).toBe(true)
      expect(clock.pending).toBe(0)
    })
  })
})
