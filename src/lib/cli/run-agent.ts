/**
 * What every `aiops agent NAME` command does after parsing its flags: resolve config, host the agent (backends,
 * schema, /healthz /readyz /metrics), run until SIGTERM/SIGINT, drain, and report. `aiops up` does the same with
 * every agent at once.
 */
import type { Agent } from '../../agents/types.js'
import { startHost } from '../../agents/host.js'
import type { ResolvedConfig } from '../config/index.js'
import { createLogger, runUntilSignal } from '../telemetry/index.js'

export interface AgentRunResult {
  agents: string[]
  telemetryUrl: string
  backends: { bus: string; store: string; cache: string }
  uptimeS: number
  exitCode: number
}

export interface RunAgentsOptions {
  resolved: ResolvedConfig
  agents: Agent[]
  /** Logger name, e.g. `aiops-gateway`. */
  name: string
  /** Called once everything is serving (human banner on a TTY). */
  onReady?: (telemetryUrl: string) => void
}

export async function runAgents(opts: RunAgentsOptions): Promise<AgentRunResult> {
  const { config } = opts.resolved
  const logger = createLogger({ level: config.log.level, name: opts.name })
  const startedAt = Date.now()
  const host = await startHost({ resolved: opts.resolved, agents: opts.agents, logger })
  opts.onReady?.(host.telemetryUrl)
  const exitCode = await runUntilSignal({ logger, deadlineMs: config.shutdown.deadlineMs, stop: host.stop, exit: () => {} })
  return {
    agents: host.agents,
    telemetryUrl: host.telemetryUrl,
    backends: { bus: host.backends.bus.kind, store: host.backends.store.kind, cache: host.backends.cache.kind },
    uptimeS: Math.round((Date.now() - startedAt) / 1000),
    exitCode,
  }
}
