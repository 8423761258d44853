/**
 * What the gateway's BackpressureController reads (src/lib/resilience/backpressure.ts):
 * - lag: the consumers' lag on the signal topics, summed (bus.lag of `<consumer.group>.<signal>` per topic);
 * - insert queue: the sum of the latest `insert_queue` report of every consumer instance (src/lib/control.ts), read
 *   from the control topic with a group of this gateway's own, from the latest offset. A report older than
 *   `staleMs` is ignored: a consumer that stopped reporting must not hold the rate down forever.
 * The control subscription starts in the background and retries: a gateway serves even when the control topic is
 * missing (its insert-queue reading is then 0, and lag alone drives the rate).
 */
import type { Bus, ConsumerHandle } from '../../lib/bus/types.js'
import { decodeControl } from '../../lib/control.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/logger.js'

export function lagReader(bus: Bus, sources: Array<{ topic: string; group: string }>): () => Promise<number> {
  return async () => {
    const reports = await Promise.all(sources.map((s) => bus.lag(s.topic, s.group)))
    return reports.reduce((n, r) => n + r.total, 0)
  }
}

export class InsertQueueReader {
  private readonly reports = new Map<string, { depth: number; tsMs: number }>()
  private handle: ConsumerHandle | undefined
  private stopped = false
  private retry: NodeJS.Timeout | undefined
  /** Resolves once subscribed (tests wait on it). */
  readonly ready: Promise<void>
  private markReady!: () => void

  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly group: string,
    private readonly staleMs: number,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.ready = new Promise((r) => (this.markReady = r))
  }

  start(): void {
    void this.subscribe()
  }

  private async subscribe(): Promise<void> {
    if (this.stopped) return
    try {
      this.handle = await this.bus.consume(
        this.topic,
        this.group,
        async (batch) => {
          for (const rec of batch.records) this.observe(rec.value)
        },
        { fromBeginning: false },
      )
      await this.handle.ready
      if (this.stopped) await this.handle.stop()
      this.markReady()
    } catch (err) {
      this.logger?.logOnce('gateway.control_subscribe_failed', 'warn', 'gateway: cannot read the control topic yet; insert-queue backpressure off until it works', {
        topic: this.topic,
        err,
      })
      if (!this.stopped) {
        this.retry = setTimeout(() => void this.subscribe(), 5_000)
        this.retry.unref()
      }
    }
  }

  /** One control message; anything that is not a well-formed insert_queue report is ignored. */
  observe(value: Buffer): void {
    try {
      const m = decodeControl(value)
      if (m.type === 'insert_queue' && typeof m.depth === 'number' && typeof m.instance === 'string') {
        const prev = this.reports.get(m.instance)
        if (!prev || prev.tsMs <= m.tsMs) this.reports.set(m.instance, { depth: m.depth, tsMs: m.tsMs })
      }
    } catch {
      // Not ours to judge: other agents share the topic; a bad message only means one missing reading.
    }
  }

  /** Sum of the fresh reports. */
  read = async (): Promise<number> => {
    const now = this.clock.now()
    let sum = 0
    for (const [instance, r] of this.reports) {
      if (now - r.tsMs > this.staleMs) this.reports.delete(instance)
      else sum += r.depth
    }
    return sum
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.retry)
    await this.handle?.stop()
  }
}
