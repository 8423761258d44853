/**
 * Synthetic but realistic OTLP trace requests for the gateway benchmark: N spans spread over traces of ~10 spans
 * (the fan-in of one service call tree), HTTP-server-like attributes, one resource per request. Deterministic from the
 * seed, so every side of a comparison gets the same bytes.
 */
import type { OtlpTraceRequestJson, OtlpSpanJson } from '../../src/lib/otlp/types.js'

export interface SpanRequestOptions {
  spans: number
  /** Spans per trace (default 10). */
  spansPerTrace?: number
  seed?: number
  service?: string
  /** Fraction of spans with status ERROR (default 0.01). */
  errorRate?: number
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
}

const hex = (r: () => number, bytes: number): string => {
  let out = ''
  for (let i = 0; i < bytes; i++) out += Math.floor(r() * 256).toString(16).padStart(2, '0')
  return out
}

const ROUTES = ['/api/users/:id', '/api/orders', '/api/cart', '/checkout', '/api/search', '/health']

export function spanRequest(opts: SpanRequestOptions): OtlpTraceRequestJson {
  const r = rng(opts.seed ?? 42)
  const perTrace = opts.spansPerTrace ?? 10
  const errorRate = opts.errorRate ?? 0.01
  const nowNs = BigInt(Date.now()) * 1_000_000n
  const spans: OtlpSpanJson[] = []
  let traceId = ''
  let rootId = ''
  for (let i = 0; i < opts.spans; i++) {
    if (i % perTrace === 0) {
      traceId = hex(r, 16)
      rootId = hex(r, 8)
    }
    const route = ROUTES[Math.floor(r() * ROUTES.length)]!
    const error = r() < errorRate
    const start = nowNs - BigInt(Math.floor(r() * 5e9))
    const duration = BigInt(Math.floor(r() * 200e6))
    spans.push({
      traceId,
      spanId: i % perTrace === 0 ? rootId : hex(r, 8),
      parentSpanId: i % perTrace === 0 ? '' : rootId,
      name: `GET ${route}`,
      kind: i % perTrace === 0 ? 2 : 3,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + duration).toString(),
      attributes: [
        { key: 'http.request.method', value: { stringValue: 'GET' } },
        { key: 'http.route', value: { stringValue: route } },
        { key: 'http.response.status_code', value: { intValue: error ? 500 : 200 } },
        { key: 'url.scheme', value: { stringValue: 'https' } },
        { key: 'server.address', value: { stringValue: 'api.example.com' } },
        { key: 'network.protocol.version', value: { stringValue: '1.1' } },
        { key: 'user_agent.original', value: { stringValue: 'Mozilla/5.0 (X11; Linux x86_64)' } },
        { key: 'app.request_id', value: { stringValue: hex(r, 8) } },
      ],
      status: { code: error ? 2 : 0, message: error ? 'internal error' : '' },
    })
  }
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: opts.service ?? 'checkout' } },
            { key: 'service.version', value: { stringValue: '1.4.2' } },
            { key: 'host.name', value: { stringValue: 'node-17' } },
            { key: 'telemetry.sdk.language', value: { stringValue: 'nodejs' } },
            { key: 'telemetry.sdk.name', value: { stringValue: 'opentelemetry' } },
          ],
        },
        scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.223.0' }, spans }],
      },
    ],
  }
}
