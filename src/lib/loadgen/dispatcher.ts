/**
 * Open-model dispatch over a fixed number of slots (connections), the way wrk2 does it: a request due while every
 * slot is busy waits in a queue, and its latency still counts from the time it was *scheduled*, so a stalled target
 * shows up as latency instead of silently slowing the sender (coordinated omission). The queue is bounded: a
 * request that finds `maxInFlight` requests already queued or on the wire is dropped and counted, never sent late
 * without a trace and never buffered without limit.
 */
import type { PreparedRequest, Transport } from './transport/types.js'

export interface Completion {
  tag: string
  events: number
  /** Milliseconds on the dispatcher's clock. */
  scheduledAt: number
  sentAt: number
  doneAt: number
  /** HTTP status; 0 when no response arrived. */
  status: number
  bytes: number
  error?: string
}

export interface DispatcherOptions {
  transport: Transport
  slots: number
  maxInFlight: number
  timeoutMs: number
  /** Monotonic milliseconds (performance.now in production, a manual clock in tests). */
  now: () => number
  onComplete: (c: Completion) => void
}

interface Pending {
  req: PreparedRequest
  scheduledAt: number
  sentAt: number
}

export class Dispatcher {
  private readonly free: number[] = []
  private readonly active: Array<Pending | undefined>
  private queue: Pending[] = []
  private qHead = 0
  private waiters: Array<() => void> = []
  dropped = 0

  constructor(private readonly opts: DispatcherOptions) {
    this.active = new Array<Pending | undefined>(opts.slots)
    // A stack, so the most recently used (warm) connections are reused first and idle ones may time out.
    for (let s = opts.slots - 1; s >= 0; s--) this.free.push(s)
  }

  /** Requests on the wire plus queued. */
  get inFlight(): number {
    return this.opts.slots - this.free.length + (this.queue.length - this.qHead)
  }

  get queued(): number {
    return this.queue.length - this.qHead
  }

  /** Sends now, queues, or drops (returns false) a request that was due at `scheduledAt`. */
  submit(req: PreparedRequest, scheduledAt: number): boolean {
    if (this.inFlight >= this.opts.maxInFlight) {
      this.dropped++
      return false
    }
    const slot = this.free.pop()
    if (slot === undefined) {
      this.queue.push({ req, scheduledAt, sentAt: 0 })
      return true
    }
    this.start(slot, { req, scheduledAt, sentAt: this.opts.now() })
    return true
  }

  /** Aborts requests on the wire for longer than the timeout; call it periodically. */
  sweepTimeouts(): void {
    const limit = this.opts.now() - this.opts.timeoutMs
    for (let slot = 0; slot < this.active.length; slot++) {
      const p = this.active[slot]
      if (p && p.sentAt <= limit) this.opts.transport.abort(slot, 'timeout')
    }
  }

  /** Resolves once nothing is queued or on the wire. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Forgets queued requests (a stopped run): they were never sent, so they count as dropped. */
  discardQueue(): void {
    this.dropped += this.queued
    this.queue = []
    this.qHead = 0
    this.notifyIdle()
  }

  private start(slot: number, p: Pending): void {
    this.active[slot] = p
    this.opts.transport.send(slot, p.req, (status, bytes, error) => this.finish(slot, p, status, bytes, error))
  }

  private finish(slot: number, p: Pending, status: number, bytes: number, error?: string): void {
    if (this.active[slot] !== p) return // a late callback for an aborted request
    this.active[slot] = undefined
    const now = this.opts.now()
    const c: Completion = { tag: p.req.tag, events: p.req.events, scheduledAt: p.scheduledAt, sentAt: p.sentAt, doneAt: now, status, bytes }
    if (error !== undefined) c.error = error
    const next = this.nextQueued()
    if (next) {
      next.sentAt = now
      this.start(slot, next)
    } else this.free.push(slot)
    this.opts.onComplete(c)
    this.notifyIdle()
  }

  private nextQueued(): Pending | undefined {
    if (this.qHead >= this.queue.length) return undefined
    const p = this.queue[this.qHead++]!
    // Compact now and then so a long run's queue array does not grow without bound.
    if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead)
      this.qHead = 0
    }
    return p
  }

  private notifyIdle(): void {
    if (this.inFlight === 0 && this.waiters.length > 0) for (const w of this.waiters.splice(0)) w()
  }
}
