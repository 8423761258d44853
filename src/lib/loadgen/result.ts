/** The typed result of `aiops loadtest` (its --json output), and the options a run is built from. */
import type { TimelinePoint } from './aggregate.js'
import type { Timing } from './engine.js'
import type { Drift, Knee, Recovery, StepResult } from './analysis.js'
import type { HistogramBucket, LatencySummary } from './hdr.js'
import type { Plan, ProfileName } from './profiles.js'
import type { TagCount } from './recorder.js'
import type { TargetSpec } from './targets/index.js'
import type { TargetKind, Threshold, ThresholdResult } from './thresholds.js'
import type { TargetAddress, TransportName } from './transport/types.js'

export interface LoadtestSpec {
  url: string
  kind: TargetKind
  target: TargetSpec
  address: TargetAddress
  plan: Plan
  thresholds: Threshold[]
  abortOnFail: boolean
  abortDelayS: number
  workers: number
  seed: number
  connections: number
  maxInFlight: number
  timeoutMs: number
  client: TransportName
  timing: Timing
}

export interface WindowResult {
  name: string
  kind: string
  fromS: number
  toS: number
  rate: number
  requests: number
  rps: number
  errorRate: number
  dropRate: number
  latency: LatencySummary
}

export interface LoadtestResult {
  ok: boolean
  verdict: 'passed' | 'thresholds-breached' | 'aborted'
  /** One line for CI logs, naming every breached threshold. */
  summary: string
  target: { url: string; kind: TargetKind; client: TransportName }
  profile: ProfileName
  plan: Plan
  workers: number
  seed: number
  startedAt: string
  durationS: number
  aborted: { reason: string; atS: number } | null
  totals: {
    scheduled: number
    completed: number
    errors: number
    dropped: number
    bytes: number
    events: number
    rps: number
    eventsPerS: number
    errorRate: number
    dropRate: number
    statuses: Record<string, number>
    failures: Record<string, number>
    tags: Record<string, TagCount>
  }
  /** Latency from each request's scheduled send time: what an open system's users see (no coordinated omission). */
  latency: LatencySummary
  /** Latency from the actual send: what a closed-model tool (wrk, ab) would report for the same run. */
  serviceTime: LatencySummary
  histogram: { buckets: HistogramBucket[]; encoded: string }
  timeline: TimelinePoint[]
  /** The thresholds the verdict rests on (the whole run; for stress, the knee and its step). */
  thresholds: ThresholdResult[]
  windows: WindowResult[]
  stress?: { steps: StepResult[]; knee: Knee }
  spike?: Recovery & { multiplier: number }
  soak?: Drift
  /** Telemetry items per request (gateway target), for `aiops capacity`. */
  eventsPerRequest: number | null
  generator: { cpuS: number; requestsPerCpuS: number | null; warnings: string[] }
  reportPath?: string
}

export interface Progress {
  elapsedS: number
  durationS: number
  window: string | null
  targetRps: number
  last: TimelinePoint | null
  totals: { requests: number; errors: number; dropped: number; errorRate: number; dropRate: number; latency: LatencySummary }
  /** Thresholds breached so far on the cumulative data. */
  breached: string[]
  stopping: string | null
}
