/**
 * Backpressure sampling of converted rows. At rate 1 everything is kept. Below 1:
 * - spans: a trace is kept when hashUnit(trace id) < rate — the same decision on every gateway replica, so a trace is
 *   kept or dropped whole. Errors (status ERROR or HTTP ≥ 500) and slow spans (≥ gateway.sampling.slowSpanMs) are
 *   always kept, even from a dropped trace.
 * - metric points: a series is kept when hashUnit(series) < rate, so kept series stay gap-free. "Error" points are
 *   always kept: the metric name mentions error/fail/fault/exception, or the point has an `error.type` attribute or an
 *   HTTP status ≥ 500 (http.response.status_code / http.status_code).
 * - log records: WARN and above (severity_number ≥ 13, or a severity_text saying warn/error/fatal/critical when the
 *   number is unset) are always kept; others by hashUnit(trace id) when they carry one (so they follow their trace),
 *   otherwise at random.
 * `sample_weight` is 1 / rate on rows kept by the rate and 1 on rows kept because they matter (their inclusion
 * probability is 1): sum(sample_weight) then estimates the true count (Horvitz–Thompson).
 */
import { hashUnit } from '../../lib/resilience/backpressure.js'
import type { Signal } from '../../lib/otlp/envelope.js'
import type { Row } from '../../lib/store/types.js'

export interface SampleResult {
  kept: Row[]
  sampledOut: number
}

export interface SamplerOptions {
  slowSpanNs: number
  random?: () => number
}

const ERROR_METRIC = /error|fail|fault|exception/i
const WARN_TEXT = /warn|err|fatal|crit|alert|emerg|panic/i

export function sampleRows(signal: Signal, rows: Row[], rate: number, opts: SamplerOptions): SampleResult {
  if (rate >= 1) return { kept: rows, sampledOut: 0 }
  const weight = 1 / rate
  const random = opts.random ?? Math.random
  const kept: Row[] = []
  // One hash per trace or series, not per row.
  const decisions = new Map<string, boolean>()
  const byHash = (key: string): boolean => {
    let keep = decisions.get(key)
    if (keep === undefined) {
      keep = hashUnit(key) < rate
      decisions.set(key, keep)
    }
    return keep
  }
  for (const row of rows) {
    let important: boolean
    let keep: boolean
    if (signal === 'traces') {
      important = isErrorSpan(row) || Number(row.duration_ns) >= opts.slowSpanNs
      keep = important || byHash(row.trace_id as string)
    } else if (signal === 'metrics') {
      important = isErrorPoint(row)
      keep = important || byHash(row.series as string)
    } else {
      important = isWarnLog(row)
      const traceId = row.trace_id as string
      keep = important || (traceId ? byHash(traceId) : random() < rate)
    }
    if (!keep) continue
    if (!important) row.sample_weight = weight
    kept.push(row)
  }
  return { kept, sampledOut: rows.length - kept.length }
}

export function isErrorSpan(row: Row): boolean {
  return row.status_code === 'ERROR' || (row.http_status as number) >= 500
}

export function isErrorPoint(row: Row): boolean {
  if (ERROR_METRIC.test(row.name as string)) return true
  const keys = row.attr_keys as string[]
  const values = row.attr_values as string[]
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    if (k === 'error.type') return true
    if ((k === 'http.response.status_code' || k === 'http.status_code') && Number(values[i]) >= 500) return true
  }
  return false
}

export function isWarnLog(row: Row): boolean {
  const n = row.severity_number as number
  return n >= 13 || (n === 0 && WARN_TEXT.test(row.severity_text as string))
}
