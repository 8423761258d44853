/**
 * Log records → `logs` rows (src/lib/store/tables.ts). OTLP makes both timestamps optional: `ts_ns` is the event time,
 * or the observed time when the event time is absent; a record with neither gets the gateway's receive time as its
 * observed time (what the spec asks of the first collector to see it). Trace and span ids are optional but, when
 * present, must be valid. The body is stored as text (strings as-is, structured bodies as JSON). severity_number must be
 * 0..24; `severity_text` is kept as sent.
 */
import type { Row } from '../store/types.js'
import {
  type ConvertOptions,
  type Converted,
  Rejections,
  type ResourceInfo,
  anyValueText,
  flatten,
  resourceInfo,
  spanIdProblem,
  timeProblem,
  traceIdProblem,
} from './convert-common.js'
import type { OtlpLogRecord, OtlpLogsRequest } from './types.js'

export function logRows(req: OtlpLogsRequest, opts: ConvertOptions): Converted {
  const rows: Row[] = []
  const bad = new Rejections()
  const now = opts.nowNs ?? nowNs()
  let received = 0
  req.resourceLogs.forEach((rl, i) => {
    const res = resourceInfo(rl.resource.attributes)
    rl.scopeLogs.forEach((sl, j) => {
      const scope = sl.scope
      sl.logRecords.forEach((l, k) => {
        received++
        const problem = logProblem(l)
        if (problem) bad.add(`resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}]`, problem)
        else rows.push(logRow(l, res, scope.name, opts.tenant, now))
      })
    })
  })
  return { rows, received, rejected: bad.count, messages: bad.messages }
}

function logProblem(l: OtlpLogRecord): string | undefined {
  if (l.traceId !== '') {
    const p = traceIdProblem(l.traceId)
    if (p) return p
  }
  if (l.spanId !== '') {
    const p = spanIdProblem(l.spanId)
    if (p) return p
  }
  if (l.severityNumber < 0 || l.severityNumber > 24) return `severityNumber ${l.severityNumber} is outside 0..24`
  if (l.timeUnixNano !== '0') {
    const p = timeProblem(l.timeUnixNano, 'timeUnixNano')
    if (p) return p
  }
  if (l.observedTimeUnixNano !== '0') {
    const p = timeProblem(l.observedTimeUnixNano, 'observedTimeUnixNano')
    if (p) return p
  }
  return undefined
}

function logRow(l: OtlpLogRecord, res: ResourceInfo, scopeName: string, tenant: string, now: string): Row {
  const { keys, values } = flatten(l.attributes)
  if (scopeName) {
    keys.push('otel.scope.name')
    values.push(scopeName)
  }
  if (l.eventName) {
    keys.push('event.name')
    values.push(l.eventName)
  }
  const observed = l.observedTimeUnixNano !== '0' ? l.observedTimeUnixNano : now
  return {
    tenant_id: tenant,
    service: res.service,
    ts_ns: l.timeUnixNano !== '0' ? l.timeUnixNano : observed,
    observed_ns: observed,
    trace_id: l.traceId,
    span_id: l.spanId,
    severity_text: l.severityText,
    severity_number: l.severityNumber,
    body: anyValueText(l.body),
    attr_keys: keys,
    attr_values: values,
    resource_keys: res.keys,
    resource_values: res.values,
    sample_weight: 1,
  }
}

/** Now in ns as a decimal string (ms precision is all Date gives; good enough for an observed time). */
export function nowNs(ms = Date.now()): string {
  return `${ms}000000`
}
