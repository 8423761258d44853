/**
 * k6-style pass/fail thresholds: `p99<200ms`, `p(95)<=0.5s`, `error_rate<1%`, `rps>=1000`, `knee>=5000` (stress),
 * `recovery<30s` (spike). A breached threshold fails the run with exit 99 (ExitCode.thresholdsBreached) so a CI
 * pipeline can gate on its SLOs. Defaults come from the design documents' performance table for the target.
 */
import { ConfigError } from '../errors.js'
import type { LatencySummary } from './hdr.js'

export type ThresholdMetric =
  | 'min' | 'mean' | 'p50' | 'p90' | 'p95' | 'p99' | 'p99.9' | 'max'
  | 'error_rate' | 'drop_rate' | 'rps' | 'knee' | 'recovery' | 'drift'
export type ThresholdOp = '<' | '<=' | '>' | '>='

export interface Threshold {
  /** The expression as written (or generated for defaults). */
  expr: string
  metric: ThresholdMetric
  op: ThresholdOp
  /** In the metric's base unit: milliseconds for latency, a fraction for rates, requests/s, seconds for recovery. */
  limit: number
  /** Where it came from: `flag`, `config`, or the SLO row it was taken from. */
  source: string
}

const LATENCY: Record<string, ThresholdMetric> = {
  min: 'min', mean: 'mean', avg: 'mean', med: 'p50', p50: 'p50', p90: 'p90', p95: 'p95', p99: 'p99',
  'p99.9': 'p99.9', p999: 'p99.9', max: 'max',
}
const OTHER: Record<string, ThresholdMetric> = {
  error_rate: 'error_rate', errors: 'error_rate', drop_rate: 'drop_rate', dropped: 'drop_rate', rps: 'rps',
  knee: 'knee', recovery: 'recovery', drift: 'drift', p99_drift: 'drift',
}
const LATENCY_UNIT_MS: Record<string, number> = { us: 0.001, 'µs': 0.001, ms: 1, s: 1000, m: 60_000 }
export const THRESHOLD_METRICS = [...Object.keys(LATENCY), ...Object.keys(OTHER)]

export function isLatencyMetric(m: ThresholdMetric): boolean {
  return !(m in RUN_METRICS) && m !== 'error_rate' && m !== 'drop_rate' && m !== 'rps'
}

/** Metrics of a whole run's shape (stress knee, spike recovery, soak drift), not of a window's requests. */
const RUN_METRICS: Partial<Record<ThresholdMetric, true>> = { knee: true, recovery: true, drift: true }
export function isRunMetric(m: ThresholdMetric): boolean {
  return m in RUN_METRICS
}

/** Parses one expression; `field` (flag or config path) is named in the error. */
export function parseThreshold(input: string, field: string, source = field): Threshold {
  const text = input.replace(/\s+/g, '')
  const m = /^([a-z_]+(?:\(\d+(?:\.\d+)?\)|\d+(?:\.\d+)?)?)(<=|>=|<|>)(\d+(?:\.\d+)?)(%|[a-zµ]+)?$/i.exec(text)
  const fail = (why: string): ConfigError =>
    new ConfigError(field, `${field}: threshold "${input}" ${why}`, {
      suggestions: [
        'write METRIC OP VALUE, e.g. p99<200ms, p(95)<=0.5s, error_rate<1%, drop_rate<0.5%, rps>=1000, knee>=5000, recovery<30s, drift<20%',
        `metrics: ${THRESHOLD_METRICS.join(', ')}`,
      ],
    })
  if (!m) throw fail('is not METRIC OP VALUE')
  const rawMetric = m[1]!.toLowerCase().replace(/^p\((\d+(?:\.\d+)?)\)$/, 'p$1')
  const op = m[2] as ThresholdOp
  const value = Number(m[3])
  const unit = m[4]?.toLowerCase()
  const latency = LATENCY[rawMetric]
  if (latency) {
    const scale = unit === undefined ? 1 : LATENCY_UNIT_MS[unit]
    if (scale === undefined) throw fail(`has unit "${unit}"; latency units are us, ms, s, m`)
    return { expr: input.trim(), metric: latency, op, limit: value * scale, source }
  }
  const other = OTHER[rawMetric]
  if (!other) throw fail(`names unknown metric "${rawMetric}"`)
  if (other === 'error_rate' || other === 'drop_rate') {
    if (unit !== undefined && unit !== '%') throw fail(`has unit "${unit}"; a rate is a fraction (0.01) or a percentage (1%)`)
    const limit = unit === '%' ? value / 100 : value
    if (limit > 1) throw fail('is above 100%; write a fraction (0.01) or a percentage (1%)')
    return { expr: input.trim(), metric: other, op, limit, source }
  }
  if (other === 'drift') {
    // Drift is a relative change (soak: last window's p99 against the first's) and may exceed 100%.
    if (unit !== undefined && unit !== '%') throw fail(`has unit "${unit}"; drift is a fraction (0.2) or a percentage (20%)`)
    return { expr: input.trim(), metric: other, op, limit: unit === '%' ? value / 100 : value, source }
  }
  if (other === 'recovery') {
    const scale = unit === undefined || unit === 's' ? 1 : unit === 'ms' ? 0.001 : unit === 'm' ? 60 : undefined
    if (scale === undefined) throw fail(`has unit "${unit}"; recovery is in ms, s or m`)
    return { expr: input.trim(), metric: other, op, limit: value * scale, source }
  }
  if (unit !== undefined && unit !== 'rps' && unit !== '/s') throw fail(`has unit "${unit}"; ${other} is in requests per second`)
  return { expr: input.trim(), metric: other, op, limit: value, source }
}

