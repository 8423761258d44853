/**
 * Realistic generated telemetry for the gateway target, in the OTLP/JSON object model:
 * - a service graph of N services (a layered DAG from an entry service down to databases and caches);
 * - traces as span trees that follow the graph (SERVER span per service, CLIENT spans for calls, log-normal
 *   latencies), with configurable fractions of failed traces (an ERROR deep in the tree, propagated to its callers)
 *   and slow traces (one span 10–50× slower, the delay propagated up);
 * - metric series per service and host with daily and hourly seasonality plus noise (gauges, monotonic sums,
 *   histograms), so detectors downstream see shapes, not white noise;
 * - log records that follow the same error fraction and carry trace ids of recent traces.
 */
import type {
  OtlpKeyValueJson, OtlpLogRecordJson, OtlpLogsRequestJson, OtlpMetricJson, OtlpMetricsRequestJson, OtlpSpanJson, OtlpTraceRequestJson,
} from '../../otlp/types.js'
import { nanos, type Rng } from './prng.js'

export interface TelemetryOptions {
  services: number
  /** Most spans in one trace. */
  spansPerTrace: number
  tracesPerRequest: number
  metricsPerRequest: number
  logsPerRequest: number
  errorFraction: number
  slowFraction: number
}

interface Service {
  name: string
  host: string
  /** Median self time of a request to it, ms. */
  medianMs: number
  routes: string[]
  callees: number[]
  /** A database or cache the service calls (a CLIENT span with no SERVER span behind it). */
  store?: 'postgres' | 'redis' | 'kafka'
}

const NAMES = [
  'frontend', 'api-gateway', 'checkout', 'cart', 'catalog', 'search', 'payment', 'auth', 'shipping', 'inventory',
  'pricing', 'recommendation', 'ads', 'currency', 'email', 'notification', 'fraud', 'user-profile', 'orders', 'quote',
]
const VERBS = ['GET', 'GET', 'GET', 'POST', 'PUT']

const kv = (key: string, value: string | number): OtlpKeyValueJson =>
  typeof value === 'number'
    ? { key, value: Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } }
    : { key, value: { stringValue: value } }

/** Service names of a generated graph of n services (the router target queries the same names). */
export function serviceName(i: number): string {
  const base = NAMES[i % NAMES.length]!
  return i < NAMES.length ? base : `${base}-${Math.floor(i / NAMES.length) + 1}`
}

export function buildServiceGraph(n: number, rng: Rng): Service[] {
  const services: Service[] = []
  for (let i = 0; i < n; i++) {
    const base = NAMES[i % NAMES.length]!
    const name = serviceName(i)
    const routes = Array.from({ length: rng.int(1, 3) }, () => `${rng.pick(VERBS)} /${base}/${rng.pick(['items', 'list', 'get', 'update', 'status'])}`)
    services.push({
      name,
      host: `${name}-${rng.hex(3)}`,
      medianMs: rng.lognormal(4, 0.6),
      routes,
      callees: [],
      store: rng.chance(0.5) ? rng.pick(['postgres', 'redis', 'kafka'] as const) : undefined,
    })
  }
  // Layered DAG: every service but the entry has a caller with a lower index, so traces terminate.
  for (let i = 1; i < n; i++) {
    const caller = Math.floor(rng.next() * rng.next() * i)
    services[caller]!.callees.push(i)
    if (i > 2 && rng.chance(0.3)) {
      const extra = rng.int(0, i - 1)
      if (extra !== caller && !services[extra]!.callees.includes(i)) services[extra]!.callees.push(i)
    }
  }
  return services
}

interface SpanBuild {
  span: OtlpSpanJson
  service: number
  startMs: number
  durMs: number
  parent: SpanBuild | null
}

export class TelemetryGenerator {
  readonly services: Service[]
  private readonly recentTraces: string[] = []
  private readonly counters = new Map<string, number>()
  private seriesCursor = 0

  constructor(
    private readonly opts: TelemetryOptions,
    private readonly rng: Rng,
    private readonly now: () => number = Date.now,
  ) {
    this.services = buildServiceGraph(Math.max(1, opts.services), rng)
  }

  /** One request's worth of traces: resourceSpans grouped by service, as an SDK batch would send them. */
  traces(): { body: OtlpTraceRequestJson; items: number } {
    const byService = new Map<number, OtlpSpanJson[]>()
    let items = 0
    for (let t = 0; t < this.opts.tracesPerRequest; t++) {
      for (const b of this.trace()) {
        let list = byService.get(b.service)
        if (!list) byService.set(b.service, (list = []))
        list.push(b.span)
        items++
      }
    }
    const resourceSpans = [...byService].map(([i, spans]) => ({
      resource: { attributes: this.resource(i) },
      scopeSpans: [{ scope: { name: 'aiops-loadtest', version: '1' }, spans }],
    }))
    return { body: { resourceSpans }, items }
  }

