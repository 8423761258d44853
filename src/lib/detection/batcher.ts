/**
 * Dynamic batcher for model inference (Triton's dynamic batching, as the design document sketches it): rows
 * wait in a bounded queue until `maxBatch` of them are there or the oldest has waited `maxWaitMs`, then run as
 * one batch. `maxInFlight` batches run at once (1 for a CPU session: ORT already uses its own threads; more
 * helps a GPU overlap copies with compute). A row is refused at once with a counted reason when the queue is
 * full (`queue_full`), dropped with `deadline` when it waited past its deadline before its batch started (a
 * late score is worth less than an immediate statistical one), and refused with `stopped` after close().
 *
 * Why rows and blocks rather than items with callbacks: at 100K+ rows/s the per-row object, closure, promise
 * and clock read cost as much as the model itself. Each row is written straight into a preallocated
 * [maxBatch, width] float32 block (the model's input tensor, reused from a small pool), its target goes into
 * the block's slot array, and a whole batch settles through one call. The clock is read once per block.
 * Rows are numbered in order of acceptance; `drained(n)` resolves once every row numbered below n settled.
 */
import { type Clock, systemClock } from '../resilience/clock.js'

export type RejectReason = 'queue_full' | 'deadline' | 'stopped'

export class BatchRejectedError extends Error {
  constructor(readonly reason: RejectReason) {
    super(`inference request rejected: ${reason.replace('_', ' ')}`)
    this.name = 'BatchRejectedError'
  }
}

/** What a row's input comes from: writes `width` floats at `dst[offset…]`. */
export interface RowSource {
  writeRow(dst: Float32Array, offset: number): void
}

export interface DynamicBatcherOptions<T> {
  maxBatch: number
  maxWaitMs: number
  /** Most rows waiting (not counting the batches running). */
  capacity: number
  maxInFlight?: number
  /** Floats per row. */
  width: number
  /** Runs one batch: `input` holds `rows` rows, row-major; must resolve to one result per row, in order. */
  run(input: Float32Array, rows: number): Promise<ArrayLike<number>>
  /**
   * Settles `n` rows at once: `targets[i]` gets `results[i]`, or every one of them `err` (their batch failed,
   * or they were dropped: BatchRejectedError). Called exactly once per accepted row.
   */
  settle(targets: readonly T[], n: number, results: ArrayLike<number> | undefined, err: Error | undefined): void
  clock?: Clock
  onReject?(reason: RejectReason, count: number): void
  onBatch?(size: number): void
}

/** One batch in the making: its input tensor's data, and per row the target and deadline. */
class Block<T> {
  readonly input: Float32Array
  /** Slots of the rows' targets; emptied when the block is released, so it keeps none of them alive. */
  readonly targets: Array<T | undefined>
  readonly deadlines: Float64Array
  rows = 0
  /** Clock ms when its first row was queued (maxWaitMs counts from there). */
  openedAt = 0
  /** Number of its first row. */
  firstRow = 0

  constructor(maxBatch: number, width: number) {
    this.input = new Float32Array(maxBatch * width)
    this.targets = new Array<T | undefined>(maxBatch).fill(undefined)
    this.deadlines = new Float64Array(maxBatch)
  }
}

export class DynamicBatcher<T> {
  /** Queued blocks, oldest first; only the last one takes new rows. */
  private blocks: Block<T>[] = []
  private readonly running: Block<T>[] = []
  /** Free blocks for reuse: as many as the deepest backlog needed (bounded by capacity / maxBatch + maxInFlight). */
  private readonly pool: Block<T>[] = []
  private queuedRows = 0
  /** Rows ever accepted (the next row's number); flush() runs every block with a row numbered below flushTo. */
  private accepted = 0
  private flushTo = 0
  private timerArmed = false
  /** Aborts a pending wake-up at close(), so a closed batcher holds no timer. */
  private readonly stopTimers = new AbortController()
  private closed = false
  private waiters: Array<{ upTo: number; resolve: () => void }> = []
  private readonly clock: Clock
  private readonly maxInFlight: number
  private readonly width: number

  constructor(private readonly o: DynamicBatcherOptions<T>) {
    this.clock = o.clock ?? systemClock
    this.maxInFlight = Math.max(1, o.maxInFlight ?? 1)
    this.width = o.width
  }

  /** Rows waiting to be batched. */
  get length(): number {
    return this.queuedRows
  }

  get inFlight(): number {
    return this.running.length
  }

  /** Rows accepted so far: `drained(acceptedRows)` waits for every one of them. */
  get acceptedRows(): number {
    return this.accepted
  }

