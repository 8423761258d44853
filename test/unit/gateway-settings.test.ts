import { describe, expect, it } from 'vitest'
import { gatewaySettings } from '../../src/agents/gateway/settings.js'
import { resolveTenant } from '../../src/agents/gateway/tenants.js'
import { redact, resolveConfig } from '../../src/lib/config/index.js'
import { ConfigError } from '../../src/lib/errors.js'

const settingsFrom = async (env: Record<string, string>) => gatewaySettings((await resolveConfig({ env, cwd: '/nonexistent-aiops' })).config)

describe('gateway settings', () => {
  it('defaults: loopback, port 4318, open single-tenant mode as tenant "default" at the large tier', async () => {
    const s = await settingsFrom({})
    expect(s).toMatchObject({ host: '127.0.0.1', port: 4318, maxBodyBytes: 64 * 1024 * 1024, apiKeyHeader: 'x-api-key', open: { tenant: 'default', rate: 1_000_000 } })
    expect(s.keys.size).toBe(0)
    expect(s.lagSources).toEqual([
      { topic: 'aiops.traces', group: 'aiops-consumer.traces' },
      { topic: 'aiops.metrics', group: 'aiops-consumer.metrics' },
      { topic: 'aiops.logs', group: 'aiops-consumer.logs' },
    ])
    expect(s.memory.hardBytes).toBeGreaterThan(s.memory.softBytes)
  })

  it('writes bus envelopes v3 unless gateway.envelopeVersion asks for v2 (JSON, for readers from before v3)', async () => {
    const { toBusRecords } = await import('../../src/agents/gateway/envelopes.js')
    const { decodeEnvelope } = await import('../../src/lib/otlp/envelope.js')
    expect((await settingsFrom({})).envelopeVersion).toBe(3)
    expect((await settingsFrom({ AIOPS_GATEWAY_ENVELOPE_VERSION: '2' })).envelopeVersion).toBe(2)
    await expect(settingsFrom({ AIOPS_GATEWAY_ENVELOPE_VERSION: '4' })).rejects.toThrow(/envelopeVersion/)
    const rows = [{ trace_id: 't1', span_id: 'a' }, { trace_id: 't1', span_id: 'b' }]
    const [v3] = toBusRecords('traces', 'acme', rows).records
    const [v2] = toBusRecords('traces', 'acme', rows, 2).records
    expect(v3!.value[0]).toBe(3)
    expect(JSON.parse(v2!.value.toString()) as unknown).toMatchObject({ v: 2, signal: 'traces', tenant: 'acme' })
    expect(decodeEnvelope(v2!.value).rows).toEqual(decodeEnvelope(v3!.value).rows)
  })

  it('API keys map to tenants with tier or explicit rates, and turn open mode off', async () => {
    const s = await settingsFrom({ AIOPS_GATEWAY_API_KEYS: 'k1=acme:medium,k2=globex,k3=initech:2500' })
    expect(s.open).toBeUndefined()
    expect([...s.keys]).toEqual([
      ['k1', { tenant: 'acme', rate: 100_000 }],
      ['k2', { tenant: 'globex', rate: 10_000 }],
      ['k3', { tenant: 'initech', rate: 2500 }],
    ])
  })

  it('keys are secrets: config show prints them masked', async () => {
    const { config } = await resolveConfig({ env: { AIOPS_GATEWAY_API_KEYS: 'sekrit=acme' }, cwd: '/nonexistent-aiops' })
    expect(JSON.stringify(redact(config))).not.toContain('sekrit')
  })

  it.each([
    ['an entry without a tenant', { AIOPS_GATEWAY_API_KEYS: 'justakey' }, 'gateway.apiKeys'],
    ['a bad tier', { AIOPS_GATEWAY_API_KEYS: 'k=acme:huge' }, 'gateway.apiKeys'],
    ['a duplicate key', { AIOPS_GATEWAY_API_KEYS: 'k=a,k=b' }, 'gateway.apiKeys'],
    ['no keys and no open tenant', { AIOPS_GATEWAY_OPEN_TENANT: '' }, 'gateway.openTenant'],
    ['hard limit under soft', { AIOPS_GATEWAY_MEMORY_SOFT_LIMIT_BYTES: '100000', AIOPS_GATEWAY_MEMORY_HARD_LIMIT_BYTES: '50000' }, 'gateway.memory.hardLimitBytes'],
  ])('%s is a ConfigError naming the field (and never the key)', async (_name, env, field) => {
    const err = await settingsFrom(env).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).field).toBe(field)
    expect((err as Error).message).not.toContain('justakey')
  })
})

describe('tenant resolution', () => {
  const keyed = { keys: new Map([['k1', { tenant: 'acme', rate: 10 }]]), open: undefined, apiKeyHeader: 'x-api-key' }

  it('by the configured header or Authorization: Bearer', () => {
    expect(resolveTenant(keyed, { 'x-api-key': 'k1' })).toEqual({ ok: true, plan: { tenant: 'acme', rate: 10 } })
    expect(resolveTenant(keyed, { authorization: 'Bearer k1' })).toEqual({ ok: true, plan: { tenant: 'acme', rate: 10 } })
  })

  it('missing or unknown keys are refused', () => {
    expect(resolveTenant(keyed, {})).toEqual({ ok: false, reason: 'missing_key' })
    expect(resolveTenant(keyed, { 'x-api-key': 'nope' })).toEqual({ ok: false, reason: 'unknown_key' })
    expect(resolveTenant(keyed, { authorization: 'Basic k1' })).toEqual({ ok: false, reason: 'missing_key' })
  })

  it('open mode stamps its tenant whatever the headers say', () => {
    expect(resolveTenant({ ...keyed, open: { tenant: 'default', rate: 5 } }, { 'x-api-key': 'nope' })).toEqual({ ok: true, plan: { tenant: 'default', rate: 5 } })
  })
})