  private trace(): SpanBuild[] {
    const rng = this.rng
    const traceId = rng.hex(16)
    this.remember(traceId)
    const start = this.now() - 50
    const spans: SpanBuild[] = []
    const visit = (svc: number, parent: SpanBuild | null, at: number, kind: number, name: string): SpanBuild => {
      const s = this.services[svc]!
      const b: SpanBuild = {
        service: svc,
        startMs: at,
        durMs: rng.lognormal(s.medianMs, 0.5),
        parent,
        span: { traceId, spanId: rng.hex(8), parentSpanId: parent?.span.spanId ?? '', name, kind, attributes: [], status: { code: 0 } },
      }
      spans.push(b)
      return b
    }
    const root = this.services[0]!
    const walk = (node: SpanBuild): void => {
      const s = this.services[node.service]!
      let cursor = node.startMs + node.durMs * 0.1
      for (const callee of s.callees) {
        if (spans.length + 2 > this.opts.spansPerTrace || !rng.chance(0.8)) continue
        const c = this.services[callee]!
        const route = rng.pick(c.routes)
        const client = visit(node.service, node, cursor, 3, route)
        const server = visit(callee, client, cursor + 0.2, 2, route)
        walk(server)
        client.durMs = server.durMs + 0.4
        cursor += client.durMs
      }
      if (s.store && spans.length < this.opts.spansPerTrace) {
        const db = visit(node.service, node, cursor, 3, s.store === 'postgres' ? 'SELECT' : s.store === 'redis' ? 'GET' : 'publish')
        db.span.attributes!.push(kv('db.system', s.store))
        cursor += db.durMs
      }
      node.durMs = Math.max(node.durMs, cursor - node.startMs + node.durMs * 0.1)
    }
    const rootSpan = visit(0, null, start, 2, rng.pick(root.routes))
    walk(rootSpan)
    if (rng.chance(this.opts.slowFraction)) this.slowDown(rng.pick(spans))
    if (rng.chance(this.opts.errorFraction)) this.fail(rng.pick(spans))
    for (const b of spans) {
      const route = b.span.name!
      b.span.startTimeUnixNano = nanos(b.startMs)
      b.span.endTimeUnixNano = nanos(b.startMs + b.durMs)
      if (b.span.kind === 2 || b.span.kind === 3) {
        b.span.attributes!.push(kv('http.request.method', route.split(' ')[0]!), kv('http.route', route.split(' ')[1] ?? '/'))
        b.span.attributes!.push(kv('http.response.status_code', b.span.status!.code === 2 ? 500 : 200))
      }
    }
    return spans
  }

  /** One span is 10–50× slower; callers wait for it, so the delay shows all the way up. */
  private slowDown(b: SpanBuild): void {
    const extra = b.durMs * this.rng.int(10, 50)
    for (let p: SpanBuild | null = b; p; p = p.parent) p.durMs += extra
  }

  /** An error where it happens, and on every caller it propagates to. */
  private fail(b: SpanBuild): void {
    const message = this.rng.pick(['connection refused', 'deadline exceeded', 'internal error', 'out of stock'])
    for (let p: SpanBuild | null = b; p; p = p.parent) p.span.status = { code: 2, message }
  }

  /** One request's worth of metric points, cycling through every series so each gets a regular cadence. */
  metrics(): { body: OtlpMetricsRequestJson; items: number } {
    const nowMs = this.now()
    const bySvc = new Map<number, OtlpMetricJson[]>()
    for (let i = 0; i < this.opts.metricsPerRequest; i++) {
      const cursor = this.seriesCursor++
      const svcIndex = cursor % this.services.length
      const metricIndex = Math.floor(cursor / this.services.length) % 4
      let list = bySvc.get(svcIndex)
      if (!list) bySvc.set(svcIndex, (list = []))
      list.push(this.metric(svcIndex, metricIndex, nowMs))
    }
    const resourceMetrics = [...bySvc].map(([i, metrics]) => ({
      resource: { attributes: this.resource(i) },
      scopeMetrics: [{ scope: { name: 'aiops-loadtest', version: '1' }, metrics }],
    }))
    return { body: { resourceMetrics }, items: this.opts.metricsPerRequest }
  }

  /** Daily and hourly cycles (phase per series) plus noise, scaled per series. */
  seasonal(seriesKey: string, nowMs: number, base: number): number {
    let h = 0
    for (let i = 0; i < seriesKey.length; i++) h = (h * 31 + seriesKey.charCodeAt(i)) >>> 0
    const phase = (h % 1000) / 1000
    const day = Math.sin(2 * Math.PI * (nowMs / 86_400_000 + phase))
    const hour = Math.sin(2 * Math.PI * (nowMs / 3_600_000 + phase * 3))
    return Math.max(0, base * (1 + 0.35 * day + 0.1 * hour + 0.05 * (this.rng.next() * 2 - 1)))
  }

