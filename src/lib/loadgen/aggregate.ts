/**
 * The coordinator's view of a run: per-second snapshots from every worker merged into one timeline, one
 * accumulator per profile window (stress step, spike phase, soak window) and the running totals that live progress
 * and --abort-on-fail read. A second is final once every worker has shipped past it (a watermark per worker).
 * The timeline keeps at most MAX_POINTS points: when a soak outgrows it, adjacent points merge (HDR histograms add
 * exactly), so memory stays bounded however long the run.
 */
import { createHistogram, decodeHistogram, summarize, type Histogram, type LatencySummary } from './hdr.js'
import type { Window } from './profiles.js'
import type { IntervalSnapshot } from './recorder.js'

export const MAX_POINTS = 1200

export interface Counts {
  scheduled: number
  dropped: number
  completed: number
  errors: number
  bytes: number
  events: number
}

const zero = (): Counts => ({ scheduled: 0, dropped: 0, completed: 0, errors: 0, bytes: 0, events: 0 })

function addCounts(into: Counts, c: Counts): void {
  into.scheduled += c.scheduled
  into.dropped += c.dropped
  into.completed += c.completed
  into.errors += c.errors
  into.bytes += c.bytes
  into.events += c.events
}

export interface Bucket extends Counts {
  second: number
  widthS: number
  statuses: Record<string, number>
  hist: Histogram
}

export interface Accumulator extends Counts {
  seconds: number
  hist: Histogram
}

/** Ratios over what was due: errors over requests that got an answer or failed, drops over everything scheduled. */
export function rates(c: Counts): { errorRate: number; dropRate: number } {
  return { errorRate: c.completed ? c.errors / c.completed : 0, dropRate: c.scheduled ? c.dropped / c.scheduled : 0 }
}

export interface TimelinePoint {
  /** Seconds from the start of the run; the point covers [t, t + widthS). */
  t: number
  widthS: number
  targetRps: number
  rps: number
  errorsPerS: number
  droppedPerS: number
  errorRate: number
  latency: LatencySummary
  statuses: Record<string, number>
}

export class Aggregator {
  private readonly pending = new Map<number, Bucket>()
  private readonly watermarks: number[]
  private final = 0
  private width = 1
  readonly timeline: Bucket[] = []
  readonly windows: Accumulator[]
  readonly total: Accumulator = { ...zero(), seconds: 0, hist: createHistogram() }

  constructor(
    workers: number,
    private readonly windowDefs: readonly Window[],
  ) {
    this.watermarks = new Array<number>(workers).fill(0)
    this.windows = windowDefs.map(() => ({ ...zero(), seconds: 0, hist: createHistogram() }))
  }

  /** Seconds before this one are final. */
  get finalBefore(): number {
    return this.final
  }

  add(worker: number, snaps: IntervalSnapshot[], closedBefore: number): void {
    for (const s of snaps) {
      let b = this.pending.get(s.second)
      if (!b) this.pending.set(s.second, (b = { ...zero(), second: s.second, widthS: 1, statuses: {}, hist: createHistogram('interval') }))
      addCounts(b, s)
      for (const [k, v] of Object.entries(s.statuses)) b.statuses[k] = (b.statuses[k] ?? 0) + v
      if (s.latency) {
        const h = decodeHistogram(s.latency)
        b.hist.add(h)
        h.destroy()
      }
    }
    this.watermarks[worker] = Math.max(this.watermarks[worker]!, closedBefore)
  }

  /** Marks a finished worker: nothing more will come from it. */
  finish(worker: number): void {
    this.watermarks[worker] = Number.POSITIVE_INFINITY
  }

  /** Finalizes every second all workers have shipped past; returns the newly final buckets in order. */
  advance(): Bucket[] {
    const upTo = Math.min(...this.watermarks)
    const ready = [...this.pending.keys()].filter((s) => s < upTo).sort((a, b) => a - b)
    const out: Bucket[] = []
    for (const s of ready) {
      const b = this.pending.get(s)!
      this.pending.delete(s)
      this.absorb(b)
      out.push(b)
    }
    if (Number.isFinite(upTo)) this.final = Math.max(this.final, upTo)
    else if (ready.length) this.final = Math.max(this.final, ready[ready.length - 1]! + 1)
    return out
  }

  private absorb(b: Bucket): void {
    addCounts(this.total, b)
    this.total.seconds++
    this.total.hist.add(b.hist)
    this.windowDefs.forEach((w, i) => {
      const mid = b.second + 0.5
      if (mid >= w.fromS + w.settleS && mid < w.toS) {
        const acc = this.windows[i]!
        addCounts(acc, b)
        acc.seconds++
        acc.hist.add(b.hist)
      }
    })
    this.append({ ...b, statuses: { ...b.statuses }, hist: copy(b.hist) })
    b.hist.destroy()
  }

  private append(b: Bucket): void {
    const last = this.timeline[this.timeline.length - 1]
    const start = Math.floor(b.second / this.width) * this.width
    if (last && last.second === start) merge(last, b)
    else this.timeline.push({ ...b, second: start, widthS: this.width })
    if (this.timeline.length > MAX_POINTS) this.coarsen()
  }

  /** Doubles the width of every point by merging neighbours. */
  private coarsen(): void {
    this.width *= 2
    const merged: Bucket[] = []
    for (const p of this.timeline) {
      const start = Math.floor(p.second / this.width) * this.width
      const last = merged[merged.length - 1]
      if (last && last.second === start) merge(last, p)
      else merged.push({ ...p, second: start, widthS: this.width })
    }
    this.timeline.splice(0, this.timeline.length, ...merged)
  }
}

function copy(h: Histogram): Histogram {
  const c = createHistogram('interval')
  c.add(h)
  return c
}

function merge(into: Bucket, b: Bucket): void {
  addCounts(into, b)
  for (const [k, v] of Object.entries(b.statuses)) into.statuses[k] = (into.statuses[k] ?? 0) + v
  into.hist.add(b.hist)
  b.hist.destroy()
}

export function toPoint(b: Bucket, targetRps: number): TimelinePoint {
  const r = rates(b)
  return {
    t: b.second,
    widthS: b.widthS,
    targetRps,
    rps: b.completed / b.widthS,
    errorsPerS: b.errors / b.widthS,
    droppedPerS: b.dropped / b.widthS,
    errorRate: r.errorRate,
    latency: summarize(b.hist),
    statuses: b.statuses,
  }
}
