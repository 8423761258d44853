/**
 * The detector's vocabulary. A metric point goes in; a per-point result (score on one calibrated [0, 1] scale,
 * the tier that produced it, the expected value and band) comes out; the hysteresis turns results into
 * anomaly events (open → update … → close) that become anomaly records on the bus and in the store.
 */

/** The three detection tiers a series can be configured for (per tenant or metric pattern). */
export type TierName = 'basic' | 'agile' | 'robust'
export const TIER_NAMES: readonly TierName[] = ['basic', 'agile', 'robust']

/** What actually produced a score: a configured tier, or the static rules at the end of the fallback chain. */
export type ProducerTier = TierName | 'rules'

/** Degradation levels of the design document's hierarchy, as they apply to the detector. */
export const DegradationLevel = {
  /** Every configured tier runs, ML included. */
  full: 0,
  /** The ML model is unavailable (missing, corrupt, breaker open): robust series are scored statistically. */
  reducedMl: 1,
  /** Statistical scoring failed too: static rules from config only. */
  noMl: 2,
  /** The store refuses anomaly writes: records still go to the bus (pass-through alerting). */
  minimal: 3,
  /** The bus refuses them too: anomalies are only logged as static alerts. */
  emergency: 4,
} as const
export type DegradationLevelValue = (typeof DegradationLevel)[keyof typeof DegradationLevel]

export const DEGRADATION_NAMES: Record<DegradationLevelValue, string> = {
  0: 'full',
  1: 'reduced ML (statistical only)',
  2: 'no ML (rules only)',
  3: 'minimal (store degraded: bus pass-through)',
  4: 'emergency (bus and store failing: logged alerts)',
}

export interface MetricPoint {
  tenant: string
  /** Canonical series key (metric name plus sorted attributes), as the gateway writes it. */
  series: string
  metric: string
  service: string
  /** Integer nanoseconds as a decimal string (exact), as in the store. */
  tsNs: string
  value: number
  /** Bus record timestamp (ms) the point arrived with: the start of the end-to-end latency. */
  receivedMs?: number
  /**
   * How to read `value`. `rate`: a cumulative counter, scored as its per-second rate between points (a reset,
   * a value going down, counts from zero). `interval_mean`: a cumulative histogram/summary, scored as the
   * mean of the observations between points, Δsum / Δcount. Absent: the value as it is (gauges, deltas).
   */
  derive?: 'rate' | 'interval_mean'
  /** Cumulative sum and count of a histogram/summary (for interval_mean). */
  sum?: number
  count?: number
}

/** Why a point produced no score. */
export type SkipReason = 'invalid' | 'stale' | 'warmup'

export interface PointResult {
  point: MetricPoint
  /** The value scored: the point's value, or its rate / interval mean for cumulative metrics. */
  value: number
  /** Calibrated anomaly score in [0, 1]: the fraction of normal points that score lower. 0 when skipped. */
  score: number
  /** The producing tier's raw statistic, before calibration (what calibration tables are fitted on). */
  raw: number
  tier: ProducerTier
  /** The tier configured for the series (differs from `tier` when a fallback scored it). */
  configuredTier: TierName
  detector: string
  expected: number
  lower: number
  upper: number
  skipped?: SkipReason
}

export type AnomalyState = 'open' | 'update' | 'close'

/** One anomaly record: what goes to `aiops.anomalies` and the store's `anomalies` table. */
export interface AnomalyRecord {
  /** Stable per anomaly: open, its updates and its close share it. */
  id: string
  state: AnomalyState
  tenant: string
  series: string
  metric: string
  service: string
  tsNs: string
  openedNs: string
  value: number
  expected: number
  lower: number
  upper: number
  score: number
  /** Highest score seen since the anomaly opened. */
  peakScore: number
  tier: ProducerTier
  configuredTier: TierName
  detector: string
  degradation: DegradationLevelValue
  /** Points above the open threshold since it opened. */
  points: number
  /** Bus timestamp (ms) of the metric record that produced this record, for end-to-end latency. */
  sourceMs?: number
}
