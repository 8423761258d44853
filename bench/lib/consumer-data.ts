/**
 * Bus records shaped like the gateway's (src/lib/otlp/envelope.ts): store-ready rows grouped per tenant and trace
 * (spans) or series (metric points), ns timestamps as decimal strings. Every row has a unique id column (span_id for
 * spans, series for points, body for logs) so tests and benches can count stored rows and duplicates exactly.
 * Used by the consumer benchmark and the consumer's integration tests.
 */
import type { BusRecord } from '../../src/lib/bus/types.js'
import { encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import type { Row } from '../../src/lib/store/types.js'

export interface GenOptions {
  tenant?: string
  /** Distinguishes runs sharing a table: part of every id. Letters/digits only. */
  run: string
  /** Rows per bus record (spans of one trace). Default 10. */
  perRecord?: number
  /** First row number (ids continue across calls). Default 0. */
  from?: number
  /** Timestamp of row 0, ns. Default: now. */
  baseNs?: bigint
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0')

export function spanRow(i: number, run: string, tenant: string, baseNs: bigint): Row {
  const start = baseNs + BigInt(i) * 1_000n
  const trace = Math.floor(i / 10)
  return {
    tenant_id: tenant,
    trace_id: `${run}${hex(trace, 32 - run.length)}`.slice(0, 32),
    span_id: `${run}-${i}`,
    parent_span_id: i % 10 === 0 ? '' : `${run}-${i - (i % 10)}`,
    service: `svc-${trace % 7}`,
    name: i % 3 === 0 ? 'GET /api/cart' : 'SELECT orders',
    kind: i % 10 === 0 ? 'SERVER' : 'CLIENT',
    start_time_ns: start.toString(),
    end_time_ns: (start + 2_500_000n).toString(),
    duration_ns: '2500000',
    status_code: i % 50 === 0 ? 'ERROR' : 'OK',
    status_message: '',
    http_status: i % 10 === 0 ? 200 : 0,
    attr_keys: ['http.method', 'http.route', 'net.peer.name'],
    attr_values: ['GET', '/api/cart', 'orders-db'],
    resource_keys: ['service.name', 'host.name'],
    resource_values: [`svc-${trace % 7}`, 'node-1'],
    sample_weight: 1,
  }
}

/** Span records: `count` rows in records of `perRecord`, keyed by tenant + trace id like the gateway's. */
export function spanRecords(count: number, o: GenOptions): BusRecord[] {
  const tenant = o.tenant ?? 'acme'
  const per = o.perRecord ?? 10
  const from = o.from ?? 0
  const baseNs = o.baseNs ?? BigInt(Date.now()) * 1_000_000n
  const out: BusRecord[] = []
  for (let i = from; i < from + count; i += per) {
    const rows: Row[] = []
    for (let j = i; j < Math.min(i + per, from + count); j++) rows.push(spanRow(j, o.run, tenant, baseNs))
    out.push({ key: `${tenant}/${rows[0]!.trace_id}`, value: encodeEnvelope({ signal: 'traces', tenant, rows }) })
  }
  return out
}

/** Metric point records, one series per record (the series column is the unique id). */
export function metricRecords(count: number, o: GenOptions): BusRecord[] {
  const tenant = o.tenant ?? 'acme'
  const baseNs = o.baseNs ?? BigInt(Date.now()) * 1_000_000n
  const from = o.from ?? 0
  return Array.from({ length: count }, (_, k) => {
    const i = from + k
    const series = `http.requests{run=${o.run},i=${i}}`
    const row: Row = {
      tenant_id: tenant,
      name: 'http.requests',
      series,
      service: `svc-${i % 7}`,
      ts_ns: (baseNs + BigInt(i) * 1_000_000n).toString(),
      value: i % 100,
      kind: 'sum',
      unit: '1',
      attr_keys: ['run'],
      attr_values: [o.run],
    }
    return { key: `${tenant}/${series}`, value: encodeEnvelope({ signal: 'metrics', tenant, rows: [row] }) }
  })
}

/** Log records, one row each (the body is the unique id). */
export function logRecords(count: number, o: GenOptions): BusRecord[] {
  const tenant = o.tenant ?? 'acme'
  const baseNs = o.baseNs ?? BigInt(Date.now()) * 1_000_000n
  const from = o.from ?? 0
  return Array.from({ length: count }, (_, k) => {
    const i = from + k
    const ts = (baseNs + BigInt(i) * 1_000_000n).toString()
    const row: Row = {
      tenant_id: tenant,
      service: 'checkout',
      ts_ns: ts,
      observed_ns: ts,
      severity_text: i % 10 === 0 ? 'ERROR' : 'INFO',
      severity_number: i % 10 === 0 ? 17 : 9,
      body: `${o.run} log line ${i}`,
    }
    return { key: `${tenant}/checkout`, value: encodeEnvelope({ signal: 'logs', tenant, rows: [row] }) }
  })
}
