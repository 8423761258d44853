/**
 * Circuit breaker: after repeated failures of a dependency, fail fast (CircuitOpenError, no call made) so
 * callers switch to their fallback instead of queueing behind timeouts; after `openMs`, let one trial call
 * through at a time and close again after `successThreshold` successes.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { CircuitOpenError, isProgrammingError } from '../errors.js'
import { type Clock, systemClock } from './clock.js'

export interface BreakerSettings {
  /** Consecutive failures (in closed) that open the circuit. */
  failureThreshold: number
  /** Successful trial calls (in half-open) that close it again. */
  successThreshold: number
  /** How long it stays open before allowing a trial call. */
  openMs: number
}

export type BreakerName = 'ml_inference' | 'graph_db' | 'external_integrations' | 'store' | 'cache' | 'bus'

/**
 * The first three are the design document's `circuit_breakers` block. The document has no entries for our own
 * backends, so:
 * - store (ClickHouse) 5/2/30 s: the main write path; a replica restart takes tens of seconds, and opening on a
 *   blip would stall ingestion, so it needs as many failures as ml_inference and two good trials to close.
 * - cache (Redis) 3/1/10 s: the fallback (skip the cache, query the store) is cheap while a sick Redis adds its
 *   timeout to every query, so open early; Sentinel promotes a replica in ~10 s, so probe again soon.
 * - bus (Kafka) 5/2/15 s: kafkajs already retries inside a produce, so five failed calls mean a real outage;
 *   leader elections finish in seconds, and the gateway's Retry-After (the open time left) stays short.
 */
export const breakerDefaults: Record<BreakerName, BreakerSettings> = {
  ml_inference: { failureThreshold: 5, successThreshold: 2, openMs: 30_000 },
  graph_db: { failureThreshold: 3, successThreshold: 1, openMs: 60_000 },
  external_integrations: { failureThreshold: 10, successThreshold: 3, openMs: 120_000 },
  store: { failureThreshold: 5, successThreshold: 2, openMs: 30_000 },
  cache: { failureThreshold: 3, successThreshold: 1, openMs: 10_000 },
  bus: { failureThreshold: 5, successThreshold: 2, openMs: 15_000 },
}

export type BreakerState = 'closed' | 'open' | 'half_open'

/** Gauge encoding: 0 closed, 1 half-open, 2 open (so "> 0" alerts on anything but healthy). */
export const breakerStateValue: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 }

export interface BreakerSnapshot {
  name: string
  state: BreakerState
  failures: number
  openedAt?: number
  retryAfterMs?: number
}

export interface CircuitBreakerOptions {
  clock?: Clock
  /** Where the state gauge and rejection counter go; without one the breaker keeps no metrics. */
  registry?: Registry
  /** Which errors count against the dependency. Default: all but programming errors and aborts. */
  isFailure?: (err: unknown) => boolean
  onStateChange?: (from: BreakerState, to: BreakerState) => void
}

/** A TypeError is our bug and an abort is our caller giving up: neither says the dependency is sick. */
export function defaultIsFailure(err: unknown): boolean {
  if (isProgrammingError(err)) return false
  return !(err instanceof Error && err.name === 'AbortError')
}

interface BreakerMetrics {
  state: Gauge<'breaker'>
  rejected: Counter<'breaker'>
  breakers: Set<WeakRef<CircuitBreaker>>
}

// prom-client throws on a second registration of a name, and many breakers share one registry.
const metricsByRegistry = new WeakMap<Registry, BreakerMetrics>()

function metricsFor(registry: Registry): BreakerMetrics {
  const cached = metricsByRegistry.get(registry)
  if (cached) return cached
  const breakers = new Set<WeakRef<CircuitBreaker>>()
  const state =
    (registry.getSingleMetric('aiops_circuit_breaker_state') as Gauge<'breaker'> | undefined) ??
    new Gauge({
      name: 'aiops_circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      labelNames: ['breaker'],
      registers: [registry],
      // open → half_open happens lazily in time; make a scrape see it without waiting for the next call.
      collect() {
        for (const ref of breakers) {
          const b = ref.deref()
          if (b) void b.state
          else breakers.delete(ref)
        }
      },
    })
  const rejected =
    (registry.getSingleMetric('aiops_circuit_breaker_rejected_total') as Counter<'breaker'> | undefined) ??
    new Counter({
      name: 'aiops_circuit_breaker_rejected_total',
      help: 'Calls refused without trying because the circuit was open (or a half-open trial was running)',
      labelNames: ['breaker'],
      registers: [registry],
    })
  const m = { state, rejected, breakers }
  metricsByRegistry.set(registry, m)
  return m
}

