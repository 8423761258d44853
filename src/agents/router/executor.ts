/**
 * One query through the router, whichever door it came in by: admission (queries per minute) → guard (tenant
 * isolation rewrite) → time range → cache (L1, L2, one fill per key) → replica (tier, least connections, one retry
 * elsewhere) under the tenant's concurrency cap and execution-time limit.
 *
 * The execution-time limit is enforced twice: `max_execution_time` makes the replica stop the query itself; if it
 * has not answered shortly after the limit (a query stuck where ClickHouse does not check the time), the router
 * sends KILL QUERY by the query's id and tells the caller why. A caller that goes away mid-query gets its query
 * killed too, so abandoned dashboards do not keep replicas busy.
 */
import { ttlForRange, cacheKey, type KeyParts } from '../../lib/routing/cache-key.js'
import { QueryRefusedError } from '../../lib/routing/errors.js'
import { guardQuery, type GuardedQuery } from '../../lib/routing/guard.js'
import type { RouterPolicy } from '../../lib/routing/policy.js'
import { chooseTier } from '../../lib/routing/tiers.js'
import { queryTimeRange, type TimeRange } from '../../lib/routing/time-range.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/index.js'
import type { CachedResult, ResultCache } from './cache.js'
import { GuardMemo, rangeMoves, type Guarded } from './guard-memo.js'
import type { RouterMetrics } from './metrics.js'
import type { ReplicaPool } from './replicas/pool.js'
import { forwardedSettings, isEmpty, newQueryId, settingLimits } from './request-inputs.js'
import { endsWithException, type ReplicaResponse } from './replicas/types.js'
import type { Tenant, TenantLimiter } from './tenants.js'

export type CacheResult = 'HIT-L1' | 'HIT-L2' | 'MISS'

export interface QueryRequest {
  tenant: Tenant
  sql: string
  /** default_format from the URL; a FORMAT clause in the query wins. */
  format: string | undefined
  /** Settings from the URL (checked here). */
  settings: Record<string, string>
  params: Record<string, string>
  queryId: string | undefined
  /**
   * Calls `fn` if the caller goes away before the answer is sent; returns the function that stops watching. Only
   * queries sent to a replica watch (a cache hit never needs to), so no per-request AbortController is made.
   */
  watchCaller: (fn: () => void) => () => void
  /** The range of a query built by the JSON API (it knows it exactly). */
  range?: TimeRange
}

export interface QueryResponse {
  status: number
  /** Response headers from the replica or the cache entry (shared with the cache: read-only). */
  headers: Record<string, string>
  /** `headers` as a flat list, when the cache entry has one built. */
  headerList: readonly string[] | undefined
  /** The client's query_id, or one the router made up; sent back as X-ClickHouse-Query-Id. */
  queryId: string
  head: Buffer
  rest: AsyncIterable<Buffer> | undefined
  release(): void
  cache: CacheResult
  /** Why the result was not cacheable, when it was not. */
  uncacheable: string | undefined
  replica: string | undefined
}

export interface ExecutorOptions {
  policy: RouterPolicy
  pool: ReplicaPool
  cache: ResultCache | undefined
  limiter: TenantLimiter
  metrics: RouterMetrics
  logger: Logger
  clock: Clock
  /** Largest result cached; also how much of a response is held back before it streams (see ReplicaResponse). */
  maxEntryBytes: number
  /** Time past max_execution_time before the router kills the query itself. */
  killGraceMs?: number
}

const CACHED_HEADERS = ['content-type', 'x-clickhouse-format', 'x-clickhouse-timezone']

export class QueryExecutor {
  private readonly memo = new GuardMemo()

  constructor(private readonly o: ExecutorOptions) {}

