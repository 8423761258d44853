/**
 * One OTLP/HTTP request, start to answer. The order is cheapest refusal first:
 *   route (404/405) → Content-Type (415) → Content-Encoding (415) → shutting down (503) → API key (401)
 *   → memory limiter (503) → body with size limit and gzip-bomb guard (413, 400) → decode (400)
 *   → tenant rate limit (429) → validate + convert (partial_success) → backpressure sampling → produce (503 when the
 *   buffer is full) → 200.
 * Every item of a decoded request ends in exactly one of accepted / sampled_out / refused (see metrics.ts); a request
 * is answered 200 only once its records are on the bus or in the spool. Nothing here throws out: an unexpected error
 * is logged, its items refused as `internal`, and the client gets 500.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SIGNAL_CODECS, OtlpDecodeError, exportResponseBody, rejectionMessage, statusBody, CONTENT_TYPES, type OtlpEncoding } from '../../lib/otlp/index.js'
import { nowNs } from '../../lib/otlp/convert-logs.js'
import type { Signal } from '../../lib/otlp/envelope.js'
import type { BackpressureController } from '../../lib/resilience/backpressure.js'
import type { Logger } from '../../lib/telemetry/logger.js'
import { BodyError, readBody } from './body.js'
import { toBusRecords } from './envelopes.js'
import type { MemoryLimiter } from './memory-limiter.js'
import type { GatewayMetrics } from './metrics.js'
import { BufferFullError, type ProduceBuffer } from './produce-buffer.js'
import type { TenantRateLimiter } from './rate-limit.js'
import { sampleRows } from './sampling.js'
import type { GatewaySettings } from './settings.js'
import { resolveTenant } from './tenants.js'

export interface GatewayCore {
  settings: GatewaySettings
  metrics: GatewayMetrics
  limiter: TenantRateLimiter
  memory: MemoryLimiter
  buffer: ProduceBuffer
  controller: BackpressureController
  logger: Logger
  draining: () => boolean
  /** Aborted when memory passes the hard limit: cuts off bodies still being read. */
  cut: () => AbortSignal
  random?: () => number
}

const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' }

interface Answer {
  status: number
  body: Buffer
  encoding: OtlpEncoding
  retryAfterS?: number
  close?: boolean
}

export async function handleRequest(core: GatewayCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint()
  const q = req.url?.indexOf('?') ?? -1
  const signal = PATHS[q >= 0 ? req.url!.slice(0, q) : (req.url ?? '')]
  let answer: Answer
  // Items decoded but not yet counted as accepted, sampled out or refused: refused as `internal` on a crash.
  const pending = { n: 0 }
  try {
    answer = await serve(core, req, signal, pending)
  } catch (err) {
    core.logger.error('gateway: request failed unexpectedly', { err, signal })
    if (signal && pending.n > 0) core.metrics.refused.inc({ signal, reason: 'internal' }, pending.n)
    answer = fail('json', 500, 'internal error in the gateway; the request was not accepted, retry it')
  }
  const headers: Record<string, string | number> = { 'content-type': CONTENT_TYPES[answer.encoding], 'content-length': answer.body.length }
  if (answer.retryAfterS !== undefined) headers['retry-after'] = answer.retryAfterS
  if (answer.close || core.draining()) headers.connection = 'close'
  if (answer.status === 405) headers.allow = 'POST'
  res.writeHead(answer.status, headers)
  res.end(answer.body)
  const label = { signal: signal ?? 'unknown', code: String(answer.status) }
  core.metrics.requests.inc(label)
  core.metrics.requestSeconds.observe(label, Number(process.hrtime.bigint() - started) / 1e9)
}

function fail(encoding: OtlpEncoding, status: number, message: string, extra: Partial<Answer> = {}): Answer {
  return { status, body: statusBody(encoding, status, message), encoding, ...extra }
}

