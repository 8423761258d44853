/**
 * The one retry helper (modelled on kafkajs retry and the OTel retrying exporter): jittered backoff, a
 * per-attempt timeout, an overall deadline, Retry-After honoured, programming errors never retried, and an
 * AbortSignal that stops everything at once.
 */
import { AiopsError, TimeoutError, isProgrammingError, isRetriable as defaultIsRetriable } from '../errors.js'
import { type Clock, systemClock } from './clock.js'

export interface RetryPolicy {
  /** Retries after the first attempt: `retries: 3` means up to 4 attempts and 3 delays. */
  retries: number
  backoff: 'exponential' | 'linear' | 'fixed'
  /** exponential: base·2^(n−1); linear: base·n; fixed: base (n = 1 for the delay before the first retry). */
  baseMs: number
  /** Cap on the nominal delay before jitter (Retry-After from the server is not capped by it). */
  maxDelayMs?: number
  /** Fraction 0..1: each delay is spread uniformly over ±jitter around its nominal value. Default 0.2. */
  jitter?: number
  /** Bound on one attempt; the attempt's signal aborts and it counts as a retriable TimeoutError. */
  attemptTimeoutMs?: number
  /** Bound on the whole call, attempts and delays included. */
  deadlineMs: number
}

export const DEFAULT_JITTER = 0.2

/** The nominal (un-jittered) delays a policy would sleep between attempts, for docs, tests and budgets. */
export function nominalDelays(policy: RetryPolicy): number[] {
  return Array.from({ length: policy.retries }, (_, i) => backoffDelay({ ...policy, jitter: 0 }, i + 1, () => 0.5))
}

/**
 * Reading of the design document's retry table ("Timeout" column): it is the PER-ATTEMPT timeout. The
 * document's pseudocode passes it to each attempt (`operation.execute(timeout=config.timeout)`), and the
 * webhook row only makes sense that way (delays 5+10+20+40+80 s = 155 s could never fit in 30 s overall).
 * The overall deadline is then derived: one full attempt timeout plus every delay at maximum jitter, rounded
 * up to a second. So when a dependency fails fast (connection refused, 503) every documented retry happens;
 * when it hangs, the caller is held for about one attempt timeout plus the backoff, not (retries+1) timeouts.
 */
function withDeadline(p: Omit<RetryPolicy, 'deadlineMs'>): RetryPolicy {
  const maxJitter = 1 + (p.jitter ?? DEFAULT_JITTER)
  const delays = nominalDelays({ ...p, deadlineMs: 0 }).reduce((a, b) => a + b, 0)
  return { ...p, deadlineMs: (p.attemptTimeoutMs ?? 0) + Math.ceil(Math.round(delays * maxJitter) / 1000) * 1000 }
}

export const retryPolicies = {
  /** API calls: 3 × exponential 1 s, 2 s, 4 s; 30 s per attempt (deadline 39 s). */
  api: withDeadline({ retries: 3, backoff: 'exponential', baseMs: 1_000, attemptTimeoutMs: 30_000 }),
  /** Database writes: 5 × linear 100 ms (100…500 ms); 10 s per attempt (deadline 12 s). */
  databaseWrite: withDeadline({ retries: 5, backoff: 'linear', baseMs: 100, attemptTimeoutMs: 10_000 }),
  /**
   * Kafka produce: 10 × exponential from 100 ms; 60 s per attempt. The 10th nominal delay would be 51.2 s; we cap
   * delays at 30 s like kafkajs's maxRetryTime so a long outage does not turn into minute-long silences
   * (deadline 158 s).
   */
  kafkaProduce: withDeadline({
    retries: 10,
    backoff: 'exponential',
    baseMs: 100,
    maxDelayMs: 30_000,
    attemptTimeoutMs: 60_000,
  }),
  /** ML inference: 2 × fixed 500 ms; 5 s per attempt (deadline 7 s), then the statistical fallback takes over. */
  mlInference: withDeadline({ retries: 2, backoff: 'fixed', baseMs: 500, attemptTimeoutMs: 5_000 }),
  /** External webhooks: 5 × exponential 5, 10, 20, 40, 80 s; 30 s per attempt (deadline 216 s). */
  webhook: withDeadline({ retries: 5, backoff: 'exponential', baseMs: 5_000, attemptTimeoutMs: 30_000 }),
} satisfies Record<string, RetryPolicy>

/**
 * Delay before retry number `attempt` (1 = before the second call). The nominal value is capped by
 * maxDelayMs, then spread over [1−j, 1+j]·nominal; `random() = 0.5` gives exactly the nominal value.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const n = Math.max(1, attempt)
  let nominal: number
  switch (policy.backoff) {
    case 'exponential':
      nominal = policy.baseMs * 2 ** (n - 1)
      break
    case 'linear':
      nominal = policy.baseMs * n
      break
    case 'fixed':
      nominal = policy.baseMs
      break
  }
  const capped = Math.min(nominal, policy.maxDelayMs ?? Number.POSITIVE_INFINITY)
  const j = Math.min(1, Math.max(0, policy.jitter ?? DEFAULT_JITTER))
  const r = Math.min(1, Math.max(0, random()))
  return Math.round(capped * (1 - j + 2 * j * r))
}

/** Parses an HTTP Retry-After value: delta-seconds or an HTTP date (relative to `nowMs`). */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