  async run(q: QueryRequest): Promise<QueryResponse> {
    const { tenant } = q
    try {
      this.o.limiter.admit(tenant)
      const memo = this.guard(tenant, q.sql)
      const g = memo.g
      const forwarded = forwardedSettings(q.settings, tenant)
      const format = g.format ?? q.format ?? 'TabSeparated'
      const now = this.o.clock.now()
      const range = q.range ?? this.rangeOf(memo, now, q.params)
      const queryId = q.queryId ?? newQueryId()
      const cache = this.o.cache
      const ttl = range.readsData ? ttlForRange(range.toMs, now) : undefined
      if (!cache || ttl === undefined) {
        const r = await this.execute(q, g, format, forwarded, range, queryId)
        r.uncacheable = !cache ? 'cache disabled' : !range.readsData ? 'reads no pipeline table' : 'range open or ending within the last minute'
        return r
      }
      const key = this.keyOf(memo, { tenant: tenant.id, sql: g.sql, format, fromMs: range.fromMs, toMs: range.toMs as number, settings: forwarded, params: q.params })
      const local = cache.getL1(key, now)
      if (local) return fromEntry(local, 'HIT-L1', queryId)
      const shared = await cache.getL2(key, now)
      if (shared) return fromEntry(shared, 'HIT-L2', queryId)
      const generation = cache.generation(tenant.id)
      const unchanged = (): boolean => cache.generation(tenant.id) === generation
      let own: QueryResponse | undefined
      const { entry, leader } = await cache.single(key, async () => {
        own = await this.execute(q, g, format, forwarded, range, queryId)
        if (own.status !== 200 || own.rest !== undefined || endsWithException(own.head)) return undefined
        const e: CachedResult = { headers: pick(own.headers, CACHED_HEADERS), body: own.head, expiresAtMs: now + ttl * 1000, replica: own.replica ?? '' }
        // Late data for this tenant arrived while the query ran: the result may predate it, so do not keep it.
        // Not awaited: L2 is written after this response is on its way.
        if (unchanged()) void cache.set(key, e, ttl, unchanged)
        return e
      })
      if (leader && own) return own
      if (entry) return fromEntry(entry, 'MISS', queryId)
      return await this.execute(q, g, format, forwarded, range, queryId)
    } catch (err) {
      if (err instanceof QueryRefusedError) this.o.metrics.refused.inc({ tenant: tenant.id, reason: err.errorName })
      throw err
    }
  }

  private guard(tenant: Tenant, sql: string): Guarded {
    return this.memo.get(tenant.id, sql, () => {
      const g = guardQuery(sql, { tenant: tenant.id, policy: this.o.policy, limits: settingLimits(tenant) })
      if (rangeMoves(g)) return { g, moving: true, range: undefined }
      // A range that does not move is the same at any time: resolve it now and drop the tokens, which are most of
      // what an entry would hold (a stream of one-off queries would otherwise keep megabytes of them alive).
      const range = queryTimeRange(g, this.o.policy, this.o.clock.now(), {})
      return { g: { ...g, tokens: [], scopes: [] }, moving: false, range }
    })
  }

  /** The cache key; for a query whose range does not move, remembered per format and settings (hashing is the cost). */
  private keyOf(m: Guarded, parts: KeyParts): string {
    if (m.moving || !isEmpty(parts.params)) return cacheKey(parts)
    const sig = isEmpty(parts.settings) ? parts.format : `${parts.format}\0${JSON.stringify(parts.settings)}`
    let k = m.keys?.get(sig)
    if (k === undefined) {
      k = cacheKey(parts)
      if ((m.keys ??= new Map()).size < 16) m.keys.set(sig, k)
    }
    return k
  }

  private rangeOf(m: Guarded, now: number, params: Record<string, string>): TimeRange {
    return m.range ?? queryTimeRange(m.g, this.o.policy, now, params)
  }

