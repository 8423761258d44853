/**
 * Collects insert units from concurrent bus handler calls and hands them to `flush` in batches. add() resolves only
 * once the flush holding those units succeeded, and the bus commits a batch's offsets only after its handler's
 * add() resolved: nothing is committed before it is stored.
 *
 * A batch closes on the first of: maxRows or maxBytes reached, maxWaitMs since its oldest unit, idleMs without a
 * new unit, or drain() (shutdown). The idle rule matters because the bus delivers each partition's next records
 * only after the current handler returns: once every partition with data is waiting here, nothing more can arrive
 * before a flush, so holding the batch for the rest of maxWaitMs would only add latency.
 *
 * One flush runs at a time; units arriving meanwhile form the next batch (group commit), so under load batches
 * grow to what arrives during one insert. A flush takes at most maxRows/maxBytes (at least one unit).
 */
import type { Clock } from '../../lib/resilience/clock.js'

export interface BatchLimits {
  maxRows: number
  maxBytes: number
  maxWaitMs: number
  idleMs: number
}

export interface Sized {
  rows: number
  bytes: number
}

interface Waiting<U> {
  unit: U
  at: number
  resolve: () => void
  reject: (err: unknown) => void
}

export class Batcher<U extends Sized> {
  private waiting: Array<Waiting<U>> = []
  private waitingRows = 0
  private waitingBytes = 0
  private flushingRows = 0
  private flushing: Promise<void> | undefined
  private timer: AbortController | undefined
  private draining = false
  private closedWith: unknown
  /** Number of flushes started so far (for tests and metrics). */
  flushes = 0

  constructor(
    private readonly limits: BatchLimits,
    private readonly flush: (units: U[]) => Promise<void>,
    private readonly clock: Clock,
  ) {}

  /** Queues units; resolves when all of them are stored, rejects if their flush failed or the batcher closed. */
  add(units: U[]): Promise<void> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith)
    if (units.length === 0) return Promise.resolve()
    const at = this.clock.now()
    const done = units.map(
      (unit) =>
        new Promise<void>((resolve, reject) => {
          this.waiting.push({ unit, at, resolve, reject })
          this.waitingRows += unit.rows
          this.waitingBytes += unit.bytes
        }),
    )
    this.kick()
    return Promise.all(done).then(() => undefined)
  }

  /** Rows accepted but not yet stored: waiting for a flush or in the flush running now. */
  get depth(): number {
    return this.waitingRows + this.flushingRows
  }

  /** From now on every unit is flushed at once; resolves when nothing is waiting or flushing. */
  async drain(): Promise<void> {
    this.draining = true
    this.kick()
    while (this.flushing || this.waiting.length > 0) {
      if (this.flushing) await this.flushing
      else this.kick()
      await Promise.resolve()
    }
  }

  /** Rejects every waiting unit with `err` and refuses new ones (the flush in progress finishes on its own). */
  close(err: unknown): void {
    this.closedWith = err
    this.timer?.abort()
    const waiting = this.waiting
    this.waiting = []
    this.waitingRows = 0
    this.waitingBytes = 0
    for (const w of waiting) w.reject(err)
  }

  private due(now: number): boolean {
    if (this.waiting.length === 0) return false
    if (this.draining) return true
    if (this.waitingRows >= this.limits.maxRows || this.waitingBytes >= this.limits.maxBytes) return true
    const oldest = this.waiting[0]!.at
    const newest = this.waiting[this.waiting.length - 1]!.at
    return now - oldest >= this.limits.maxWaitMs || now - newest >= this.limits.idleMs
  }

  private kick(): void {
    if (this.flushing || this.closedWith !== undefined) return
    const now = this.clock.now()
    if (this.due(now)) this.startFlush()
    else this.schedule(now)
  }

  /** One timer for the nearer of the two deadlines; re-armed on every add. */
  private schedule(now: number): void {
    this.timer?.abort()
    this.timer = undefined
    if (this.waiting.length === 0) return
    const oldest = this.waiting[0]!.at
    const newest = this.waiting[this.waiting.length - 1]!.at
    const at = Math.min(oldest + this.limits.maxWaitMs, newest + this.limits.idleMs)
    const ctl = new AbortController()
    this.timer = ctl
    this.clock.sleep(Math.max(0, at - now), ctl.signal).then(
      () => {
        if (this.timer !== ctl) return
        this.timer = undefined
        this.kick()
      },
      () => {}, // re-armed or closed
    )
  }

  private startFlush(): void {
    this.timer?.abort()
    this.timer = undefined
    let rows = 0
    let bytes = 0
    let n = 0
    while (n < this.waiting.length) {
      const u = this.waiting[n]!.unit
      if (n > 0 && (rows + u.rows > this.limits.maxRows || bytes + u.bytes > this.limits.maxBytes)) break
      rows += u.rows
      bytes += u.bytes
      n++
    }
    const taken = this.waiting.splice(0, n)
    this.waitingRows -= rows
    this.waitingBytes -= bytes
    this.flushingRows += rows
    this.flushes++
    this.flushing = (async () => {
      try {
        await this.flush(taken.map((w) => w.unit))
        for (const w of taken) w.resolve()
      } catch (err) {
        for (const w of taken) w.reject(err)
      } finally {
        this.flushingRows -= rows
        this.flushing = undefined
        this.kick()
      }
    })()
  }
}
