/**
 * Bad input against a running gateway (memory bus): each request gets its documented status and an OTLP error body in
 * the request's encoding, nothing of a refused request reaches the bus, the gateway keeps serving, and the item
 * counters add up exactly.
 */
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import { decodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { encodeExportTraceRequest, type OtlpSpanJson, type OtlpTraceRequestJson } from '../../src/lib/otlp/index.js'
import { ProtoReader } from '../../src/lib/otlp/proto-reader.js'
import type { Row } from '../../src/lib/store/types.js'
import { startGateway, type RunningGateway } from '../fixtures/otlp/gateway-harness.js'

const KEY = 'k_test_acme'
const SLOW_KEY = 'k_test_slow'
const MAX_BODY = 64 * 1024

let bus: MemoryBus
let gw: RunningGateway
const onBus: Row[] = []
let memoryInUse = 0

beforeAll(async () => {
  bus = new MemoryBus()
  await bus.consume('aiops.traces', 'tap', async (b) => {
    for (const r of b.records) onBus.push(...decodeEnvelope(r.value).rows)
  })
  gw = await startGateway(
    bus,
    {
      AIOPS_GATEWAY_API_KEYS: `${KEY}=acme:large,${SLOW_KEY}=slowco:50`,
      AIOPS_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY),
      AIOPS_GATEWAY_MEMORY_SOFT_LIMIT_BYTES: String(1e12),
      AIOPS_GATEWAY_MEMORY_HARD_LIMIT_BYTES: String(2e12),
    },
    { memoryRead: () => memoryInUse },
  )
})
afterAll(async () => {
  await gw?.stop()
  await bus?.close()
})

let n = 0
const span = (extra: OtlpSpanJson = {}): OtlpSpanJson => {
  n++
  return {
    traceId: n.toString(16).padStart(32, 'a'),
    spanId: n.toString(16).padStart(16, 'b'),
    name: `op-${n}`,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000001000000',
    ...extra,
  }
}
const request = (spans: OtlpSpanJson[]): OtlpTraceRequestJson => ({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bad-input' } }] }, scopeSpans: [{ spans }] }] })

interface Reply {
  status: number
  type: string | null
  retryAfter: string | null
  body: Buffer
}

async function post(path: string, body: Uint8Array | string, headers: Record<string, string>, method = 'POST'): Promise<Reply> {
  const res = await fetch(`${gw.url}${path}`, { method, ...(method === 'POST' ? { body } : {}), headers: { 'x-api-key': KEY, ...headers } })
  return { status: res.status, type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: Buffer.from(await res.arrayBuffer()) }
}
const pb = (spans: OtlpSpanJson[]): Uint8Array => encodeExportTraceRequest(request(spans))
const PB = { 'content-type': 'application/x-protobuf' }
const JSONCT = { 'content-type': 'application/json' }

/** google.rpc.Status from a protobuf error body. */
function status(body: Buffer): { code: number; message: string } {
  const r = new ProtoReader(body)
  const out = { code: 0, message: '' }
  while (r.pos < r.limit) {
    const t = r.tag()
    if (t >>> 3 === 1) out.code = r.int32()
    else if (t >>> 3 === 2) out.message = r.string()
    else r.skip(t & 7, t >>> 3)
  }
  return out
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50))
}