/** Every live breaker registered on a metrics registry, for /readyz: which dependencies run degraded. */
export function breakersOf(registry: Registry): BreakerSnapshot[] {
  const m = metricsByRegistry.get(registry)
  if (!m) return []
  const out: BreakerSnapshot[] = []
  for (const ref of m.breakers) {
    const b = ref.deref()
    if (b) out.push(b.snapshot())
    else m.breakers.delete(ref)
  }
  return out
}

export class CircuitBreaker {
  readonly name: string
  private current: BreakerState = 'closed'
  private failures = 0
  private successes = 0
  private openedAt: number | undefined
  private trialInFlight = false
  /** Bumped on each transition: results of calls started in an earlier state are ignored. */
  private generation = 0
  private readonly clock: Clock
  private readonly isFailure: (err: unknown) => boolean
  private readonly metrics: BreakerMetrics | undefined

  constructor(
    name: string,
    private readonly settings: BreakerSettings,
    private readonly opts: CircuitBreakerOptions = {},
  ) {
    this.name = name
    this.clock = opts.clock ?? systemClock
    this.isFailure = opts.isFailure ?? defaultIsFailure
    if (opts.registry) {
      this.metrics = metricsFor(opts.registry)
      this.metrics.breakers.add(new WeakRef(this))
      this.metrics.state.set({ breaker: name }, breakerStateValue.closed)
      this.metrics.rejected.inc({ breaker: name }, 0)
    }
  }

  get state(): BreakerState {
    this.refresh()
    return this.current
  }

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    this.refresh()
    if (this.current === 'open') this.reject(this.openRemainingMs())
    const isTrial = this.current === 'half_open'
    if (isTrial) {
      // Only one trial at a time: a recovering dependency should not get the whole backlog at once.
      if (this.trialInFlight) this.reject(0)
      this.trialInFlight = true
    }
    const generation = this.generation
    try {
      const result = await fn()
      if (generation === this.generation) this.onSuccess()
      return result
    } catch (err) {
      if (generation === this.generation && this.isFailure(err)) this.onFailure()
      throw err
    } finally {
      if (isTrial && generation === this.generation) this.trialInFlight = false
    }
  }

  health(): { ok: true } | { ok: false; error: string } {
    // Half-open reports ok on purpose: a readiness probe failing there would keep traffic (and so the trial
    // call that can close the circuit) away for good.
    if (this.state !== 'open') return { ok: true }
    const s = Math.ceil(this.openRemainingMs() / 1000)
    return { ok: false, error: `circuit ${this.name} open after ${this.failures} consecutive failures; next trial in ${s}s` }
  }

  snapshot(): BreakerSnapshot {
    const state = this.state
    return {
      name: this.name,
      state,
      failures: this.failures,
      ...(this.openedAt !== undefined && state !== 'closed' ? { openedAt: this.openedAt } : {}),
      ...(state === 'open' ? { retryAfterMs: this.openRemainingMs() } : {}),
    }
  }

  private openRemainingMs(): number {
    return Math.max(0, (this.openedAt ?? 0) + this.settings.openMs - this.clock.now())
  }

  private reject(retryAfterMs: number): never {
    this.metrics?.rejected.inc({ breaker: this.name })
    throw new CircuitOpenError(this.name, retryAfterMs)
  }

  private refresh(): void {
    if (this.current === 'open' && this.openRemainingMs() <= 0) this.transition('half_open')
  }

  private onSuccess(): void {
    if (this.current === 'half_open') {
      this.successes += 1
      if (this.successes >= this.settings.successThreshold) this.transition('closed')
    } else {
      this.failures = 0
    }
  }

  private onFailure(): void {
    if (this.current === 'half_open') {
      this.transition('open')
      return
    }
    this.failures += 1
    if (this.failures >= this.settings.failureThreshold) this.transition('open')
  }

  private transition(to: BreakerState): void {
    const from = this.current
    if (from === to) return
    this.current = to
    this.generation += 1
    this.successes = 0
    this.trialInFlight = false
    if (to === 'open') this.openedAt = this.clock.now()
    if (to === 'closed') {
      this.failures = 0
      this.openedAt = undefined
    }
    this.metrics?.state.set({ breaker: this.name }, breakerStateValue[to])
    try {
      this.opts.onStateChange?.(from, to)
    } catch {
      // A listener's bug must not change the breaker's behaviour.
    }
  }
}
