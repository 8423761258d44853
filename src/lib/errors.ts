/**
 * One error hierarchy for the whole toolkit (modelled on KafkaJSError): every failure that reaches a user
 * carries a stable `code`, the process `exitCode` it maps to, whether a retry could help (`retriable`), and
 * suggestions that name the flag, variable or config field to change. Only the CLI's top-level handler exits.
 */

/** The documented exit codes (k6 style). Keep README's table in sync. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  thresholdsBreached: 99,
  interrupted: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface AiopsErrorOptions {
  code?: string
  exitCode?: ExitCodeValue
  retriable?: boolean
  suggestions?: string[]
  cause?: unknown
  /** Structured detail for the JSON error envelope (field names, values). Never put secrets here. */
  details?: Record<string, unknown>
}

export class AiopsError extends Error {
  readonly code: string
  readonly exitCode: ExitCodeValue
  readonly retriable: boolean
  readonly suggestions: string[]
  readonly details: Record<string, unknown>

  constructor(message: string, opts: AiopsErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = new.target.name
    this.code = opts.code ?? 'AIOPS_FAILURE'
    this.exitCode = opts.exitCode ?? ExitCode.failure
    this.retriable = opts.retriable ?? false
    this.suggestions = opts.suggestions ?? []
    this.details = opts.details ?? {}
  }

  /** The JSON error envelope printed by `--json` runs. */
  toJSON(): ErrorEnvelope['error'] {
    return {
      code: this.code,
      message: this.message,
      exitCode: this.exitCode,
      retriable: this.retriable,
      suggestions: this.suggestions,
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
      ...(this.cause instanceof Error ? { cause: this.cause.message } : {}),
    }
  }
}

export interface ErrorEnvelope {
  ok: false
  error: {
    code: string
    message: string
    exitCode: number
    retriable: boolean
    suggestions: string[]
    details?: Record<string, unknown>
    cause?: string
  }
}

/** Bad flags, config or input: the user must change something; retrying the same call cannot help. */
export class UsageError extends AiopsError {
  constructor(message: string, opts: AiopsErrorOptions = {}) {
    super(message, { code: 'AIOPS_USAGE', ...opts, exitCode: ExitCode.usage, retriable: false })
  }
}

/** A configuration value failed validation. `field` is the dotted path, e.g. `bus.kafka.brokers`. */
export class ConfigError extends UsageError {
  readonly field: string
  constructor(field: string, message: string, opts: AiopsErrorOptions = {}) {
    super(message, { code: 'AIOPS_CONFIG_INVALID', ...opts, details: { field, ...opts.details } })
    this.field = field
  }
}

/** A backing service (Kafka, ClickHouse, Redis, a model) failed or is unreachable. Usually worth retrying. */
export class DependencyError extends AiopsError {
  readonly dependency: string
  constructor(dependency: string, message: string, opts: AiopsErrorOptions = {}) {
    super(message, { code: 'AIOPS_DEPENDENCY_FAILED', retriable: true, ...opts, details: { dependency, ...opts.details } })
    this.dependency = dependency
  }
}

/** A circuit breaker refused the call without trying: the dependency failed recently. */
export class CircuitOpenError extends DependencyError {
  constructor(dependency: string, retryAfterMs: number) {
    super(dependency, `circuit for ${dependency} is open; calls fail fast for another ${Math.ceil(retryAfterMs / 1000)}s`, {
      code: 'AIOPS_CIRCUIT_OPEN',
      retriable: true,
      details: { retryAfterMs },
      suggestions: [`check that ${dependency} is reachable (aiops config show lists its address)`],
    })
  }
}

/** An operation ran past its deadline. */
export class TimeoutError extends AiopsError {
  constructor(what: string, timeoutMs: number, opts: AiopsErrorOptions = {}) {
    super(`${what} timed out after ${timeoutMs}ms`, { code: 'AIOPS_TIMEOUT', retriable: true, ...opts })
  }
}

/** Overload: the caller should come back later (maps to HTTP 429/503 with Retry-After). */
export class BackpressureError extends AiopsError {
  readonly retryAfterS: number
  constructor(message: string, retryAfterS: number, opts: AiopsErrorOptions = {}) {
    super(message, { code: 'AIOPS_BACKPRESSURE', retriable: true, ...opts, details: { retryAfterS, ...opts.details } })
    this.retryAfterS = retryAfterS
  }
}

/** The process was asked to stop (SIGINT/SIGTERM) before the work finished. */
export class InterruptedError extends AiopsError {
  constructor(message = 'interrupted') {
    super(message, { code: 'AIOPS_INTERRUPTED', exitCode: ExitCode.interrupted })
  }
}

/**
 * Programming errors must never be retried: retrying a TypeError only hides a bug and multiplies load.
 */
export function isProgrammingError(err: unknown): boolean {
  return (
    err instanceof TypeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError ||
    err instanceof RangeError ||
    (err instanceof AiopsError && !err.retriable && err instanceof UsageError)
  )
}

/** Turns anything thrown into an AiopsError, keeping the original as `cause`. */
export function toAiopsError(err: unknown): AiopsError {
  if (err instanceof AiopsError) return err
  if (err instanceof Error) return new AiopsError(err.message, { cause: err })
  return new AiopsError(String(err))
}

/** Retriable if the error says so; unknown errors from I/O are presumed transient, programming errors never. */
export function isRetriable(err: unknown): boolean {
  if (isProgrammingError(err)) return false
  if (err instanceof AiopsError) return err.retriable
  if (err && typeof err === 'object' && 'retriable' in err) return Boolean((err as { retriable: unknown }).retriable)
  return true
}
