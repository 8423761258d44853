/**
 * The agent host: opens the configured backends once, applies the store schema, serves /healthz, /readyz
 * and /metrics, starts the agents, and stops them in reverse order (stop intake → flush → close).
 * `aiops up` hosts every agent in one process; `aiops agent NAME` hosts one.
 */
import type { Registry } from 'prom-client'
import type { ResolvedConfig } from '../lib/config/index.js'
import { redact } from '../lib/config/index.js'
import { openBackends, type Backends } from '../lib/backends.js'
import type { HealthResult } from '../lib/bus/types.js'
import { applySchema } from '../lib/store/index.js'
import { breakersOf, retry, retryPolicies } from '../lib/resilience/index.js'
import { createMetricsRegistry, startTelemetryServer, type Logger } from '../lib/telemetry/index.js'
import type { Agent } from './types.js'

export interface HostOptions {
  resolved: ResolvedConfig
  agents: Agent[]
  logger: Logger
  /** Create the store schema on start (default true); `aiops schema apply` does it on its own otherwise. */
  applySchema?: boolean
}

export interface RunningHost {
  telemetryUrl: string
  backends: Backends
  registry: Registry
  agents: string[]
  /** Reads /readyz's current report without HTTP (used by `up --json` and tests). */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>
  stop(): Promise<void>
}

export async function startHost(opts: HostOptions): Promise<RunningHost> {
  const { config } = opts.resolved
  const log = opts.logger
  log.info('starting', { agents: opts.agents.map((a) => a.name), config: redact(config), configFile: opts.resolved.file ?? null })

  const registry = createMetricsRegistry({ defaultMetrics: true })
  const backends = await openBackends(config, registry)
  const closers: Array<() => Promise<void>> = [() => backends.cache.close(), () => backends.store.close(), () => backends.bus.close()]
  const started: Agent[] = []
  let telemetry: Awaited<ReturnType<typeof startTelemetryServer>> | undefined

  const stop = once(async () => {
    log.info('stopping', { agents: started.map((a) => a.name) })
    // Agents first, newest first: intake stops before the backends they flush into are closed.
    for (const agent of [...started].reverse()) await settle(log, `agent ${agent.name}`, () => agent.stop())
    for (const close of closers) await settle(log, 'backend', close)
    if (telemetry) await settle(log, 'telemetry server', () => telemetry!.close())
    log.info('stopped')
  })

  try {
    if (opts.applySchema !== false) {
      // The store may still be starting (a ClickHouse pod after ours): retry like any database write.
      const result = await retry(() => applySchema(backends.store, { database: backends.database }), retryPolicies.databaseWrite)
      log.info('schema ready', { database: backends.database, applied: result.applied, version: result.version.version })
    }
    const checks: Record<string, () => Promise<HealthResult>> = {
      [busCheckName(backends)]: () => backends.bus.ping(),
      [backends.store.kind]: () => backends.store.ping(),
      // The cache is an optimisation every agent can run without (RedisCache fails fast behind its breaker), so a
      // down Redis is reported but does not make the agent unready: failing /readyz would take every pod out of
      // service and turn a cache outage into a full one.
      [backends.cache.kind === 'redis' ? 'redis' : 'cache']: async () => {
        const r = await backends.cache.ping()
        return r.ok ? r : ({ ok: true, detail: `degraded (served without cache): ${r.error}` } as HealthResult)
      },
    }
    const ctx = { config, ...backends, registry, logger: log }
    for (const agent of opts.agents) {
      await agent.start({ ...ctx, logger: log.child({ agent: agent.name }) })
      started.push(agent)
      Object.assign(checks, agent.checks?.() ?? {})
    }
    telemetry = await startTelemetryServer({
      host: config.telemetry.host,
      port: config.telemetry.port,
      registry,
      checks,
      probeIntervalMs: config.telemetry.probeIntervalMs,
      // Breaker states in /readyz: a pod serving around an open breaker is ready but degraded, and says so.
      degraded: () => ({
        ...Object.fromEntries(breakersOf(registry).map((b) => [`breaker:${b.name}`, b.state])),
        ...Object.assign({}, ...started.map((a) => a.degraded?.() ?? {})),
      }),
      logger: log,
    })
    log.info('serving', { telemetry: telemetry.url, agents: started.map((a) => a.name) })
  } catch (err) {
    await stop()
    throw err
  }

  const t = telemetry
  return {
    telemetryUrl: t.url,
    backends,
    registry,
    agents: started.map((a) => a.name),
    ready: async () => {
      const report = await t.probeNow()
      return { ok: report.ok, checks: report.checks }
    },
    stop,
  }
}

function busCheckName(b: Backends): string {
  return b.bus.kind === 'kafka' ? 'kafka' : 'bus'
}

/** Runs a shutdown step, logging instead of throwing, so one failing closer does not skip the others. */
async function settle(log: Logger, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    log.error(`closing ${what} failed`, { err })
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined
  return () => (p ??= fn())
}