describe('gateway under bad input', () => {
  it('truncated and random-byte protobuf → 400 with a google.rpc.Status body in protobuf', async () => {
    const good = pb([span(), span()])
    for (const body of [good.subarray(0, good.length - 7), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) % 256))]) {
      const r = await post('/v1/traces', body, PB)
      expect(r.status).toBe(400)
      expect(r.type).toBe('application/x-protobuf')
      expect(status(r.body)).toMatchObject({ code: 3, message: expect.stringMatching(/not a valid OTLP traces export \(protobuf\)/) })
    }
  })

  it('invalid JSON and JSON of the wrong shape → 400 with a JSON Status naming the problem', async () => {
    let r = await post('/v1/traces', '{"resourceSpans": [{"scopeSpans": [', JSONCT)
    expect([r.status, r.type]).toEqual([400, 'application/json'])
    expect(JSON.parse(r.body.toString())).toMatchObject({ code: 3, message: expect.stringMatching(/not valid JSON/) })
    r = await post('/v1/traces', JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 'yesterday' }] }] }] }), JSONCT)
    expect(r.status).toBe(400)
    expect(JSON.parse(r.body.toString()).message).toMatch(/resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.startTimeUnixNano/)
  })

  it('wrong content type or encoding → 415; wrong path 404; wrong method 405', async () => {
    expect((await post('/v1/traces', 'x', { 'content-type': 'text/plain' })).status).toBe(415)
    expect((await post('/v1/traces', 'x', { 'content-type': 'application/json', 'content-encoding': 'br' })).status).toBe(415)
    expect((await post('/v1/spans', 'x', JSONCT)).status).toBe(404)
    expect((await post('/v1/traces', '', JSONCT, 'GET')).status).toBe(405)
  })

  it('a body over the limit → 413, declared or chunked, and a gzip bomb → 413', async () => {
    const big = pb(Array.from({ length: 2000 }, () => span({ attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(100) } }] })))
    expect(big.length).toBeGreaterThan(MAX_BODY)
    const r = await post('/v1/traces', big, PB)
    expect(r.status).toBe(413)
    expect(status(r.body).message).toMatch(/over the 65536-byte limit/)
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, ' '))
    const b = await post('/v1/traces', bomb, { ...JSONCT, 'content-encoding': 'gzip' })
    expect(b.status).toBe(413)
    expect(JSON.parse(b.body.toString()).message).toMatch(/after decompression/)
  })

  it('invalid trace ids → 200 with partial_success; only the valid spans reach the bus', async () => {
    const ok = span()
    const body = JSON.stringify(request([ok, span({ traceId: 'abc' }), span({ traceId: '0'.repeat(32) }), span({ spanId: 'zz' })]))
    const r = await post('/v1/traces', body, JSONCT)
    expect(r.status).toBe(200)
    const res = JSON.parse(r.body.toString())
    expect(res.partialSuccess.rejectedSpans).toBe('3')
    expect(res.partialSuccess.errorMessage).toMatch(/^3 spans rejected: .*spans\[1\]: traceId must be 16 bytes/)
    await settle()
    expect(onBus.filter((row) => row.name === ok.name)).toHaveLength(1)
    expect(onBus.some((row) => row.trace_id === 'abc')).toBe(false)
  })

  it('a missing or unknown API key → 401', async () => {
    const body = pb([span()])
    const unknown = await post('/v1/traces', body, { ...PB, 'x-api-key': 'nope' })
    expect(unknown.status).toBe(401)
    expect(status(unknown.body)).toMatchObject({ code: 16, message: expect.stringMatching(/not recognised/) })
    const missing = await fetch(`${gw.url}/v1/traces`, { method: 'POST', body, headers: PB })
    expect(missing.status).toBe(401)
    expect((await post('/v1/traces', body, { ...PB, 'x-api-key': '', authorization: `Bearer ${KEY}` })).status).toBe(200)
  })

  it('a tenant over its rate → 429 with Retry-After; other tenants unaffected', async () => {
    const hdr = { ...PB, 'x-api-key': SLOW_KEY }
    expect((await post('/v1/traces', pb(Array.from({ length: 40 }, () => span())), hdr)).status).toBe(200)
    const r = await post('/v1/traces', pb(Array.from({ length: 40 }, () => span())), hdr)
    expect(r.status).toBe(429)
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1)
    expect(status(r.body).message).toMatch(/tenant slowco is over its rate of 50 items\/s/)
    expect((await post('/v1/traces', pb([span()]), PB)).status).toBe(200)
  })

  it('over the memory soft limit → 503 with Retry-After; back to 200 once memory falls', async () => {
    memoryInUse = 5e12
    let r: Reply = await post('/v1/traces', pb([span()]), PB)
    for (let i = 0; i < 50 && r.status !== 503; i++) {
      await new Promise((res) => setTimeout(res, 20))
      r = await post('/v1/traces', pb([span()]), PB)
    }
    expect(r.status).toBe(503)
    expect(r.retryAfter).toBe('5')
    memoryInUse = 0
    for (let i = 0; i < 50 && r.status !== 200; i++) {
      await new Promise((res) => setTimeout(res, 20))
      r = await post('/v1/traces', pb([span()]), PB)
    }
    expect(r.status).toBe(200)
  })

  it('keeps serving, nothing half-produced, and received = accepted + sampled out + refused exactly', async () => {
    const before = onBus.length
    const good = [span(), span(), span()]
    expect((await post('/v1/traces', pb(good), PB)).status).toBe(200)
    await settle()
    expect(onBus.length).toBe(before + 3)
    const received = await gw.count('received', { signal: 'traces' })
    const accepted = await gw.count('accepted', { signal: 'traces' })
    const sampled = await gw.count('sampled_out', { signal: 'traces' })
    const refused = await gw.count('refused', { signal: 'traces' })
    expect(received).toBe(accepted + sampled + refused)
    expect(await gw.count('refused', { signal: 'traces', reason: 'invalid' })).toBe(3)
    expect(await gw.count('refused', { signal: 'traces', reason: 'rate_limited' })).toBe(40)
    // Everything accepted is on the bus, and nothing else is.
    expect(onBus.length).toBe(accepted)
  })
})