function headerValue(headers: unknown): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined
  const h = headers as { get?: unknown } & Record<string, unknown>
  if (typeof h.get === 'function') return (h.get as (n: string) => string | null)('retry-after') ?? undefined
  const v = h['retry-after'] ?? h['Retry-After']
  return typeof v === 'string' ? v : undefined
}

/**
 * How long the failing side asked us to wait, in ms: `retryAfterMs`, `retryAfterS` (BackpressureError),
 * the same keys in an AiopsError's details (CircuitOpenError), or a Retry-After header on the error, its
 * `response` or `headers` (fetch Response, node IncomingMessage headers).
 */
export function retryAfterOf(err: unknown, nowMs: number): number | undefined {
  if (!err || typeof err !== 'object') return undefined
  const e = err as Record<string, unknown>
  const details = err instanceof AiopsError ? err.details : {}
  for (const src of [e, details]) {
    if (typeof src.retryAfterMs === 'number' && Number.isFinite(src.retryAfterMs)) return src.retryAfterMs
    if (typeof src.retryAfterS === 'number' && Number.isFinite(src.retryAfterS)) return src.retryAfterS * 1000
  }
  const response = e.response as { headers?: unknown } | undefined
  return parseRetryAfter(headerValue(e.headers) ?? headerValue(response?.headers), nowMs)
}

export interface RetryOptions {
  signal?: AbortSignal
  clock?: Clock
  random?: () => number
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void
  isRetriable?: (err: unknown) => boolean
  /** Names the operation in the TimeoutError message, e.g. "clickhouse insert". */
  operation?: string
}

/** Internal marker: the overall deadline fired while an attempt was running. */
class DeadlineReached extends Error {}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}

const ATTEMPT_DONE = Object.freeze({ reason: 'attempt finished' })

/** Runs one attempt, racing it against its time limit and the caller's signal so neither waits on `fn`. */
async function runAttempt<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  attempt: number,
  limitMs: number,
  deadline: number,
  attemptTimeoutMs: number | undefined,
  clock: Clock,
  outer: AbortSignal | undefined,
): Promise<T> {
  const ctl = new AbortController()
  const timerCtl = new AbortController()
  // A preallocated reason: abort() without one builds a stack-traced DOMException on every attempt (~2% of a
  // gateway's CPU in its profile), and this abort only cancels our own timer.
  const cleanup: Array<() => void> = [() => timerCtl.abort(ATTEMPT_DONE)]
  const racers: Array<Promise<T>> = []

  if (outer) {
    racers.push(
      new Promise<T>((_, reject) => {
        const onAbort = (): void => reject(abortReason(outer))
        outer.addEventListener('abort', onAbort, { once: true })
        cleanup.push(() => outer.removeEventListener('abort', onAbort))
      }),
    )
  }
  if (Number.isFinite(limitMs)) {
    racers.push(
      clock.sleep(limitMs, timerCtl.signal).then(() => {
        // The limit is the nearer of the attempt timeout and the deadline; which one fired decides the error.
        if (clock.now() >= deadline) throw new DeadlineReached()
        throw new TimeoutError(`attempt ${attempt}`, attemptTimeoutMs ?? limitMs)
      }),
    )
  }
  let call: Promise<T>
  try {
    call = fn(attempt, ctl.signal)
  } catch (err) {
    call = Promise.reject(err)
  }
  racers.push(call)
  try {
    return await Promise.race(racers)
  } catch (err) {
    // Tell the losing call to stop its I/O; its own later rejection is expected and swallowed.
    if (!ctl.signal.aborted) ctl.abort(err)
    throw err
  } finally {
    call.catch(() => {})
    for (const f of cleanup) f()
  }
}

export async function retry<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
  opts: RetryOptions = {},
): Promise<T> {
  const clock = opts.clock ?? systemClock
  const random = opts.random ?? Math.random
  const retriable = opts.isRetriable ?? defaultIsRetriable
  const outer = opts.signal
  const deadline = clock.now() + policy.deadlineMs
  const what = opts.operation ?? 'operation'
  let lastError: unknown
  let attempts = 0

  const deadlineError = (cause: unknown): TimeoutError =>
    new TimeoutError(`${what} (${attempts} attempt${attempts === 1 ? '' : 's'})`, policy.deadlineMs, {
      cause,
      details: { attempts, deadlineMs: policy.deadlineMs },
    })

  if (outer?.aborted) throw abortReason(outer)
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - clock.now()
    if (remaining <= 0) throw deadlineError(lastError)
    const limit = Math.min(policy.attemptTimeoutMs ?? Number.POSITIVE_INFINITY, remaining)
    attempts = attempt
    try {
      return await runAttempt(fn, attempt, limit, deadline, policy.attemptTimeoutMs, clock, outer)
    } catch (err) {
      if (outer?.aborted) throw abortReason(outer)
      if (err instanceof DeadlineReached) throw deadlineError(lastError)
      lastError = err
      // Programming errors are never retried, whatever a custom isRetriable says: retrying only hides the bug.
      if (attempt > policy.retries || isProgrammingError(err) || !retriable(err)) throw err
      const delay = Math.max(backoffDelay(policy, attempt, random), retryAfterOf(err, clock.now()) ?? 0)
      // Sleeping past the deadline only to give up would waste the caller's time: give up now.
      if (clock.now() + delay >= deadline) throw deadlineError(err)
      opts.onRetry?.(err, attempt, delay)
      await clock.sleep(delay, outer)
    }
  }
}
