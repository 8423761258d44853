/**
 * What every long-lived agent (gateway, consumer, detector, rca, router) implements, so that one host can run
 * any subset of them: one per process under systemd/K8s (`aiops agent NAME`), or all in one (`aiops up`).
 */
import type { Registry } from 'prom-client'
import type { AiopsConfig } from '../lib/config/index.js'
import type { Bus, HealthResult } from '../lib/bus/types.js'
import type { Store } from '../lib/store/types.js'
import type { Cache } from '../lib/cache/types.js'
import type { Logger } from '../lib/telemetry/index.js'

export interface AgentContext {
  config: AiopsConfig
  bus: Bus
  store: Store
  cache: Cache
  registry: Registry
  logger: Logger
}

export interface Agent {
  readonly name: string
  /** Starts intake. Resolves once the agent is serving. */
  start(ctx: AgentContext): Promise<void>
  /** Stop intake → flush what was accepted → commit → release. Safe to call twice. */
  stop(): Promise<void>
  /** Extra readiness checks this agent contributes to /readyz (e.g. its own listener). */
  checks?(): Record<string, () => Promise<HealthResult>>
  /** What the agent runs without right now (fallbacks in use), merged into /readyz's `degraded` map. */
  degraded?(): Record<string, unknown>
}
