/** Telemetry for every agent: JSON logs, a Prometheus registry, /healthz /readyz /metrics, signal handling. */
export {
  type EmitLevel,
  LOG_LEVELS,
  type LogFields,
  type LogLevel,
  type Logger,
  type LoggerOptions,
  createLogger,
  serializeError,
  silentLogger,
} from './logger.js'
export { type MetricsRegistryOptions, createMetricsRegistry } from './metrics.js'
export {
  type CheckResult,
  type HealthCheck,
  type ReadyReport,
  type TelemetryServer,
  type TelemetryServerOptions,
  startTelemetryServer,
} from './health-server.js'
export { type RunUntilSignalOptions, Shutdown, type SignalSource, runUntilSignal } from './lifecycle.js'
