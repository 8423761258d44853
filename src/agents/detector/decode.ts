/**
 * Bus records of `bus.topics.metrics` → metric points. The records are the gateway's envelopes
 * (src/lib/otlp/envelope.ts) whose rows are `metric_points` rows. A record or row that cannot be read is
 * counted (aiops_detector_bad_messages_total) and skipped: the consumer agent owns dead-lettering the
 * same records, and one bad row must not stop the detector.
 */
import type { ConsumedBatch } from '../../lib/bus/types.js'
import { decodeEnvelope, EnvelopeError } from '../../lib/otlp/envelope.js'
import type { Row } from '../../lib/store/types.js'
import type { MetricPoint } from '../../lib/detection/types.js'

export type BadReason = EnvelopeError['reason'] | 'not_metrics' | 'bad_row'

export function decodePoints(batch: ConsumedBatch, onBad: (reason: BadReason, n: number) => void): MetricPoint[] {
  const points: MetricPoint[] = []
  for (const rec of batch.records) {
    let env
    try {
      env = decodeEnvelope(rec.value)
    } catch (err) {
      onBad(err instanceof EnvelopeError ? err.reason : 'not_json', 1)
      continue
    }
    if (env.signal !== 'metrics') {
      onBad('not_metrics', 1)
      continue
    }
    let bad = 0
    for (const row of env.rows) {
      const p = toPoint(env.tenant, row, rec.timestampMs)
      if (p) points.push(p)
      else bad++
    }
    if (bad > 0) onBad('bad_row', bad)
  }
  return points
}

function attribute(row: Row, key: string): string | undefined {
  const keys = row.attr_keys
  const values = row.attr_values
  if (!Array.isArray(keys) || !Array.isArray(values)) return undefined
  const i = keys.indexOf(key)
  return i >= 0 ? String(values[i]) : undefined
}

export function toPoint(tenant: string, row: Row, receivedMs: number): MetricPoint | undefined {
  const name = row.name
  const series = row.series
  const ts = row.ts_ns
  const value = typeof row.value === 'number' ? row.value : Number(row.value)
  if (typeof name !== 'string' || typeof series !== 'string' || series === '') return undefined
  if (typeof ts !== 'string' && typeof ts !== 'number') return undefined
  const tenantId = typeof row.tenant_id === 'string' && row.tenant_id !== '' ? row.tenant_id : tenant
  const p: MetricPoint = {
    tenant: tenantId,
    series,
    metric: name,
    service: typeof row.service === 'string' ? row.service : '',
    tsNs: String(ts),
    value,
    receivedMs,
  }
  // A cumulative counter says nothing by its level, only by how fast it grows: score its rate; a cumulative
  // histogram or summary: the mean of the observations since the previous point. A non-monotonic cumulative
  // sum (an up-down counter) is a level, scored as it is.
  if (attribute(row, 'otel.metric.temporality') === 'cumulative') {
    if (row.kind === 'sum') {
      if (attribute(row, 'otel.metric.monotonic') === 'true') p.derive = 'rate'
    }
    else if (row.kind === 'histogram' || row.kind === 'summary') {
      p.derive = 'interval_mean'
      p.sum = Number(row.sum)
      p.count = Number(row.count)
    }
  }
  return p
}
