/**
 * Spans → `spans` rows (src/lib/store/tables.ts), one row per valid span; invalid spans are counted and explained
 * (they become partial_success.rejected_spans). Choices where the table has no column of its own:
 * - scope name/version go into the span attributes as `otel.scope.name` / `otel.scope.version` (the OTel convention
 *   for formats without scopes), scope attributes as `otel.scope.<key>`;
 * - events and links are not stored one by one: their counts go into `otel.events.count` / `otel.links.count`, and
 *   an `exception` event's `exception.type` / `exception.message` are copied onto the span (what RCA looks for);
 * - kind UNSPECIFIED (0) and unknown kinds are stored as INTERNAL, as the spec allows receivers to assume;
 * - `http_status` comes from `http.response.status_code` (semconv ≥ 1.21) or `http.status_code` (older).
 * `sample_weight` is left to the gateway's sampler.
 */
import type { Row } from '../store/types.js'
import {
  type ConvertOptions,
  type Converted,
  Rejections,
  type ResourceInfo,
  attr,
  durationNs,
  flatten,
  isZeroSpanId,
  resourceInfo,
  spanIdProblem,
  timeProblem,
  traceIdProblem,
} from './convert-common.js'
import type { OtlpKeyValue, OtlpScope, OtlpSpan, OtlpTraceRequest } from './types.js'

const KINDS = ['INTERNAL', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']
const STATUS = ['UNSET', 'OK', 'ERROR']

export function traceRows(req: OtlpTraceRequest, opts: ConvertOptions): Converted {
  const rows: Row[] = []
  const bad = new Rejections()
  let received = 0
  const rss = req.resourceSpans
  for (let i = 0; i < rss.length; i++) {
    const rs = rss[i]!
    const res = resourceInfo(rs.resource.attributes)
    for (let j = 0; j < rs.scopeSpans.length; j++) {
      const ss = rs.scopeSpans[j]!
      const scopeAttrs = scopeAttributes(ss.scope)
      for (let k = 0; k < ss.spans.length; k++) {
        received++
        const span = ss.spans[k]!
        const problem = spanProblem(span)
        if (problem) bad.add(`resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`, problem)
        else rows.push(spanRow(span, res, scopeAttrs, opts.tenant))
      }
    }
  }
  return { rows, received, rejected: bad.count, messages: bad.messages }
}

function spanProblem(s: OtlpSpan): string | undefined {
  const p = traceIdProblem(s.traceId) ?? spanIdProblem(s.spanId)
  if (p) return p
  if (s.parentSpanId !== '' && !isZeroSpanId(s.parentSpanId)) {
    const pp = spanIdProblem(s.parentSpanId, 'parentSpanId')
    if (pp) return pp
  }
  if (s.name === '') return 'name is missing (the operation name, e.g. "GET /users/:id")'
  const t = timeProblem(s.startTimeUnixNano, 'startTimeUnixNano') ?? timeProblem(s.endTimeUnixNano, 'endTimeUnixNano')
  if (t) return t
  if (durationNs(s.startTimeUnixNano, s.endTimeUnixNano) < 0) {
    return `endTimeUnixNano ${s.endTimeUnixNano} is before startTimeUnixNano ${s.startTimeUnixNano}`
  }
  return undefined
}

/** Scope name, version and attributes as span attributes; computed once per scope. */
function scopeAttributes(scope: OtlpScope): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = []
  if (scope.name) out.push({ key: 'otel.scope.name', value: { stringValue: scope.name } })
  if (scope.version) out.push({ key: 'otel.scope.version', value: { stringValue: scope.version } })
  for (const kv of scope.attributes) out.push({ key: `otel.scope.${kv.key}`, value: kv.value })
  return out
}

function spanRow(s: OtlpSpan, res: ResourceInfo, scopeAttrs: OtlpKeyValue[], tenant: string): Row {
  const { keys, values } = flatten(s.attributes)
  flatten(scopeAttrs, keys, values)
  if (s.events.length > 0) {
    keys.push('otel.events.count')
    values.push(String(s.events.length))
    addExceptionAttributes(s, keys, values)
  }
  if (s.links.length > 0) {
    keys.push('otel.links.count')
    values.push(String(s.links.length))
  }
  return {
    tenant_id: tenant,
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_span_id: isZeroSpanId(s.parentSpanId) ? '' : s.parentSpanId,
    service: res.service,
    name: s.name,
    kind: KINDS[s.kind] ?? 'INTERNAL',
    start_time_ns: s.startTimeUnixNano,
    end_time_ns: s.endTimeUnixNano,
    duration_ns: String(durationNs(s.startTimeUnixNano, s.endTimeUnixNano)),
    status_code: STATUS[s.status.code] ?? 'UNSET',
    status_message: s.status.message,
    http_status: httpStatus(s.attributes),
    attr_keys: keys,
    attr_values: values,
    resource_keys: res.keys,
    resource_values: res.values,
    sample_weight: 1,
  }
}

function addExceptionAttributes(s: OtlpSpan, keys: string[], values: string[]): void {
  const ex = s.events.find((e) => e.name === 'exception')
  if (!ex) return
  for (const k of ['exception.type', 'exception.message']) {
    const v = attr(ex.attributes, k)
    if (v?.stringValue !== undefined && !keys.includes(k)) {
      keys.push(k)
      values.push(v.stringValue)
    }
  }
}

/** HTTP status of a span (0 when it is not an HTTP span or the value is not a status code). */
export function httpStatus(attrs: OtlpKeyValue[]): number {
  const v = attr(attrs, 'http.response.status_code') ?? attr(attrs, 'http.status_code')
  if (!v) return 0
  const n = Number(v.intValue ?? v.stringValue ?? v.doubleValue)
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : 0
}
