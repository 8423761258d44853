/**
 * Configuration of `aiops agent router`: the ClickHouse-compatible query door and JSON API, tenants and their
 * limits, the two cache layers, and the replicas queries are routed to. Numbers come from the design documents
 * where they give them (L1 TTL 30 s; TTL by data age is in src/lib/routing/cache-key.ts).
 */
import { bool, type FieldSpec, int, list, oneOf, secret, type Section, str } from '../fields.js'

/** A list whose values are secrets (API keys): printed as *** by `config show`, logs and errors. */
const secretList = (def: string[], doc: string): FieldSpec<string[]> => ({ ...list(def, doc), secret: true })

export const routerSection = {
  host: str('127.0.0.1', 'Address of the router (ClickHouse HTTP protocol and JSON API on one port).'),
  port: int(8124, 'Port of the router; 0 picks a free one. ClickHouse clients point here instead of at :8123.', { min: 0, max: 65535 }),
  database: str('', "Database the tenants read; empty means the store's (store.clickhouse.database or store.chdb.database)."),
  replicas: list(
    [],
    'Replicas as tier=url (tier: hot, warm or cold), e.g. hot=http://ch-1:8123. Empty: the configured store is the only replica, for every tier.',
  ),
  replicaUsername: str('default', 'User the router connects to replicas as (per-tenant users in router.auth.tenantsFile override it).'),
  replicaPassword: secret('', 'Password of router.replicaUsername.'),
  replicaTimeoutMs: int(60000, 'Connect + response-header timeout of one replica request (queries are bounded by router.limits.maxExecutionS).', {
    min: 100,
  }),
  healthIntervalMs: int(2000, 'How often every replica is pinged (GET /ping); a failed ping takes it out of rotation until one succeeds.', {
    min: 100,
  }),
  auth: {
    mode: oneOf(
      ['auto', 'keys', 'open'] as const,
      'auto',
      'keys: every request needs an API key; open: requests without a key read router.auth.openTenant; auto: open when no key is configured, keys otherwise.',
    ),
    keys: secretList([], 'API keys → tenants, each "KEY=TENANT" (as gateway.apiKeys). Sent in router.auth.apiKeyHeader, as a Bearer token, or as the ClickHouse password.'),
    apiKeyHeader: str('x-api-key', 'Header carrying the API key (Authorization: Bearer KEY and ClickHouse credentials are accepted too).'),
    tenantsFile: str('', 'YAML/JSON file of tenants with keys, limits and per-tenant replica credentials (see docs/router.md).'),
    openTenant: str('default', 'Tenant of requests without a key in open mode.'),
  },
  limits: {
    maxConcurrent: int(8, 'Queries of one tenant running on replicas at once; more get 429 with Retry-After.', { min: 1 }),
    queriesPerMinute: int(1200, 'Requests of one tenant per minute (token bucket, cache hits included); more get 429 with Retry-After.', {
      min: 1,
    }),
    maxExecutionS: int(30, 'A query running longer is killed on the replica (max_execution_time, then KILL QUERY) and the caller told why.', {
      min: 1,
    }),
    killGraceMs: int(2000, 'After maxExecutionS plus this, a replica that has not stopped the query itself gets KILL QUERY and the caller a 504.', {
      min: 0,
    }),
    maxResultRows: int(0, 'max_result_rows sent to replicas (0: no limit).', { min: 0 }),
    maxResultBytes: int(0, 'max_result_bytes sent to replicas (0: no limit).', { min: 0 }),
  },
  cache: {
    enabled: bool(true, 'Cache results of queries over ranges that ended more than a minute ago.'),
    l1TtlS: int(30, 'Longest time a result stays in the in-process L1 cache (seconds).', { min: 1 }),
    l1MaxEntries: int(10000, 'Most results kept in L1.', { min: 1 }),
    l1MaxBytes: int(64 * 1024 * 1024, 'Most bytes kept in L1.', { min: 1024 }),
    maxEntryBytes: int(4 * 1024 * 1024, 'Larger results are streamed through and not cached.', { min: 1024 }),
    l2: bool(true, 'Use the shared cache (cache.backend=redis) as L2. With cache.backend=memory there is no L2.'),
    l2WaitMs: int(5, 'How long an L1 miss waits for L2 before the query goes to a replica (a slow Redis must not slow misses down).', { min: 1 }),
  },
  systemTables: list(
    ['one', 'numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'databases', 'tables', 'columns', 'functions', 'table_functions', 'formats',
      'data_type_families', 'time_zones', 'table_engines', 'collations', 'aggregate_function_combinators', 'build_options'],
    'System tables tenants may read (metadata without rows of other tenants). processes, query_log, parts, users, … stay closed.',
  ),
} satisfies Section
