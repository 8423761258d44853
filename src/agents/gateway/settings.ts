/**
 * The gateway's settings, derived once from configuration and checked: API keys parsed into tenants with their rate,
 * memory limits resolved, topics and the consumer groups whose lag drives backpressure sampling.
 */
import { hostname } from 'node:os'
import path from 'node:path'
import { getHeapStatistics } from 'node:v8'
import type { AiopsConfig } from '../../lib/config/index.js'
import { ConfigError } from '../../lib/errors.js'
import { SIGNALS, type Signal } from '../../lib/otlp/envelope.js'
import { consumerGroupFor } from '../consumer/settings.js'

export type Tier = 'small' | 'medium' | 'large'

export interface TenantPlan {
  tenant: string
  /** Items per second. */
  rate: number
}

export interface GatewaySettings {
  host: string
  port: number
  instance: string
  maxBodyBytes: number
  apiKeyHeader: string
  /** API key → tenant and rate. Empty in open mode. */
  keys: Map<string, TenantPlan>
  /** Set in open single-tenant mode: every request is stamped with it. */
  open: TenantPlan | undefined
  burstSeconds: number
  slowSpanNs: number
  memory: { softBytes: number; hardBytes: number }
  buffer: { maxBytes: number; maxBatchBytes: number; produceConcurrency: number; lingerMs: number }
  spool: { enabled: boolean; dir: string; maxBytes: number; afterMs: number }
  retryAfterS: number
  /** Bus message format written (envelope.ts): 3 binary, 2 JSON for readers from before v3. */
  envelopeVersion: 2 | 3
  topics: Record<Signal, string>
  controlTopic: string
  /** (topic, consumer group) pairs whose lag is summed for backpressure. */
  lagSources: Array<{ topic: string; group: string }>
  backpressure: AiopsConfig['resilience']['backpressure']
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

export function gatewaySettings(config: AiopsConfig, overrides: { port?: number } = {}): GatewaySettings {
  const g = config.gateway
  const tierRate = (tier: string, field: string): number => {
    if (tier === 'small' || tier === 'medium' || tier === 'large') return g.rateLimits[tier]
    const n = Number(tier)
    if (Number.isInteger(n) && n > 0) return n
    throw new ConfigError(field, `${field}: tier "${tier}" is not small, medium, large or a positive number of items/s`, {
      suggestions: ['write each API key as KEY=TENANT or KEY=TENANT:TIER, e.g. k_live_123=acme:medium'],
    })
  }
  const keys = new Map<string, TenantPlan>()
  for (const entry of g.apiKeys) {
    const eq = entry.indexOf('=')
    const key = eq > 0 ? entry.slice(0, eq) : ''
    const [tenant = '', tier = g.defaultTier] = eq > 0 ? entry.slice(eq + 1).split(':') : []
    if (!key || !TENANT.test(tenant)) {
      // The key itself is a secret: the message names the field and the shape, never the value.
      throw new ConfigError('gateway.apiKeys', `gateway.apiKeys: an entry is not KEY=TENANT[:TIER] with a tenant of letters, digits, _ . - (≤ 64)`, {
        suggestions: ['write each API key as KEY=TENANT or KEY=TENANT:TIER, e.g. k_live_123=acme:medium'],
      })
    }
    if (keys.has(key)) throw new ConfigError('gateway.apiKeys', 'gateway.apiKeys: the same key is listed twice')
    keys.set(key, { tenant, rate: tierRate(tier, 'gateway.apiKeys') })
  }
  let open: TenantPlan | undefined
  if (keys.size === 0) {
    if (!g.openTenant) {
      throw new ConfigError('gateway.openTenant', 'gateway.apiKeys is empty and gateway.openTenant is empty: every request would be refused', {
        suggestions: ['set gateway.apiKeys (AIOPS_GATEWAY_API_KEYS=key=tenant,...) or gateway.openTenant for open single-tenant mode'],
      })
    }
    if (!TENANT.test(g.openTenant)) throw new ConfigError('gateway.openTenant', `gateway.openTenant "${g.openTenant}" is not a tenant name (letters, digits, _ . -)`)
    open = { tenant: g.openTenant, rate: g.rateLimits[g.openTenantTier] }
  }
  if (!/^[A-Za-z0-9-]+$/.test(g.apiKeyHeader)) throw new ConfigError('gateway.apiKeyHeader', `gateway.apiKeyHeader "${g.apiKeyHeader}" is not a header name`)

  const heapLimit = getHeapStatistics().heap_size_limit
  const softBytes = g.memory.softLimitBytes > 0 ? g.memory.softLimitBytes : Math.floor(heapLimit * 0.6)
  const hardBytes = g.memory.hardLimitBytes > 0 ? g.memory.hardLimitBytes : Math.floor(heapLimit * 0.8)
  if (hardBytes < softBytes) {
    throw new ConfigError('gateway.memory.hardLimitBytes', `gateway.memory.hardLimitBytes (${hardBytes}) is below the soft limit (${softBytes})`, {
      suggestions: ['set gateway.memory.hardLimitBytes above gateway.memory.softLimitBytes (0 picks both from the V8 heap limit)'],
    })
  }
  const port = overrides.port ?? g.port
  const seen = new Set<string>()
  const lagSources: GatewaySettings['lagSources'] = []
  for (const signal of SIGNALS) {
    const topic = config.bus.topics[signal]
    if (seen.has(topic)) continue
    seen.add(topic)
    lagSources.push({ topic, group: consumerGroupFor(config, signal) })
  }
  return {
    host: g.host,
    port,
    instance: g.instance || `${hostname()}-${port}`,
    maxBodyBytes: g.maxBodyBytes,
    apiKeyHeader: g.apiKeyHeader.toLowerCase(),
    keys,
    open,
    burstSeconds: g.rateLimits.burstSeconds,
    slowSpanNs: g.sampling.slowSpanMs * 1e6,
    memory: { softBytes, hardBytes },
    buffer: { ...g.buffer },
    spool: { ...g.spool, dir: g.spool.dir || path.join(config.dataDir, 'gateway-spool') },
    retryAfterS: g.retryAfterS,
    envelopeVersion: g.envelopeVersion === 2 ? 2 : 3,
    topics: { traces: config.bus.topics.traces, metrics: config.bus.topics.metrics, logs: config.bus.topics.logs },
    controlTopic: config.bus.topics.control,
    lagSources,
    backpressure: config.resilience.backpressure,
  }
}