  /**
   * Queues a row for `target`, its input written by `source` now; returns the reason when it is refused
   * (nothing is written and `target` is never settled).
   */
  offer(target: T, source: RowSource, deadlineMs: number): RejectReason | undefined {
    if (this.closed) return this.reject('stopped')
    if (this.queuedRows >= this.o.capacity) return this.reject('queue_full')
    let b = this.blocks[this.blocks.length - 1]
    const open = b === undefined || b.rows === this.o.maxBatch
    if (open) b = this.pool.pop() ?? new Block<T>(this.o.maxBatch, this.width)
    const row = b!.rows
    source.writeRow(b!.input, row * this.width)
    if (open) {
      b!.openedAt = this.clock.now()
      b!.firstRow = this.accepted
      this.blocks.push(b!)
    }
    b!.targets[row] = target
    b!.deadlines[row] = deadlineMs
    b!.rows = row + 1
    this.accepted++
    this.queuedRows++
    // A full block may run now; a first block must arm the maxWaitMs timer. Otherwise nothing changed.
    if (row + 1 === this.o.maxBatch || (open && this.blocks.length === 1)) this.schedule()
    return undefined
  }

  /** Runs whatever is queued now without waiting for maxWaitMs (offline scoring: no more rows are coming). */
  flush(): void {
    this.flushTo = this.accepted
    this.schedule()
  }

  /** Resolves when every row numbered below `upTo` (default: every row accepted so far) has settled. */
  drained(upTo = this.accepted): Promise<void> {
    if (this.unsettledFrom() >= upTo) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ upTo, resolve }))
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    return this.drained()
  }

  /** Stops intake, runs what was accepted, and resolves when it is done. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true
    this.flush()
    await this.drained()
    this.stopTimers.abort()
  }

  private reject(reason: RejectReason): RejectReason {
    this.o.onReject?.(reason, 1)
    return reason
  }

  private schedule(): void {
    while (this.running.length < this.maxInFlight && this.blocks.length > 0) {
      const head = this.blocks[0]!
      const flushing = head.firstRow < this.flushTo
      if (!(flushing || this.closed || head.rows === this.o.maxBatch)) {
        const waited = this.clock.now() - head.openedAt
        if (waited < this.o.maxWaitMs) {
          this.armTimer(this.o.maxWaitMs - waited)
          return
        }
      }
      this.blocks.shift()
      this.queuedRows -= head.rows
      this.dispatch(head)
    }
  }

  private armTimer(ms: number): void {
    // A pending timer is left to fire even when its block ran meanwhile: schedule() then re-checks the (new)
    // oldest block. Aborting it instead would cost a DOMException per batch.
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

  private dispatch(b: Block<T>): void {
    this.dropLate(b)
    if (b.rows === 0) {
      this.release(b)
      this.notify()
      return
    }
    this.running.push(b)
    this.o.onBatch?.(b.rows)
    const input = b.rows * this.width === b.input.length ? b.input : b.input.subarray(0, b.rows * this.width)
    let run: Promise<ArrayLike<number>>
    try {
      run = this.o.run(input, b.rows)
    } catch (err) {
      run = Promise.reject(err as Error)
    }
    run.then(
      (results) => this.finish(b, results, undefined),
      (err: unknown) => this.finish(b, undefined, err instanceof Error ? err : new Error(String(err))),
    )
  }

  /** Settles the rows of `b` that waited past their deadline and closes the gaps they leave. */
  private dropLate(b: Block<T>): void {
    const now = this.clock.now()
    let late: T[] | undefined
    let kept = 0
    for (let i = 0; i < b.rows; i++) {
      if (now > b.deadlines[i]!) {
        ;(late ??= []).push(b.targets[i]!)
        continue
      }
      if (kept !== i) {
        b.input.copyWithin(kept * this.width, i * this.width, (i + 1) * this.width)
        b.targets[kept] = b.targets[i]!
        b.deadlines[kept] = b.deadlines[i]!
      }
      kept++
    }
    if (!late) return
    b.targets.fill(undefined, kept, b.rows)
    b.rows = kept
    this.o.onReject?.('deadline', late.length)
    this.settle(late, late.length, undefined, new BatchRejectedError('deadline'))
  }

  private finish(b: Block<T>, results: ArrayLike<number> | undefined, err: Error | undefined): void {
    if (results && results.length !== b.rows) {
      err = new Error(`batch of ${b.rows} returned ${results.length} results`)
      results = undefined
    }
    this.settle(b.targets as readonly T[], b.rows, results, err)
    this.running.splice(this.running.indexOf(b), 1)
    this.release(b)
    this.schedule()
    this.notify()
  }

  private settle(targets: readonly T[], n: number, results: ArrayLike<number> | undefined, err: Error | undefined): void {
    try {
      this.o.settle(targets, n, results, err)
    } catch {
      // A callback's bug must not leave the batcher stuck with a block that never comes back.
    }
  }

  private release(b: Block<T>): void {
    b.targets.fill(undefined, 0, b.rows)
    b.rows = 0
    this.pool.push(b)
  }

  /** The number of the oldest row not settled yet (`accepted` when every row has). */
  private unsettledFrom(): number {
    let from = this.blocks.length > 0 ? this.blocks[0]!.firstRow : this.accepted
    for (const b of this.running) if (b.firstRow < from) from = b.firstRow
    return from
  }

  private notify(): void {
    if (this.waiters.length === 0) return
    const from = this.unsettledFrom()
    const ready = this.waiters.filter((w) => w.upTo <= from)
    if (ready.length === 0) return
    this.waiters = this.waiters.filter((w) => w.upTo > from)
    for (const w of ready) w.resolve()
  }
}
