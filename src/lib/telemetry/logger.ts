/**
 * Structured logs: one JSON object per line, on stderr by default so stdout stays clean for command output
 * (`--json` results, tables). Repeated events such as drops are logged once and counted (the OTel
 * BatchSpanProcessor habit) so an overload cannot turn into a log flood.
 */
import { redact } from '../config/redact.js'
import type { Writable } from 'node:stream'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type EmitLevel = Exclude<LogLevel, 'silent'>
export type LogFields = Record<string, unknown>

const severity: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: Infinity }

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']

export interface Logger {
  readonly level: LogLevel
  isLevelEnabled(level: EmitLevel): boolean
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** A logger whose every line carries `fields` too (e.g. `{agent: 'gateway'}`). Shares the once-counters. */
  child(fields: LogFields): Logger
  /**
   * Logs the first occurrence of `key` and only counts the later ones. Returns how many times `key` was seen,
   * this one included. Counters are shared by a logger and all its children.
   */
  logOnce(key: string, level: EmitLevel, msg: string, fields?: LogFields): number
  /** How many times each logOnce key was seen (to report in /readyz or a shutdown summary). */
  onceCounts(): Record<string, number>
}

export interface LoggerOptions {
  level?: LogLevel
  name?: string
  stream?: Writable
  /** Last chance to drop or mask secrets in the record before it is written. */
  redact?: (obj: Record<string, unknown>) => Record<string, unknown>
  /** Injected time for the `ts` field (tests). */
  now?: () => number
}

/** Errors lose everything but `message` under JSON.stringify; keep the fields an operator needs. */
export function serializeError(err: Error, withStack: boolean, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message }
  const e = err as Error & { code?: unknown; retriable?: unknown; details?: unknown }
  if (e.code !== undefined) out.code = e.code
  if (typeof e.retriable === 'boolean') out.retriable = e.retriable
  if (e.details && typeof e.details === 'object' && Object.keys(e.details).length > 0) out.details = e.details
  if (withStack && err.stack) out.stack = err.stack
  if (err.cause !== undefined && depth < 3) {
    out.cause = err.cause instanceof Error ? serializeError(err.cause, withStack, depth + 1) : String(err.cause)
  }
  return out
}

/** JSON.stringify that survives bigint (Kafka offsets, ns timestamps) and cycles instead of throwing. */
function safeStringify(obj: unknown): string {
  const seen = new WeakSet<object>()
  return JSON.stringify(obj, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString()
    if (value && typeof value === 'object') {
      if (seen.has(value)) return '[Circular]'
      seen.add(value)
    }
    return value
  })
}

interface Shared {
  level: LogLevel
  name?: string
  stream: Writable
  redact?: LoggerOptions['redact']
  now: () => number
  once: Map<string, number>
}

const CORE_KEYS = new Set(['ts', 'level', 'name', 'msg'])

class JsonLogger implements Logger {
  constructor(
    private readonly shared: Shared,
    private readonly bindings: LogFields,
  ) {}

  get level(): LogLevel {
    return this.shared.level
  }

  isLevelEnabled(level: EmitLevel): boolean {
    return severity[level] >= severity[this.shared.level]
  }

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields)
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields)
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields)
  }
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields)
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.shared, { ...this.bindings, ...fields })
  }

  logOnce(key: string, level: EmitLevel, msg: string, fields?: LogFields): number {
    const count = (this.shared.once.get(key) ?? 0) + 1
    this.shared.once.set(key, count)
    if (count === 1) this.write(level, msg, { ...fields, once: key })
    return count
  }

  onceCounts(): Record<string, number> {
    return Object.fromEntries(this.shared.once)
  }

  private write(level: EmitLevel, msg: string, fields?: LogFields): void {
    if (!this.isLevelEnabled(level)) return
    const withStack = this.isLevelEnabled('debug')
    let record: Record<string, unknown> = {
      ts: new Date(this.shared.now()).toISOString(),
      level,
      ...(this.shared.name ? { name: this.shared.name } : {}),
      msg,
    }
    for (const [k, v] of Object.entries({ ...this.bindings, ...fields })) {
      // Core keys are never overwritten: a field called `msg` must not hide the real message.
      const key = CORE_KEYS.has(k) ? `field_${k}` : k
      record[key] = v instanceof Error ? serializeError(v, withStack) : v
    }
    if (this.shared.redact) record = this.shared.redact(record)
    let line: string
    try {
      line = safeStringify(record)
    } catch (err) {
      line = safeStringify({ ts: record.ts, level, msg, logError: String(err) })
    }
    try {
      this.shared.stream.write(`${line}\n`)
    } catch {
      // A closed stderr (EPIPE) must not crash the agent: logging is best effort.
    }
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return new JsonLogger(
    {
      level: opts.level ?? 'info',
      name: opts.name,
      stream: opts.stream ?? process.stderr,
      // Secrets (passwords, API keys, URL credentials) never reach a log line unless a caller opts out with `redact: (o) => o`.
      redact: opts.redact ?? redact,
      now: opts.now ?? Date.now,
      once: new Map(),
    },
    {},
  )
}

/** A logger that writes nothing: the default where a logger is optional. */
export const silentLogger: Logger = createLogger({ level: 'silent' })