  private metric(svcIndex: number, which: number, nowMs: number): OtlpMetricJson {
    const s = this.services[svcIndex]!
    const time = nanos(nowMs)
    const attrs = [kv('http.route', s.routes[0]!.split(' ')[1]!)]
    switch (which) {
      case 0:
        return { name: 'http.server.request.duration', unit: 'ms', gauge: { dataPoints: [{ attributes: attrs, timeUnixNano: time, asDouble: this.seasonal(`${s.name}.lat`, nowMs, s.medianMs * 3) }] } }
      case 1: {
        const key = `${s.name}.req`
        const total = (this.counters.get(key) ?? 0) + Math.round(this.seasonal(key, nowMs, 120))
        this.counters.set(key, total)
        return {
          name: 'http.server.requests',
          unit: '1',
          sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ attributes: attrs, startTimeUnixNano: nanos(nowMs - 3_600_000), timeUnixNano: time, asInt: String(total) }] },
        }
      }
      case 2:
        return { name: 'system.cpu.utilization', unit: '1', gauge: { dataPoints: [{ attributes: [kv('host.name', s.host)], timeUnixNano: time, asDouble: Math.min(1, this.seasonal(`${s.host}.cpu`, nowMs, 0.45)) }] } }
      default: {
        const bounds = [5, 10, 25, 50, 100, 250, 500, 1000]
        const counts = bounds.map((b) => Math.round(this.seasonal(`${s.name}.h${b}`, nowMs, 40 / Math.sqrt(b))))
        counts.push(Math.round(this.rng.next() * 2))
        const count = counts.reduce((a, b) => a + b, 0)
        return {
          name: 'http.server.duration.histogram',
          unit: 'ms',
          histogram: {
            aggregationTemporality: 1,
            dataPoints: [{ attributes: attrs, startTimeUnixNano: nanos(nowMs - 10_000), timeUnixNano: time, count: String(count), sum: count * s.medianMs * 2, bucketCounts: counts.map(String), explicitBounds: bounds }],
          },
        }
      }
    }
  }

  /** One request's worth of log records; errors follow the error fraction and point at recent traces. */
  logs(): { body: OtlpLogsRequestJson; items: number } {
    const nowMs = this.now()
    const bySvc = new Map<number, OtlpLogRecordJson[]>()
    for (let i = 0; i < this.opts.logsPerRequest; i++) {
      const svc = this.rng.int(0, this.services.length - 1)
      const s = this.services[svc]!
      const error = this.rng.chance(this.opts.errorFraction)
      const warn = !error && this.rng.chance(this.opts.slowFraction)
      const traceId = this.recentTraces.length && this.rng.chance(0.5) ? this.rng.pick(this.recentTraces) : ''
      const route = this.rng.pick(s.routes)
      const body = error
        ? `request ${route} failed: ${this.rng.pick(['connection refused', 'timeout after 5000ms', 'null pointer in handler'])}`
        : warn
          ? `slow request ${route}: ${Math.round(s.medianMs * this.rng.int(10, 50))}ms`
          : `handled ${route} in ${this.rng.lognormal(s.medianMs, 0.5).toFixed(1)}ms`
      let list = bySvc.get(svc)
      if (!list) bySvc.set(svc, (list = []))
      list.push({
        timeUnixNano: nanos(nowMs - this.rng.next() * 1000),
        observedTimeUnixNano: nanos(nowMs),
        severityNumber: error ? 17 : warn ? 13 : 9,
        severityText: error ? 'ERROR' : warn ? 'WARN' : 'INFO',
        body: { stringValue: body },
        attributes: [kv('http.route', route.split(' ')[1]!)],
        ...(traceId ? { traceId, spanId: this.rng.hex(8) } : {}),
      })
    }
    const resourceLogs = [...bySvc].map(([i, logRecords]) => ({
      resource: { attributes: this.resource(i) },
      scopeLogs: [{ scope: { name: 'aiops-loadtest', version: '1' }, logRecords }],
    }))
    return { body: { resourceLogs }, items: this.opts.logsPerRequest }
  }

  private resource(i: number): OtlpKeyValueJson[] {
    const s = this.services[i]!
    return [kv('service.name', s.name), kv('host.name', s.host), kv('deployment.environment', 'loadtest')]
  }

  private remember(traceId: string): void {
    this.recentTraces.push(traceId)
    if (this.recentTraces.length > 64) this.recentTraces.shift()
  }
}