export type TargetKind = 'gateway' | 'router' | 'http'

/**
 * The design documents' "Performance Benchmarks" table, per target: the p50/p95/p99 columns become thresholds and
 * the "Target" column (the hard limit) applies to p99.9 — a single `max` sample is one GC pause away from failing a
 * CI run, p99.9 is not. Every target also gets error and drop rates under 1%.
 */
export const SLO_DEFAULTS: Record<TargetKind, { row: string; exprs: string[] }> = {
  gateway: { row: 'SLO table: Metric ingestion', exprs: ['p50<5ms', 'p95<20ms', 'p99<100ms', 'p99.9<200ms'] },
  router: { row: 'SLO table: Incident query', exprs: ['p50<20ms', 'p95<100ms', 'p99<500ms', 'p99.9<1s'] },
  http: { row: 'default', exprs: [] },
}
const RATE_DEFAULTS = ['error_rate<1%', 'drop_rate<1%']

export function defaultThresholds(kind: TargetKind): Threshold[] {
  const slo = SLO_DEFAULTS[kind]
  return [
    ...slo.exprs.map((e) => parseThreshold(e, 'loadtest.thresholds', slo.row)),
    ...RATE_DEFAULTS.map((e) => parseThreshold(e, 'loadtest.thresholds', 'default')),
  ]
}

/** What thresholds are evaluated against: a whole run, one stress step, or the live cumulative totals. */
export interface Measurement {
  latency: LatencySummary
  requests: number
  errorRate: number
  dropRate: number
  rps: number
  kneeRps?: number | null
  recoveryS?: number | null
  /** Soak: relative change of p99 from the first window to the last. */
  p99Drift?: number | null
}

export interface ThresholdResult extends Threshold {
  /** The measured value in the metric's base unit; null when there was nothing to measure. */
  actual: number | null
  ok: boolean
}

const LATENCY_KEY: Record<string, keyof LatencySummary> = {
  min: 'min', mean: 'mean', p50: 'p50', p90: 'p90', p95: 'p95', p99: 'p99', 'p99.9': 'p999', max: 'max',
}

export function actualOf(t: Threshold, m: Measurement): number | null {
  switch (t.metric) {
    case 'error_rate':
      return m.requests === 0 ? null : m.errorRate
    case 'drop_rate':
      return m.requests === 0 ? null : m.dropRate
    case 'rps':
      return m.rps
    case 'knee':
      return m.kneeRps ?? null
    case 'recovery':
      return m.recoveryS ?? null
    case 'drift':
      return m.p99Drift ?? null
    default:
      return m.latency[LATENCY_KEY[t.metric]!] as number | null
  }
}

function holds(actual: number, op: ThresholdOp, limit: number): boolean {
  switch (op) {
    case '<':
      return actual < limit
    case '<=':
      return actual <= limit
    case '>':
      return actual > limit
    case '>=':
      return actual >= limit
  }
}

/** A threshold with nothing to measure fails: "no request completed" must not pass an SLO gate. */
export function evaluate(thresholds: readonly Threshold[], m: Measurement): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = actualOf(t, m)
    return { ...t, actual, ok: actual !== null && holds(actual, t.op, t.limit) }
  })
}

/** `p99<200ms (actual 312ms)` for summary lines. */
export function describeResult(r: ThresholdResult): string {
  return `${r.expr} (actual ${formatActual(r)})`
}

export function formatActual(r: Pick<ThresholdResult, 'metric' | 'actual'>): string {
  if (r.actual === null) return 'none: nothing measured'
  if (r.metric === 'error_rate' || r.metric === 'drop_rate' || r.metric === 'drift') return `${(r.actual * 100).toFixed(2)}%`
  if (r.metric === 'rps' || r.metric === 'knee') return `${r.actual.toFixed(1)}/s`
  if (r.metric === 'recovery') return `${r.actual.toFixed(1)}s`
  return r.actual >= 1000 ? `${(r.actual / 1000).toPrecision(3)}s` : `${r.actual.toPrecision(3)}ms`
}
