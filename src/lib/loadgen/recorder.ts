/**
 * What one worker measured, per second and in total. Latency is measured from the scheduled send time (what a user
 * of an open system experiences); service time from the actual send (what a closed-model tool such as wrk reports).
 * Both go into HDR histograms; each closed second is shipped to the coordinator as a compact snapshot and forgotten,
 * so a worker's memory does not grow with the run's length.
 */
import type { Completion } from './dispatcher.js'
import { createHistogram, encodeHistogram, recordMs, type Histogram } from './hdr.js'

export interface IntervalSnapshot {
  /** Whole seconds since the run start; completions count in the second they finished, schedules in the second they were due. */
  second: number
  scheduled: number
  dropped: number
  completed: number
  errors: number
  bytes: number
  events: number
  statuses: Record<string, number>
  /** Encoded HDR histogram of latencies (µs) of requests completed in this second. */
  latency: string
}

export interface TagCount {
  completed: number
  errors: number
  events: number
}

export interface WorkerTotals {
  scheduled: number
  dropped: number
  completed: number
  errors: number
  bytes: number
  events: number
  statuses: Record<string, number>
  /** Transport failures by reason (ECONNREFUSED, timeout…). */
  failures: Record<string, number>
  tags: Record<string, TagCount>
  latency: string
  service: string
}

interface Interval {
  scheduled: number
  dropped: number
  completed: number
  errors: number
  bytes: number
  events: number
  statuses: Record<string, number>
  latency: Histogram | null
}

const newInterval = (): Interval => ({ scheduled: 0, dropped: 0, completed: 0, errors: 0, bytes: 0, events: 0, statuses: {}, latency: null })

export function isError(status: number): boolean {
  return status === 0 || status >= 400
}

export class Recorder {
  private readonly intervals = new Map<number, Interval>()
  private readonly latency = createHistogram()
  private readonly service = createHistogram()
  private readonly totals = { scheduled: 0, dropped: 0, completed: 0, errors: 0, bytes: 0, events: 0 }
  private readonly statuses: Record<string, number> = {}
  private readonly failures: Record<string, number> = {}
  private readonly tags: Record<string, TagCount> = {}
  private flushedBefore = 0
  // Almost every call lands in the current second: remember it instead of a Map lookup per request.
  private lastSecond = -1
  private lastInterval: Interval | null = null

  /** `startAt` is the run start on the same clock as the completions' times (ms). */
  constructor(private readonly startAt: number) {}

  private at(ms: number): Interval {
    // Anything landing in an already-shipped second (a late timer) joins the oldest open one.
    const second = Math.max(this.flushedBefore, Math.floor((ms - this.startAt) / 1000))
    if (second === this.lastSecond && this.lastInterval) return this.lastInterval
    let iv = this.intervals.get(second)
    if (!iv) this.intervals.set(second, (iv = newInterval()))
    this.lastSecond = second
    this.lastInterval = iv
    return iv
  }

  scheduled(atMs: number, dropped: boolean): void {
    const iv = this.at(atMs)
    iv.scheduled++
    this.totals.scheduled++
    if (dropped) {
      iv.dropped++
      this.totals.dropped++
    }
  }

  /** Requests that were queued but never sent because the run stopped: dropped, counted when they were given up. */
  droppedLate(n: number, atMs: number): void {
    if (n <= 0) return
    this.at(atMs).dropped += n
    this.totals.dropped += n
  }

  complete(c: Completion): void {
    const iv = this.at(c.doneAt)
    const error = isError(c.status)
    const latencyMs = c.doneAt - c.scheduledAt
    iv.completed++
    iv.bytes += c.bytes
    iv.events += c.events
    this.totals.completed++
    this.totals.bytes += c.bytes
    this.totals.events += c.events
    // Integer keys: V8 keeps them as fast elements (the JSON keys are the same strings).
    const key = c.status
    iv.statuses[key] = (iv.statuses[key] ?? 0) + 1
    this.statuses[key] = (this.statuses[key] ?? 0) + 1
    const tag = (this.tags[c.tag] ??= { completed: 0, errors: 0, events: 0 })
    tag.completed++
    tag.events += c.events
    if (error) {
      iv.errors++
      this.totals.errors++
      tag.errors++
      if (c.error) this.failures[c.error] = (this.failures[c.error] ?? 0) + 1
    }
    // A connection that failed before any response has no latency worth reporting (refused in 0.1 ms is not fast);
    // the error rate carries it. A timeout does: the user waited that long.
    if (c.status !== 0 || c.error === 'timeout') {
      recordMs((iv.latency ??= createHistogram('worker-interval')), latencyMs)
      recordMs(this.latency, latencyMs)
      recordMs(this.service, c.doneAt - c.sentAt)
    }
  }

  /** Ships every second that ended before `nowMs` (on the run clock) and forgets it. */
  flush(nowMs: number, all = false): IntervalSnapshot[] {
    const before = all ? Number.POSITIVE_INFINITY : Math.floor((nowMs - this.startAt) / 1000)
    const out: IntervalSnapshot[] = []
    for (const second of [...this.intervals.keys()].sort((a, b) => a - b)) {
      if (second >= before) break
      const iv = this.intervals.get(second)!
      this.intervals.delete(second)
      if (this.lastInterval === iv) this.lastInterval = null
      out.push({
        second,
        scheduled: iv.scheduled,
        dropped: iv.dropped,
        completed: iv.completed,
        errors: iv.errors,
        bytes: iv.bytes,
        events: iv.events,
        statuses: iv.statuses,
        latency: iv.latency ? encodeHistogram(iv.latency) : '',
      })
      iv.latency?.destroy()
    }
    if (!all) this.flushedBefore = Math.max(this.flushedBefore, before)
    return out
  }

  result(): WorkerTotals {
    return {
      ...this.totals,
      statuses: this.statuses,
      failures: this.failures,
      tags: this.tags,
      latency: encodeHistogram(this.latency),
      service: encodeHistogram(this.service),
    }
  }
}
