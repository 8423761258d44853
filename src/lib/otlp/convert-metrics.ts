/**
 * Metric data points → `metric_points` rows (src/lib/store/tables.ts): ONE row per data point, whatever its type, so
 * "items received = rows stored + sampled out + refused" holds point for point. Per type:
 * - gauge / sum: `value` is the point's value (asInt converted to Float64); kind `gauge` / `sum`;
 * - histogram: count, sum, bucket_bounds (explicit bounds), bucket_counts; `value` is the mean (sum / count, 0 when
 *   empty or when the sender left sum out);
 * - exponential histogram: converted to explicit bounds (exphist.ts) and stored as kind `histogram`, same columns;
 * - summary: kind `summary`, count and sum, `value` the mean; the quantiles (which have no column) become attributes
 *   `summary.quantile.<q>` = value, e.g. `summary.quantile.0.99`.
 * Sums and histograms also carry `otel.metric.temporality` (delta | cumulative) and sums `otel.metric.monotonic`,
 * because a detector must rate a cumulative counter before it can judge it. `series` is the canonical series key:
 * `name{service.name="…",k="v",…}` with the point's attributes sorted by key (resource attributes other than
 * service.name are not part of it: they describe where the series comes from, not which series it is).
 */
import type { Row } from '../store/types.js'
import { type ConvertOptions, type Converted, Rejections, type ResourceInfo, compareNs, flatten, resourceInfo, timeProblem } from './convert-common.js'
import { exponentialToExplicit, expHistogramProblem } from './exphist.js'
import type { OtlpHistogramDataPoint, OtlpKeyValue, OtlpMetric, OtlpMetricsRequest, OtlpNumberDataPoint, OtlpSummaryDataPoint } from './types.js'

const TEMPORALITY = ['unspecified', 'delta', 'cumulative']

interface PointHead {
  attributes: OtlpKeyValue[]
  timeUnixNano: string
}

export function metricRows(req: OtlpMetricsRequest, opts: ConvertOptions): Converted {
  const rows: Row[] = []
  const bad = new Rejections()
  let received = 0
  req.resourceMetrics.forEach((rm, i) => {
    const res = resourceInfo(rm.resource.attributes)
    rm.scopeMetrics.forEach((sm, j) => {
      sm.metrics.forEach((m, k) => {
        const path = `resourceMetrics[${i}].scopeMetrics[${j}].metrics[${k}]`
        const points = pointsOf(m)
        received += points.length
        points.forEach((p, n) => {
          const problem = m.name === '' ? 'metric name is missing' : (timeProblem(p.timeUnixNano, 'timeUnixNano') ?? pointProblem(m, p))
          if (problem) bad.add(`${path}.dataPoints[${n}]`, problem)
          else rows.push(pointRow(m, p, res, opts.tenant))
        })
      })
    })
  })
  return { rows, received, rejected: bad.count, messages: bad.messages }
}

function pointsOf(m: OtlpMetric): PointHead[] {
  return (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints ?? []
}

function pointProblem(m: OtlpMetric, p: PointHead): string | undefined {
  if (m.gauge || m.sum) {
    const n = p as OtlpNumberDataPoint
    if (n.asDouble === undefined && n.asInt === undefined) return 'data point has no value (asDouble or asInt)'
    return undefined
  }
  if (m.histogram) return histogramProblem(p as OtlpHistogramDataPoint)
  if (m.exponentialHistogram) return expHistogramProblem(p as Parameters<typeof expHistogramProblem>[0])
  const s = p as OtlpSummaryDataPoint
  const q = s.quantileValues.find((v) => !(v.quantile >= 0 && v.quantile <= 1))
  return q ? `summary quantile ${q.quantile} is outside 0..1` : undefined
}

function histogramProblem(p: OtlpHistogramDataPoint): string | undefined {
  const b = p.explicitBounds
  if (p.bucketCounts.length !== 0 && p.bucketCounts.length !== b.length + 1) {
    return `histogram has ${p.bucketCounts.length} bucketCounts for ${b.length} explicitBounds; expected ${b.length + 1} (one more than the bounds)`
  }
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(b[i]!) || (i > 0 && !(b[i]! > b[i - 1]!))) return 'histogram explicitBounds must be strictly increasing numbers'
  }
  return undefined
}

function pointRow(m: OtlpMetric, p: PointHead, res: ResourceInfo, tenant: string): Row {
  const { keys, values } = flatten(p.attributes)
  const series = seriesKey(m.name, res.service, keys, values)
  const row: Row = {
    tenant_id: tenant,
    name: m.name,
    series,
    service: res.service,
    ts_ns: p.timeUnixNano,
    value: 0,
    kind: 'gauge',
    unit: m.unit,
    attr_keys: keys,
    attr_values: values,
    resource_keys: res.keys,
    resource_values: res.values,
    count: '0',
    sum: 0,
    bucket_bounds: [],
    bucket_counts: [],
    sample_weight: 1,
  }
  const note = (k: string, v: string): void => {
    keys.push(k)
    values.push(v)
  }
  if (m.gauge || m.sum) {
    const n = p as OtlpNumberDataPoint
    row.value = n.asDouble ?? Number(n.asInt)
    if (m.sum) {
      row.kind = 'sum'
      note('otel.metric.temporality', TEMPORALITY[m.sum.aggregationTemporality] ?? 'unspecified')
      note('otel.metric.monotonic', String(m.sum.isMonotonic))
    }
  } else if (m.histogram) {
    const h = p as OtlpHistogramDataPoint
    Object.assign(row, histogramColumns(h.count, h.sum, h.explicitBounds, h.bucketCounts))
    note('otel.metric.temporality', TEMPORALITY[m.histogram.aggregationTemporality] ?? 'unspecified')
  } else if (m.exponentialHistogram) {
    const e = p as Parameters<typeof exponentialToExplicit>[0]
    const { bounds, counts } = exponentialToExplicit(e)
    Object.assign(row, histogramColumns(e.count, e.sum, bounds, counts))
    note('otel.metric.temporality', TEMPORALITY[m.exponentialHistogram.aggregationTemporality] ?? 'unspecified')
  } else {
    const s = p as OtlpSummaryDataPoint
    Object.assign(row, { kind: 'summary', count: s.count, sum: s.sum, value: mean(s.sum, s.count) })
    for (const q of s.quantileValues) note(`summary.quantile.${q.quantile}`, String(q.value))
  }
  return row
}

function histogramColumns(count: string, sum: number | undefined, bounds: number[], counts: string[]): Row {
  return { kind: 'histogram', count, sum: sum ?? 0, value: sum === undefined ? 0 : mean(sum, count), bucket_bounds: bounds, bucket_counts: counts }
}

function mean(sum: number, count: string): number {
  return compareNs(count, '0') > 0 ? sum / Number(count) : 0
}

/** `name{service.name="svc",k="v"}`: point attributes sorted by key; `"` and `\` escaped as in Prometheus. */
export function seriesKey(name: string, service: string, keys: string[], values: string[]): string {
  const idx = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0))
  let out = `${name}{service.name="${escape(service)}"`
  for (const i of idx) out += `,${keys[i]}="${escape(values[i]!)}"`
  return `${out}}`
}

function escape(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}
