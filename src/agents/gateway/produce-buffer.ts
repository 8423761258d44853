/**
 * Between accepted requests and the bus: a bounded in-memory buffer that batches records from many requests into
 * few produce calls and only tells a request "done" once its records are on the bus (or in the disk spool).
 *
 * - submit() refuses at once (BufferFullError → 503) when the records would take the buffer past maxBytes; that is
 *   the only refusal. Once submitted, records are never dropped: a failed produce puts them back at the head of the
 *   queue and tries again after a backoff (the bus's own retry policy has run inside each call already).
 * - Up to `concurrency` produce calls run at once, each with up to maxBatchBytes of one topic's records.
 * - With a spool, records that have waited spoolAfterMs (the bus is down or slow) are written to disk and acknowledged
 *   from there; the spool replays them when the bus is back. A produce call running longer than that is aborted
 *   first (its records then go to disk too). If the broker was alive but slow, that aborted call may still land
 *   later and the replay then sends the records a second time: the spool trades this rare duplicate for clients
 *   not waiting out a long outage. Without a spool nothing is ever sent twice by the gateway.
 * - drain() (shutdown) refuses new records and waits until everything queued is produced or spooled.
 */
import { setMaxListeners } from 'node:events'
import type { Bus, BusRecord } from '../../lib/bus/types.js'
import { BackpressureError } from '../../lib/errors.js'
import { backoffDelay, type RetryPolicy } from '../../lib/resilience/retry.js'
import { type Clock, systemClock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/logger.js'

export type Delivery = 'produced' | 'spooled'

export class BufferFullError extends BackpressureError {
  constructor(reason: 'buffer_full' | 'shutting_down', message: string, retryAfterS: number) {
    super(message, retryAfterS, { code: reason === 'buffer_full' ? 'AIOPS_GATEWAY_BUFFER_FULL' : 'AIOPS_GATEWAY_DRAINING', details: { reason } })
  }
}

export interface SpoolSink {
  /** Writes records durably (fsync) and resolves; rejects when the spool is full or the disk fails. */
  append(topic: string, records: BusRecord[]): Promise<void>
}

export interface ProduceBufferOptions {
  bus: Bus
  maxBytes: number
  maxBatchBytes: number
  concurrency: number
  /**
   * A free produce slot waits until the oldest queued entry is this old (or maxBatchBytes are queued) before it sends:
   * Kafka's linger.ms. Without it, at moderate load every request went out in its own small call, which cost ~40%
   * more CPU per span than the large batches of peak load, so the gateway ran near saturation at 70% of its peak and
   * queued. 0 (the gateway's default since small batches are gzipped synchronously, see bus/kafka-gzip.ts) sends at
   * once.
   */
  lingerMs?: number
  retryAfterS: number
  spool?: { sink: SpoolSink; afterMs: number }
  clock?: Clock
  logger?: Logger
  /** Called after each successful produce call (metrics). */
  onProduced?: (topic: string, records: number, seconds: number) => void
  /** Called when a produce call failed and its records went back to the queue (metrics). */
  onRequeue?: (topic: string, records: number, reason: 'failed' | 'spooling') => void
  /** Called whenever the buffered amount changes (metrics). */
  onDepth?: (bytes: number, records: number) => void
}

interface Entry {
  topic: string
  records: BusRecord[]
  bytes: number
  at: number
  resolve: (d: Delivery) => void
}

const RETRY: RetryPolicy = { retries: Infinity, backoff: 'exponential', baseMs: 100, maxDelayMs: 5_000, deadlineMs: Infinity }

export class ProduceBuffer {
  private queue: Entry[] = []
  private bytes = 0
  private records = 0
  private inflight = 0
  private failures = 0
  private retryTimer: NodeJS.Timeout | undefined
  private lingerTimer: NodeJS.Timeout | undefined
  /** Set when the linger timer fired: the next batch goes without waiting again (whatever the clock says). */
  private lingerDone = false
  private spoolTimer: NodeJS.Timeout | undefined
  private closed = false
  private spooling: Promise<void> | undefined
  /** Produce calls in flight, with when they started (the spool aborts the ones that take too long). */
  private readonly calls = new Set<{ at: number; ctl: AbortController }>()
  private idle: Array<() => void> = []
  private readonly clock: Clock

  constructor(private readonly o: ProduceBufferOptions) {
    this.clock = o.clock ?? systemClock
    if (o.spool) {
      this.spoolTimer = setInterval(() => void this.spoolWaiting(false), Math.max(10, Math.floor(o.spool.afterMs / 4)))
      this.spoolTimer.unref()
    }
  }

  get depthBytes(): number {
    return this.bytes
  }

  /** Resolves once the records are on the bus ('produced') or on disk ('spooled'). */
  submit(topic: string, records: BusRecord[], bytes: number): Promise<Delivery> {
    if (this.closed) return Promise.reject(new BufferFullError('shutting_down', 'gateway is shutting down', this.o.retryAfterS))
    if (records.length === 0) return Promise.resolve('produced')
    if (this.bytes + bytes > this.o.maxBytes && this.bytes > 0) {
      return Promise.reject(
        new BufferFullError('buffer_full', `produce buffer full (${this.bytes} of ${this.o.maxBytes} bytes waiting for the bus)`, this.o.retryAfterS),
      )
    }
    return new Promise<Delivery>((resolve) => {
      this.queue.push({ topic, records, bytes, at: this.clock.now(), resolve })
      this.changeDepth(bytes, records.length)
      this.pump()
    })
  }

  /** Refuses new records; resolves when nothing is left to produce (spooling what waits, when a spool exists). */
  async drain(): Promise<void> {
    this.closed = true
    this.pump() // what lingers goes now
    if (this.o.spool) await this.spoolWaiting(true)
    while (this.queue.length > 0 || this.inflight > 0) await new Promise<void>((r) => this.idle.push(r))
    clearInterval(this.spoolTimer)
    clearTimeout(this.retryTimer)
    clearTimeout(this.lingerTimer)
  }

  private changeDepth(bytes: number, records: number): void {
    this.bytes += bytes
    this.records += records
    this.o.onDepth?.(this.bytes, this.records)
    if (this.queue.length === 0 && this.inflight === 0) for (const w of this.idle.splice(0)) w()
  }

  private pump(): void {
    while (this.inflight < this.o.concurrency && this.queue.length > 0 && !this.retryTimer) {
      if (this.lingering()) return
      this.lingerDone = false
      const batch = this.takeBatch()
      this.inflight++
      void this.produce(batch)
    }
  }

  /** True (and a timer set to pump again) while the queue should wait for more records before a call takes it. */
  private lingering(): boolean {
    const linger = this.o.lingerMs ?? 0
    if (linger <= 0 || this.closed || this.lingerDone) return false
    const waited = this.clock.now() - this.queue[0]!.at
    if (waited >= linger) return false
    let queued = 0
    for (const e of this.queue) if ((queued += e.bytes) >= this.o.maxBatchBytes) return false
    if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined
        this.lingerDone = true
        this.pump()
      }, linger - waited)
    }
    return true
  }

  /** The head entry's topic, plus following entries of the same topic up to maxBatchBytes. */
  private takeBatch(): Entry[] {
    const topic = this.queue[0]!.topic
    const batch: Entry[] = []
    let size = 0
    const rest: Entry[] = []
    for (const e of this.queue) {
      if (e.topic === topic && (batch.length === 0 || size + e.bytes <= this.o.maxBatchBytes)) {
        batch.push(e)
        size += e.bytes
      } else rest.push(e)
    }
    this.queue = rest
    return batch
  }

  private async produce(batch: Entry[]): Promise<void> {
    const topic = batch[0]!.topic
    const records = batch.length === 1 ? batch[0]!.records : batch.flatMap((e) => e.records)
    const started = process.hrtime.bigint()
    const call = { at: this.clock.now(), ctl: new AbortController() }
    this.calls.add(call)
    try {
      // Only a spool ever aborts a produce call; without one, no signal (saves a listener per partition send).
      if (this.o.spool) setMaxListeners(Infinity, call.ctl.signal)
      await this.o.bus.produce(topic, records, this.o.spool ? { signal: call.ctl.signal } : {})
      this.calls.delete(call)
      this.failures = 0
      this.o.onProduced?.(topic, records.length, Number(process.hrtime.bigint() - started) / 1e9)
      this.inflight--
      for (const e of batch) e.resolve('produced')
      this.changeDepth(-sum(batch, (e) => e.bytes), -records.length)
    } catch (err) {
      this.calls.delete(call)
      this.inflight--
      // Back to the head, in order: accepted records are retried until produced (or spooled), never dropped.
      this.queue.unshift(...batch)
      if (call.ctl.signal.aborted) {
        // Aborted to be spooled: the records are past spool.afterMs, so the spool takes them now.
        this.o.onRequeue?.(topic, records.length, 'spooling')
        void this.spoolWaiting(false)
        return
      }
      this.o.onRequeue?.(topic, records.length, 'failed')
      this.failures++
      const delay = backoffDelay(RETRY, this.failures)
      this.o.logger?.warn('gateway: produce failed; records stay buffered and will be retried', {
        topic,
        records: records.length,
        bufferedBytes: this.bytes,
        attempt: this.failures,
        delayMs: delay,
        err,
      })
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined
          this.pump()
        }, delay)
      }
      if (this.closed && this.o.spool) void this.spoolWaiting(true)
    }
    this.pump()
  }

  /** Moves entries that waited spool.afterMs (or all queued ones, at shutdown) to the disk spool; one run at a time. */
  private async spoolWaiting(all: boolean): Promise<void> {
    while (this.spooling) await this.spooling
    this.spooling = this.spoolDue(all)
    try {
      await this.spooling
    } finally {
      this.spooling = undefined
    }
  }

  private async spoolDue(all: boolean): Promise<void> {
    const spool = this.o.spool
    if (!spool) return
    const cutoff = this.clock.now() - spool.afterMs
    // Produce calls stuck past the cutoff are aborted; their records come back to the queue and are spooled next.
    for (const call of this.calls) if (all || call.at <= cutoff) call.ctl.abort(new Error('produce took longer than spool.afterMs: spooling'))
    const due = this.queue.filter((e) => all || e.at <= cutoff)
    if (due.length === 0) return
    this.queue = this.queue.filter((e) => !due.includes(e))
    // Appended together so the spool writes them with one fsync (group commit), in queue order.
    const results = await Promise.allSettled(due.map((e) => spool.sink.append(e.topic, e.records)))
    const failed: Entry[] = []
    results.forEach((r, i) => {
      const e = due[i]!
      if (r.status === 'fulfilled') {
        e.resolve('spooled')
        this.changeDepth(-e.bytes, -e.records.length)
      } else {
        // Spool full or failing: the records stay in memory; the producer will still take them.
        this.o.logger?.logOnce('gateway.spool_failed', 'error', 'gateway: spooling failed; records stay in the memory buffer', { err: r.reason })
        failed.push(e)
      }
    })
    this.queue.unshift(...failed)
    this.pump()
  }
}

function sum<T>(items: T[], f: (t: T) => number): number {
  let n = 0
  for (const t of items) n += f(t)
  return n
}
