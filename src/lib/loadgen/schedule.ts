/**
 * The open-model arrival schedule: when the k-th request is due, whatever happened to the earlier ones.
 *
 * A run is a list of stages; each ramps linearly from the previous stage's rate to its own over `rampS`, then holds
 * for the rest of its duration. The number of requests due by time t is N(t) = ∫ rate, a piecewise quadratic, so the
 * due time of request k is the exact inverse N⁻¹(k) — no timer drift accumulates, and k % workers splits one global
 * schedule between worker processes without any coordination.
 */

export interface Stage {
  /** Target arrival rate at the end of the ramp, requests per second. */
  rate: number
  durationS: number
  /** Seconds spent ramping linearly from the previous stage's rate (0 for the first stage) to `rate`. */
  rampS: number
}

interface Segment {
  startS: number
  durationS: number
  /** Rate at the segment start and its slope (requests/s²). */
  rate0: number
  slope: number
  /** Requests due before the segment starts. */
  countBefore: number
  count: number
}

export class ArrivalSchedule {
  readonly durationS: number
  readonly totalRequests: number
  private readonly segments: Segment[] = []
  private cursor = 0

  constructor(stages: readonly Stage[]) {
    let t = 0
    let count = 0
    let prevRate = 0
    for (const s of stages) {
      const ramp = Math.min(s.rampS, s.durationS)
      if (ramp > 0) {
        const slope = (s.rate - prevRate) / ramp
        const n = prevRate * ramp + (slope * ramp * ramp) / 2
        this.segments.push({ startS: t, durationS: ramp, rate0: prevRate, slope, countBefore: count, count: n })
        t += ramp
        count += n
      }
      const hold = s.durationS - ramp
      if (hold > 0) {
        this.segments.push({ startS: t, durationS: hold, rate0: s.rate, slope: 0, countBefore: count, count: s.rate * hold })
        t += hold
        count += s.rate * hold
      }
      prevRate = s.rate
    }
    this.durationS = t
    // Request k is due at N(t) = k, so requests 0 … ceil(N(T)) - 1 fall inside the run.
    this.totalRequests = Math.ceil(count - 1e-9)
  }

  /**
   * Seconds from the run start at which request k is due, or null when k is past the end. Calls with increasing k
   * (what a worker does) cost O(1); any order works.
   */
  timeOf(k: number): number | null {
    if (k < 0 || k >= this.totalRequests) return null
    let i = this.cursor
    if (this.segments[i] && k < this.segments[i]!.countBefore) i = 0
    while (i < this.segments.length && k >= this.segments[i]!.countBefore + this.segments[i]!.count) i++
    const seg = this.segments[i]
    if (!seg) return null
    this.cursor = i
    const n = k - seg.countBefore
    let tau: number
    if (seg.slope === 0) tau = n / seg.rate0
    else {
      // rate0·τ + slope·τ²/2 = n  →  τ = (−rate0 + √(rate0² + 2·slope·n)) / slope
      const disc = seg.rate0 * seg.rate0 + 2 * seg.slope * n
      tau = (-seg.rate0 + Math.sqrt(Math.max(0, disc))) / seg.slope
    }
    return seg.startS + Math.min(Math.max(tau, 0), seg.durationS)
  }

  /** The target arrival rate at time t (seconds from the start); 0 outside the run. */
  rateAt(t: number): number {
    for (const seg of this.segments) {
      if (t >= seg.startS && t < seg.startS + seg.durationS) return seg.rate0 + seg.slope * (t - seg.startS)
    }
    return 0
  }

  /** Requests due in [fromS, toS). */
  countBetween(fromS: number, toS: number): number {
    return this.countBy(toS) - this.countBy(fromS)
  }

  private countBy(t: number): number {
    let n = 0
    for (const seg of this.segments) {
      if (t <= seg.startS) break
      const tau = Math.min(t - seg.startS, seg.durationS)
      n = seg.countBefore + seg.rate0 * tau + (seg.slope * tau * tau) / 2
    }
    return n
  }
}
