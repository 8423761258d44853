/**
 * Adaptive sampling at the gateway (the design's BackpressureController): when the bus consumers fall behind or
 * the store's insert queue grows, keep fewer ordinary events so the pipeline catches up; errors and slow
 * requests are always kept because they are what an incident investigation needs.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Logger } from '../telemetry/logger.js'
import { type Clock, systemClock } from './clock.js'

export interface BackpressureSources {
  /** Total consumer lag of the pipeline's group(s), in records. */
  readLag: () => Promise<number>
  /** Rows (or blocks) waiting in the store's insert queue. */
  readInsertQueue: () => Promise<number>
}

export interface BackpressureThresholds {
  lagThreshold: number
  insertQueueThreshold: number
  /** Floor of the sample rate (the design's 1 %): some ordinary traffic always gets through. */
  minRate?: number
}

export interface BackpressureOptions {
  /** How often to read the sources and adjust (default 10 s, the design's value). */
  intervalMs?: number
  clock?: Clock
  registry?: Registry
  logger?: Logger
  /** Used by shouldKeep for events without a hash. */
  random?: () => number
}

export interface SampleEvent {
  isError?: boolean
  isSlow?: boolean
  /** Deterministic position in 0..1 (e.g. hashUnit(traceId)) so all spans of a trace share one decision. */
  hash?: number
}

const DECREASE_LAG = 0.9
const DECREASE_QUEUE = 0.8
const INCREASE = 1.1

/**
 * Maps a string (trace id) to [0, 1) with FNV-1a. Monotone sampling follows: an id kept at rate r is kept at
 * every higher rate, so raising the rate never splits a trace that was being kept.
 */
export function hashUnit(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h / 0x1_0000_0000
}

export class BackpressureController {
  private current = 1
  private errors = 0
  private loop: { ctl: AbortController; done: Promise<void> } | undefined
  private readonly intervalMs: number
  private readonly minRate: number
  private readonly clock: Clock
  private readonly random: () => number
  private readonly gauge: Gauge | undefined
  private readonly errorCounter: Counter | undefined

  constructor(
    private readonly sources: BackpressureSources,
    private readonly thresholds: BackpressureThresholds,
    private readonly opts: BackpressureOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 10_000
    this.minRate = Math.min(1, Math.max(0, thresholds.minRate ?? 0.01))
    this.clock = opts.clock ?? systemClock
    this.random = opts.random ?? Math.random
    if (opts.registry) {
      const r = opts.registry
      this.gauge =
        (r.getSingleMetric('aiops_sample_rate') as Gauge | undefined) ??
        new Gauge({ name: 'aiops_sample_rate', help: 'Fraction of ordinary events kept by backpressure sampling', registers: [r] })
      this.errorCounter =
        (r.getSingleMetric('aiops_backpressure_read_errors_total') as Counter | undefined) ??
        new Counter({
          name: 'aiops_backpressure_read_errors_total',
          help: 'Backpressure checks skipped because lag or insert-queue depth could not be read',
          registers: [r],
        })
      this.gauge.set(this.current)
    }
  }

  get rate(): number {
    return this.current
  }

  /** Checks whose sources could not be read (the rate was left unchanged). */
  get readErrors(): number {
    return this.errors
  }

  shouldKeep(event: SampleEvent): boolean {
    if (event.isError || event.isSlow) return true
    const h = event.hash ?? this.random()
    return h < this.current
  }

  /** One check: read both sources and adjust the rate. Returns the new rate. */
  async tick(): Promise<number> {
    let lag: number
    let queue: number
    try {
      ;[lag, queue] = await Promise.all([this.read(this.sources.readLag), this.read(this.sources.readInsertQueue)])
    } catch (err) {
      // Without a reading we cannot tell overload from recovery: hold the rate rather than guess.
      this.errors += 1
      this.errorCounter?.inc()
      this.opts.logger?.logOnce('backpressure.read_failed', 'warn', 'backpressure: cannot read lag or insert queue; sample rate unchanged', {
        err,
        rate: this.current,
      })
      return this.current
    }
    const { lagThreshold, insertQueueThreshold } = this.thresholds
    const before = this.current
    let next = before
    // Both pressures apply together (0.9 × 0.8) — the design's elif let a lagging bus hide a full insert queue.
    if (lag > lagThreshold) next *= DECREASE_LAG
    if (queue > insertQueueThreshold) next *= DECREASE_QUEUE
    if (lag < lagThreshold * 0.5 && queue <= insertQueueThreshold) next = Math.min(1, next * INCREASE)
    next = Math.max(this.minRate, Math.min(1, next))
    if (next !== before) {
      this.current = next
      this.gauge?.set(next)
      const fields = { lag, insertQueue: queue, rate: Number(next.toFixed(4)) }
      if (next < before) this.opts.logger?.warn('backpressure: reducing sample rate', fields)
      else this.opts.logger?.info('backpressure easing: increasing sample rate', fields)
    }
    return next
  }

  /** Starts checking every intervalMs (first check after one interval). Idempotent. */
  start(): void {
    if (this.loop) return
    const ctl = new AbortController()
    const run = async (): Promise<void> => {
      while (!ctl.signal.aborted) {
        try {
          await this.clock.sleep(this.intervalMs, ctl.signal)
        } catch {
          return
        }
        // Sequential on purpose: a slow check delays the next one instead of piling up.
        await this.tick()
      }
    }
    this.loop = { ctl, done: run() }
  }

  /** Stops the loop and waits for a check in progress. Safe to call twice. */
  async stop(): Promise<void> {
    const loop = this.loop
    if (!loop) return
    this.loop = undefined
    loop.ctl.abort()
    await loop.done
  }

  /** A source that hangs must not freeze the controller: give each read at most one interval. */
  private async read(source: () => Promise<number>): Promise<number> {
    const timer = new AbortController()
    try {
      const value = await Promise.race([
        source(),
        this.clock.sleep(this.intervalMs, timer.signal).then(() => {
          throw new Error(`backpressure source did not answer within ${this.intervalMs}ms`)
        }),
      ])
      if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`backpressure source returned ${String(value)}`)
      return value
    } finally {
      timer.abort()
    }
  }
}
