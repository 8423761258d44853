/**
 * `aiops agent router`: the query router. Dashboards, the API and AI agents read through it; it serves the
 * ClickHouse HTTP protocol (default 127.0.0.1:8124) and a JSON API, confines every tenant to its own rows, caches
 * results in two layers, and routes to tiered replicas. docs/router.md explains the design.
 */
import type { HealthResult } from '../../lib/bus/types.js'
import type { ConsumerHandle } from '../../lib/bus/types.js'
import { buildPolicy } from '../../lib/routing/policy.js'
import { systemClock } from '../../lib/resilience/clock.js'
import type { Agent, AgentContext } from '../types.js'
import { ResultCache } from './cache.js'
import { ResultL1 } from './l1.js'
import { QueryExecutor } from './executor.js'
import { startInvalidation } from './invalidation.js'
import { createRouterMetrics, RequestTallies } from './metrics.js'
import { buildReplicas, buildTenants, routerDatabase } from './options.js'
import { ReplicaPool } from './replicas/pool.js'
import { startRouterServer, type RouterServer } from './server.js'
import { TenantLimiter } from './tenants.js'

export class RouterAgent implements Agent {
  readonly name = 'router'
  private server: RouterServer | undefined
  private pool: ReplicaPool | undefined
  private l1: ResultL1 | undefined
  private invalidation: ConsumerHandle | undefined
  private readonly upkeep = new AbortController()
  private upkeepLoop: Promise<void> | undefined
  private stopping: Promise<void> | undefined

  /** The router's base URL once started (http://host:port). */
  get url(): string {
    if (!this.server) throw new Error('router not started')
    return this.server.url
  }

  async start(ctx: AgentContext): Promise<void> {
    const rc = ctx.config.router
    const log = ctx.logger
    const clock = systemClock
    const metrics = createRouterMetrics(ctx.registry)
    const policy = buildPolicy(routerDatabase(ctx.config), rc.systemTables)
    const { directory, mode } = await buildTenants(ctx.config)
    const pool = new ReplicaPool(buildReplicas(ctx.config, ctx.store), {
      registry: ctx.registry,
      metrics,
      logger: log,
      clock,
      healthIntervalMs: rc.healthIntervalMs,
    })
    this.pool = pool
    await pool.start()
    const l1 = new ResultL1({ maxEntries: rc.cache.l1MaxEntries, maxBytes: rc.cache.l1MaxBytes, clock })
    this.l1 = l1
    const l2 = rc.cache.l2 && ctx.cache.kind === 'redis' ? ctx.cache : undefined
    const cache = rc.cache.enabled ? new ResultCache({ l1, l2, l1TtlS: rc.cache.l1TtlS, l2WaitMs: rc.cache.l2WaitMs, metrics, logger: log, clock }) : undefined
    const executor = new QueryExecutor({
      policy,
      pool,
      cache,
      limiter: new TenantLimiter(clock),
      metrics,
      logger: log,
      clock,
      maxEntryBytes: rc.cache.maxEntryBytes,
      killGraceMs: rc.limits.killGraceMs,
    })
    const apiKeyHeader = rc.auth.apiKeyHeader.toLowerCase()
    const deps = { apiKeyHeader, executor, tenants: directory, policy, metrics, tallies: new RequestTallies(metrics), logger: log }
    if (cache) this.invalidation = await startInvalidation({ bus: ctx.bus, topic: ctx.config.bus.topics.control, cache, logger: log, clock })
    this.server = await startRouterServer({
      host: rc.host,
      port: rc.port,
      door: deps,
      api: { ...deps, clock },
      available: () => pool.available,
      logger: log,
    })
    this.upkeepLoop = (async () => {
      while (!this.upkeep.signal.aborted) {
        try {
          await clock.sleep(rc.healthIntervalMs, this.upkeep.signal)
        } catch {
          return
        }
        cache?.updateGauges()
        await cache?.retryPending().catch(() => {})
      }
    })()
    if (mode === 'open') log.warn('router in open mode: requests without an API key read tenant ' + rc.auth.openTenant, { openTenant: rc.auth.openTenant })
    log.info('router listening', {
      url: this.server.url,
      database: policy.database,
      auth: mode,
      tenants: directory.tenantIds,
      replicas: pool.report().map((r) => `${r.name} (${r.tiers})`),
      cache: cache ? { l1: true, l2: l2 ? 'redis' : 'none' } : 'disabled',
    })
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.upkeep.abort()
      await this.upkeepLoop
      await this.server?.close() // stop intake; requests in flight finish
      await this.invalidation?.stop()
      await this.pool?.close()
      this.l1?.clear()
    })()
    return this.stopping
  }

  checks(): Record<string, () => Promise<HealthResult>> {
    return {
      router: async () => {
        const pool = this.pool
        if (!pool || !this.server) return { ok: false, error: 'router not started' }
        const replicas = pool.report()
        const detail = replicas.map((r) => `${r.name} [${r.tiers}]: ${r.state}`).join('; ')
        // Ready while any replica can serve: a tier outage falls back to the others (slower, not down).
        const result = pool.available > 0 ? { ok: true as const, detail } : { ok: false as const, error: `no replica available: ${detail}` }
        return result as HealthResult
      },
    }
  }
}