async function serve(core: GatewayCore, req: IncomingMessage, signal: Signal | undefined, pending: { n: number }): Promise<Answer> {
  const s = core.settings
  if (!signal) return fail('json', 404, `no OTLP endpoint at ${req.url ?? ''}; use POST /v1/traces, /v1/metrics or /v1/logs`)
  if (req.method !== 'POST') return fail('json', 405, `${req.method ?? ''} is not allowed on /v1/${signal}; OTLP/HTTP uses POST`)
  const encoding = encodingOf(req.headers['content-type'])
  if (!encoding) {
    return fail('json', 415, `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not supported; use application/x-protobuf or application/json`)
  }
  const ce = (req.headers['content-encoding'] ?? '').trim().toLowerCase()
  if (ce !== '' && ce !== 'identity' && ce !== 'gzip' && ce !== 'x-gzip') {
    return fail(encoding, 415, `Content-Encoding ${JSON.stringify(ce)} is not supported; send the body uncompressed or with gzip`)
  }
  if (core.draining()) return fail(encoding, 503, 'gateway is shutting down; send to another replica or retry', { retryAfterS: s.retryAfterS })
  const tenant = resolveTenant(s, req.headers)
  if (!tenant.ok) {
    const how = `send the key in the ${s.apiKeyHeader} header or as Authorization: Bearer <key>`
    return fail(encoding, 401, tenant.reason === 'missing_key' ? `API key missing; ${how}` : `API key not recognised; check the key (${how})`)
  }
  if (core.memory.level !== 'ok') {
    return fail(encoding, 503, 'gateway is over its memory limit; retry shortly', { retryAfterS: s.retryAfterS })
  }

  let body: Buffer
  try {
    body = await readBody(req, { maxBytes: s.maxBodyBytes, gzip: ce === 'gzip' || ce === 'x-gzip', signal: core.cut() })
  } catch (err) {
    if (!(err instanceof BodyError)) throw err
    if (err.reason === 'too_large') return fail(encoding, 413, `${err.message}; split the export into smaller batches`, { close: true })
    if (err.reason === 'bad_gzip') return fail(encoding, 400, err.message, { close: true })
    return fail(encoding, 503, err.message, { retryAfterS: s.retryAfterS, close: true })
  }

  const codec = SIGNAL_CODECS[signal]
  let decoded
  try {
    decoded = codec.decode(body, encoding)
  } catch (err) {
    if (err instanceof OtlpDecodeError) return fail(encoding, 400, `body is not a valid OTLP ${signal} export (${encoding}): ${err.message}`)
    throw err
  }
  const m = core.metrics
  const items = codec.count(decoded)
  m.received.inc({ signal }, items)
  pending.n = items

  const rate = core.limiter.take(tenant.plan.tenant, tenant.plan.rate, items)
  if (!rate.ok) {
    m.refused.inc({ signal, reason: 'rate_limited' }, items)
    pending.n = 0
    return fail(encoding, 429, `tenant ${tenant.plan.tenant} is over its rate of ${tenant.plan.rate} items/s; retry after ${rate.retryAfterS}s`, {
      retryAfterS: rate.retryAfterS,
    })
  }

  const converted = codec.rows(decoded, { tenant: tenant.plan.tenant, nowNs: nowNs() })
  if (converted.rejected > 0) m.refused.inc({ signal, reason: 'invalid' }, converted.rejected)
  pending.n -= converted.rejected
  const sampleRate = core.controller.rate
  const { kept, sampledOut } = sampleRows(signal, converted.rows, sampleRate, { slowSpanNs: s.slowSpanNs, ...(core.random ? { random: core.random } : {}) })
  if (sampledOut > 0) m.sampledOut.inc({ signal, reason: 'backpressure' }, sampledOut)
  pending.n -= sampledOut

  const batch = toBusRecords(signal, tenant.plan.tenant, kept, s.envelopeVersion)
  try {
    const delivery = await core.buffer.submit(s.topics[signal], batch.records, batch.bytes)
    m.accepted.inc({ signal }, kept.length)
    if (delivery === 'spooled') m.spooled.inc({ signal }, kept.length)
    pending.n = 0
  } catch (err) {
    if (!(err instanceof BufferFullError)) throw err
    m.refused.inc({ signal, reason: err.details.reason as string }, kept.length)
    pending.n = 0
    return fail(encoding, 503, `${err.message}; retry later`, { retryAfterS: err.retryAfterS })
  }
  const message = rejectionMessage(converted, codec.noun)
  return { status: 200, body: exportResponseBody(signal, encoding, converted.rejected, message), encoding }
}

/** application/x-protobuf (or application/protobuf) → protobuf; application/json → json; parameters ignored. */
export function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  if (!contentType) return undefined
  const base = contentType.split(';', 1)[0]!.trim().toLowerCase()
  if (base === 'application/x-protobuf' || base === 'application/protobuf') return 'protobuf'
  if (base === 'application/json') return 'json'
  return undefined
}
