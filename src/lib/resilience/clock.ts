/**
 * Time and sleep are injected (never faked through env or global timers) so retry, breakers, backpressure,
 * probes and shutdown deadlines can be tested deterministically with `ManualClock`.
 */

export interface Clock {
  /** Milliseconds since the epoch (system clock) or since the manual clock's origin. */
  now(): number
  /** Resolves after `ms`; rejects with `signal.reason` as soon as the signal aborts (or at once if it already has). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

function abortReason(signal: AbortSignal): unknown {
  // `reason` is always set by AbortController.abort() in Node 20; the fallback covers hand-made signals.
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal))
        return
      }
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(abortReason(signal as AbortSignal))
      }
      // Kept ref'd on purpose: a pending retry or shutdown deadline must keep the process alive.
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, Math.max(0, ms))
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  },
}

interface Sleeper {
  at: number
  seq: number
  resolve: () => void
}

/** Lets every promise continuation queued so far (and the ones they queue) run before we go on. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * A clock that only moves when a test says so. `advance(ms)` wakes sleepers in due-time order (ties in the
 * order they went to sleep) and, between wake-ups, lets the woken code run, so code that sleeps again inside
 * the window (a retry loop, a probe loop) is woken too. Await it.
 */
export class ManualClock implements Clock {
  private current: number
  private seq = 0
  private sleepers: Sleeper[] = []

  constructor(startMs = 0) {
    this.current = startMs
  }

  now(): number {
    return this.current
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal))
        return
      }
      const sleeper: Sleeper = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve: () => {} }
      const onAbort = (): void => {
        // Removed so an aborted sleep never fires later and pending() stays truthful.
        this.sleepers = this.sleepers.filter((s) => s !== sleeper)
        reject(abortReason(signal as AbortSignal))
      }
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.sleepers.push(sleeper)
    })
  }

  /** Number of sleeps not yet woken: lets a test wait until the code under test has gone to sleep. */
  get pending(): number {
    return this.sleepers.length
  }

  /** Due time of the earliest sleeper, if any. */
  nextWakeAt(): number | undefined {
    return this.earliest()?.at
  }

  /** Moves time forward by `ms`, waking every sleeper due by then, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + Math.max(0, ms)
    await flushMicrotasks()
    for (;;) {
      const next = this.earliest()
      if (!next || next.at > target) break
      this.sleepers = this.sleepers.filter((s) => s !== next)
      this.current = Math.max(this.current, next.at)
      next.resolve()
      await flushMicrotasks()
    }
    this.current = target
    await flushMicrotasks()
  }

  /** Advances straight to the next sleeper's due time (no-op when nobody sleeps). */
  async advanceToNext(): Promise<void> {
    const next = this.earliest()
    if (next) await this.advance(next.at - this.current)
  }

  /** Lets pending promise continuations run without moving time. */
  async flush(): Promise<void> {
    await flushMicrotasks()
  }

  private earliest(): Sleeper | undefined {
    let best: Sleeper | undefined
    for (const s of this.sleepers) {
      if (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s
    }
    return best
  }
}
