/**
 * The anomaly record's two shapes:
 * - on the bus (`bus.topics.anomalies`): JSON `{"v":1,"type":"anomaly",…AnomalyRecord}`, key tenant/series (an
 *   anomaly's open, updates and close stay in order on one partition). Non-finite numbers (a rule's open-ended
 *   band) are written as null.
 * - in the store's `anomalies` table: one row per record (open, each update, close share the anomaly `id`;
 *   the newest row of an id is its current state). Columns without a place in the table (state, band,
 *   degradation level, peak score, …) go into the `details` JSON column.
 */
import { AiopsError } from '../errors.js'
import type { Row } from '../store/types.js'
import type { AnomalyRecord } from './types.js'

export const ANOMALY_RECORD_VERSION = 1
export const ANOMALIES_TABLE = 'anomalies'

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null)

export function anomalyKey(r: Pick<AnomalyRecord, 'tenant' | 'series'>): string {
  return `${r.tenant}/${r.series}`
}

export function encodeAnomaly(r: AnomalyRecord): Buffer {
  return Buffer.from(
    JSON.stringify({
      v: ANOMALY_RECORD_VERSION,
      type: 'anomaly',
      ...r,
      value: finiteOrNull(r.value),
      expected: finiteOrNull(r.expected),
      lower: finiteOrNull(r.lower),
      upper: finiteOrNull(r.upper),
    }),
  )
}

/** Reads a bus anomaly record (the router, rca and tests use it). Nulls come back as NaN / ±Infinity. */
export function decodeAnomaly(value: Buffer): AnomalyRecord {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(value.toString('utf8')) as Record<string, unknown>
  } catch (err) {
    throw new AiopsError(`anomaly record is not JSON: ${(err as Error).message}`, { code: 'AIOPS_BAD_ANOMALY', retriable: false })
  }
  if (o?.type !== 'anomaly' || o.v !== ANOMALY_RECORD_VERSION || typeof o.id !== 'string' || typeof o.tenant !== 'string') {
    throw new AiopsError('not an anomaly record (type/v/id/tenant missing)', { code: 'AIOPS_BAD_ANOMALY', retriable: false })
  }
  const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback)
  return {
    ...(o as unknown as AnomalyRecord),
    value: num(o.value, NaN),
    expected: num(o.expected, NaN),
    lower: num(o.lower, -Infinity),
    upper: num(o.upper, Infinity),
  }
}

export function anomalyRow(r: AnomalyRecord): Row {
  return {
    tenant_id: r.tenant,
    id: r.id,
    series: r.series,
    metric: r.metric,
    service: r.service,
    ts_ns: r.tsNs,
    score: r.score,
    tier: r.tier,
    detector: r.detector,
    value: Number.isFinite(r.value) ? r.value : 0,
    expected: Number.isFinite(r.expected) ? r.expected : 0,
    details: JSON.stringify({
      state: r.state,
      openedNs: r.openedNs,
      lower: finiteOrNull(r.lower),
      upper: finiteOrNull(r.upper),
      peakScore: r.peakScore,
      points: r.points,
      configuredTier: r.configuredTier,
      degradation: r.degradation,
    }),
  }
}