  private async execute(
    q: QueryRequest,
    g: GuardedQuery,
    format: string,
    forwarded: Record<string, string>,
    range: TimeRange,
    queryId: string,
  ): Promise<QueryResponse> {
    const { tenant } = q
    const free = this.o.limiter.acquire(tenant)
    const maxS = Math.min(tenant.limits.maxExecutionS, Number(forwarded.max_execution_time) || Infinity)
    // readonly first: ClickHouse applies URL settings in order. A per-tenant replica user's profile sets it itself
    // (and refuses a change of it), see docs/router.md.
    const settings: Record<string, string> = {
      ...(tenant.replicaAuth ? {} : { readonly: '2' }),
      ...forwarded,
      max_execution_time: String(maxS),
      enable_optimize_predicate_expression: '1',
      ...(tenant.limits.maxResultRows > 0 ? { max_result_rows: String(tenant.limits.maxResultRows) } : {}),
      ...(tenant.limits.maxResultBytes > 0 ? { max_result_bytes: String(tenant.limits.maxResultBytes) } : {}),
    }
    const ctrl = new AbortController()
    const tried: string[] = []
    const replicaQueryId = `aiops-${tenant.id}-${queryId}`
    let timedOut = false
    let finished = false
    const kill = (): void => {
      for (const name of tried) {
        this.o.metrics.killed.inc({ replica: name })
        void this.o.pool.kill(name, replicaQueryId)
      }
    }
    const onCallerGone = (): void => {
      if (finished) return
      ctrl.abort(new Error('the caller closed the connection'))
      kill()
    }
    let unwatch = (): void => {}
    const timer = setTimeout(() => {
      timedOut = true
      ctrl.abort(new Error('execution time limit'))
      kill()
    }, maxS * 1000 + (this.o.killGraceMs ?? 2000))
    unwatch = q.watchCaller(onCallerGone)
    const finish = (): void => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      unwatch()
      free()
    }
    let r: ReplicaResponse
    let replica: string
    try {
      const out = await this.o.pool.run(
        {
          kind: g.kind,
          sql: g.sql,
          format,
          database: this.o.policy.database,
          queryId: replicaQueryId,
          settings,
          params: q.params,
          ...(tenant.replicaAuth ? { auth: tenant.replicaAuth } : {}),
          bufferBytes: this.o.maxEntryBytes,
          signal: ctrl.signal,
          tried,
        },
        chooseTier(range, this.o.clock.now()),
      )
      r = out.response
      replica = out.replica
    } catch (err) {
      finish()
      if (timedOut) throw timeoutError(tenant, maxS, tried)
      throw err
    }
    if (r.complete) finish()
    // 18.16 does not send X-ClickHouse-Format; clients that read it get it from the router either way.
    const headers = { 'x-clickhouse-format': format, ...r.headers }
    const rest = r.rest && wrapRest(r.rest, () => (timedOut ? timeoutError(tenant, maxS, tried) : undefined), finish)
    return {
      status: r.status,
      headers,
      headerList: undefined,
      queryId,
      head: r.head,
      rest,
      release: () => (r.release(), finish()),
      cache: 'MISS',
      uncacheable: undefined,
      replica,
    }
  }
}

function timeoutError(t: Tenant, maxS: number, tried: string[]): QueryRefusedError {
  return new QueryRefusedError(
    `the query ran longer than tenant ${t.id}'s limit of ${maxS}s (router.limits.maxExecutionS) and was killed on ${tried.join(', ') || 'the replica'}`,
    'TIMEOUT_EXCEEDED',
    { tenant: t.id, limitS: maxS },
  )
}

async function* wrapRest(rest: AsyncIterable<Buffer>, timedOut: () => Error | undefined, finish: () => void): AsyncIterable<Buffer> {
  try {
    for await (const chunk of rest) yield chunk
  } catch (err) {
    throw timedOut() ?? err
  } finally {
    finish()
  }
}

const noop = (): void => {}

function fromEntry(e: CachedResult, cache: CacheResult, queryId: string): QueryResponse {
  return { status: 200, headers: e.headers, headerList: e.headerList, queryId, head: e.body, rest: undefined, release: noop, cache, uncacheable: undefined, replica: e.replica }
}

function pick(h: Record<string, string>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const n of names) if (h[n] !== undefined) out[n] = h[n]
  return out
}
