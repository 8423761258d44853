/**
 * One prom-client Registry per agent (never the global default registry), so tests and several agents in one
 * process (`aiops up`) do not collide on metric names.
 */
import { Registry, collectDefaultMetrics } from 'prom-client'

export interface MetricsRegistryOptions {
  /** Process metrics (CPU, memory, event-loop lag, GC). Default true; tests usually turn them off. */
  defaultMetrics?: boolean
  /** Prefix of the default process metrics. Default `aiops_`. Our own metrics carry `aiops_` in their names. */
  prefix?: string
  /** Labels added to every series, e.g. `{agent: 'gateway'}`. */
  labels?: Record<string, string>
}

export function createMetricsRegistry(opts: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry()
  if (opts.labels) registry.setDefaultLabels(opts.labels)
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: opts.prefix ?? 'aiops_' })
  return registry
}
