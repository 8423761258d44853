/**
 * Dynamic batcher for model inference (Triton's dynamic batching, as the design document sketches it): items
 * wait in a bounded queue until `maxBatch` of them are there or the oldest has waited `maxWaitMs`, then run as
 * one batch. `maxInFlight` batches run at once (1 for a CPU session: ORT already uses its own threads; more
 * helps a GPU overlap copies with compute). An item is refused at once with a counted reason when the queue
 * is full (`queue_full`), dropped with `deadline` when it waited past its deadline before its batch started
 * (a late score is worth less than an immediate statistical one), and refused with `stopped` after close().
 *
 * Results come back through each item's `done` callback rather than a promise per item: at 100K+ items/s the
 * promise and closure per item would cost as much as the bookkeeping they carry.
 */
import { type Clock, systemClock } from '../resilience/clock.js'

export type RejectReason = 'queue_full' | 'deadline' | 'stopped'

export interface BatchItem<R> {
  /** Absolute time (clock ms) after which the item is not worth running. */
  deadlineMs: number
  /** Called exactly once: with the result, or with the error of its batch / its rejection. */
  done(err: Error | undefined, result?: R): void
}

export class BatchRejectedError extends Error {
  constructor(readonly reason: RejectReason) {
    super(`inference request rejected: ${reason.replace('_', ' ')}`)
    this.name = 'BatchRejectedError'
  }
}

export interface DynamicBatcherOptions<I, R> {
  maxBatch: number
  maxWaitMs: number
  /** Most items waiting (not counting the batches running). */
  capacity: number
  maxInFlight?: number
  /** Runs one batch; must return one result per item, in order. */
  run(items: I[]): Promise<ArrayLike<R>>
  clock?: Clock
  onReject?(reason: RejectReason, count: number): void
  onBatch?(size: number): void
}

export class DynamicBatcher<I extends BatchItem<R>, R> {
  private queue: I[] = []
  private head = 0
  private enqueuedAt: number[] = []
  private running = 0
  private timerArmed = false
  /** Aborts a pending wake-up at close(), so a closed batcher holds no timer. */
  private readonly stopTimers = new AbortController()
  private closed = false
  /** Items ever queued / taken out; flush() runs everything queued up to `flushTo` without waiting. */
  private queued = 0
  private taken = 0
  private flushTo = 0
  private idleWaiters: Array<() => void> = []
  private readonly clock: Clock
  private readonly maxInFlight: number

  constructor(private readonly o: DynamicBatcherOptions<I, R>) {
    this.clock = o.clock ?? systemClock
    this.maxInFlight = Math.max(1, o.maxInFlight ?? 1)
  }

  /** Items waiting to be batched. */
  get length(): number {
    return this.queue.length - this.head
  }

  get inFlight(): number {
    return this.running
  }

  /** Queues an item; returns the reason when it is refused (its `done` is then not called). */
  offer(item: I): RejectReason | undefined {
    if (this.closed) return this.reject('stopped')
    if (this.length >= this.o.capacity) return this.reject('queue_full')
    this.queue.push(item)
    this.enqueuedAt.push(this.clock.now())
    this.queued++
    this.schedule()
    return undefined
  }

  /** Runs whatever is queued now without waiting for maxWaitMs (offline scoring: no more items are coming). */
  flush(): void {
    this.flushTo = this.queued
    this.schedule()
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.length === 0 && this.running === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Stops intake, runs what was accepted, and resolves when it is done. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true
    this.flush()
    await this.idle()
    this.stopTimers.abort()
  }

  private reject(reason: RejectReason): RejectReason {
    this.o.onReject?.(reason, 1)
    return reason
  }

  private schedule(): void {
    while (this.running < this.maxInFlight && this.length > 0) {
      const waited = this.clock.now() - this.enqueuedAt[this.head]!
      const flushing = this.taken < this.flushTo
      if (!(flushing || this.closed || this.length >= this.o.maxBatch || waited >= this.o.maxWaitMs)) {
        this.armTimer(this.o.maxWaitMs - waited)
        return
      }
      this.dispatch()
    }
  }

  private armTimer(ms: number): void {
    if (this.timerArmed) return
    this.timerArmed = true
    this.clock.sleep(ms, this.stopTimers.signal).then(
      () => {
        this.timerArmed = false
        this.schedule()
      },
      () => {},
    )
  }

  private dispatch(): void {
    // A pending timer is left to fire: schedule() then re-checks the (new) oldest item. Aborting it instead
    // would cost a DOMException per batch at 100K+ items/s.
    const now = this.clock.now()
    const batch: I[] = []
    let late = 0
    while (batch.length < this.o.maxBatch && this.length > 0) {
      const item = this.queue[this.head]!
      this.head++
      this.taken++
      if (now > item.deadlineMs) {
        late++
        settle(item, new BatchRejectedError('deadline'))
      } else {
        batch.push(item)
      }
    }
    this.compact()
    if (late > 0) this.o.onReject?.('deadline', late)
    if (batch.length === 0) {
      this.notifyIdle()
      return
    }
    this.running++
    this.o.onBatch?.(batch.length)
    let run: Promise<ArrayLike<R>>
    try {
      run = this.o.run(batch)
    } catch (err) {
      run = Promise.reject(err as Error)
    }
    run
      .then(
        (results) => {
          if (results.length !== batch.length) throw new Error(`batch of ${batch.length} returned ${results.length} results`)
          for (let i = 0; i < batch.length; i++) settle(batch[i]!, undefined, results[i])
        },
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err))
          for (const item of batch) settle(item, e)
        },
      )
      .catch((err: unknown) => {
        for (const item of batch) settle(item, err as Error)
      })
      .finally(() => {
        this.running--
        this.schedule()
        this.notifyIdle()
      })
  }

  private compact(): void {
    // Drop consumed slots now and then, so the arrays don't grow without bound under steady load.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.enqueuedAt = this.enqueuedAt.slice(this.head)
      this.head = 0
    } else if (this.head === this.queue.length) {
      this.queue = []
      this.enqueuedAt = []
      this.head = 0
    }
  }

  private notifyIdle(): void {
    if (this.length > 0 || this.running > 0) return
    for (const w of this.idleWaiters.splice(0)) w()
  }
}

function settle<R>(item: BatchItem<R>, err: Error | undefined, result?: R): void {
  try {
    item.done(err, result)
  } catch {
    // A callback's bug must not leave the rest of the batch unsettled.
  }
}
