/**
 * Configuration of the gateway agent (`aiops agent gateway`): OTLP/HTTP in, bus out. Defaults suit `aiops up` on one
 * machine (loopback, open single-tenant mode); docs/gateway.md explains each choice.
 */
import { bool, int, list, num, oneOf, str, type FieldSpec, type Section } from '../fields.js'

const TIERS = ['small', 'medium', 'large'] as const

/** The API key list holds credentials: printed as *** by `config show` and never logged. */
const apiKeys: FieldSpec<string[]> = {
  ...list([], 'API keys → tenants, each "KEY=TENANT" or "KEY=TENANT:TIER" (TIER small|medium|large or items/s). Empty: open mode (see openTenant).'),
  secret: true,
}

export const gatewaySection = {
  host: str('127.0.0.1', 'Address the OTLP/HTTP listener binds; 0.0.0.0 to accept from other hosts (set apiKeys then).'),
  port: int(4318, 'OTLP/HTTP port (4318 is the OTLP default); 0 picks a free one.', { min: 0, max: 65535 }),
  instance: str('', 'Name of this gateway (its control-topic consumer group); empty means <hostname>-<port>.'),
  maxBodyBytes: int(64 * 1024 * 1024, 'Largest request body after decompression; larger gets 413 (gzip bombs are cut off at this size).', { min: 1024 }),
  apiKeyHeader: str('x-api-key', 'Header carrying the API key (Authorization: Bearer KEY is accepted too).'),
  apiKeys,
  openTenant: str('default', 'With no apiKeys: every request is stamped with this tenant (open single-tenant mode). Empty turns open mode off.'),
  openTenantTier: oneOf(TIERS, 'large', 'Rate tier of the open tenant.'),
  defaultTier: oneOf(TIERS, 'small', 'Rate tier of API keys that name no tier.'),
  rateLimits: {
    small: int(10000, 'Items/s (spans + data points + log records) a small tenant may send (design: < 10K/s).', { min: 1 }),
    medium: int(100000, 'Items/s of a medium tenant (design: 10K–100K/s).', { min: 1 }),
    large: int(1000000, 'Items/s of a large tenant (design: > 100K/s).', { min: 1 }),
    burstSeconds: num(1, 'Token-bucket depth in seconds of the tenant rate: how long a burst above the rate is absorbed.', { min: 0.01 }),
  },
  sampling: {
    slowSpanMs: int(1000, 'Spans at least this long are "slow": always kept under backpressure sampling, like errors.', { min: 0 }),
  },
  memory: {
    softLimitBytes: int(0, 'Above this (JS heap + buffers) new requests get 503 + Retry-After. 0: 60% of the V8 heap limit.', { min: 0 }),
    hardLimitBytes: int(0, 'Above this, request bodies still being read are cut off with 503 too. 0: 80% of the V8 heap limit.', { min: 0 }),
  },
  buffer: {
    maxBytes: int(64 * 1024 * 1024, 'Accepted records waiting for the bus (absorbs a short outage); when full, requests get 503.', { min: 1024 }),
    maxBatchBytes: int(1024 * 1024, 'Most bytes handed to one bus produce call (records from many requests ride together).', { min: 1024 }),
    produceConcurrency: int(2, 'Produce calls in flight at once (records arriving meanwhile batch into the next call).', { min: 1, max: 64 }),
    lingerMs: int(
      0,
      'How long a free produce slot waits for more records before sending a batch under maxBatchBytes (Kafka linger.ms): fewer, larger calls cost less CPU per item.',
      { min: 0, max: 1000 },
    ),
  },
  spool: {
    enabled: bool(false, 'Disk spool: records the bus has not taken within spool.afterMs are written (fsync) under spool.dir, acknowledged, and replayed.'),
    dir: str('', 'Spool directory; empty means <dataDir>/gateway-spool.'),
    maxBytes: int(1024 * 1024 * 1024, 'Largest spool on disk; when full, requests get 503.', { min: 1024 * 1024 }),
    afterMs: int(1000, 'How long records wait for the bus before they are spooled (the client waits at most this long plus an fsync).', { min: 10 }),
  },
  envelopeVersion: int(
    3,
    'Bus message format written: 3 (binary, default) or 2 (JSON). Readers from before v3 dead-letter v3 records: when upgrading, set 2, upgrade consumers and detectors, then set 3.',
    { min: 2, max: 3 },
  ),
  retryAfterS: int(5, 'Retry-After (seconds) sent with 503 (memory, buffer full, shutting down).', { min: 1, max: 3600 }),
} satisfies Section
