/**
 * Why the router refused or failed a query, in the vocabulary of both of its doors: a ClickHouse error name and code
 * (so ClickHouse clients raise their usual typed error, e.g. @clickhouse/client's ClickHouseError with `type`), an
 * HTTP status, and for overload a Retry-After.
 */
import { AiopsError } from '../errors.js'

export const CLICKHOUSE_ERRORS = {
  SYNTAX_ERROR: { code: 62, status: 400 },
  BAD_ARGUMENTS: { code: 36, status: 400 },
  UNKNOWN_FORMAT: { code: 73, status: 400 },
  READONLY: { code: 164, status: 403 },
  ACCESS_DENIED: { code: 497, status: 403 },
  SETTING_CONSTRAINT_VIOLATION: { code: 452, status: 403 },
  AUTHENTICATION_FAILED: { code: 516, status: 401 },
  TOO_MANY_SIMULTANEOUS_QUERIES: { code: 202, status: 429 },
  QUOTA_EXCEEDED: { code: 201, status: 429 },
  TIMEOUT_EXCEEDED: { code: 159, status: 504 },
  ALL_CONNECTION_TRIES_FAILED: { code: 279, status: 503 },
  NOT_IMPLEMENTED: { code: 48, status: 501 },
  UNKNOWN_TABLE: { code: 60, status: 404 },
} as const

export type ClickHouseErrorName = keyof typeof CLICKHOUSE_ERRORS

export class QueryRefusedError extends AiopsError {
  readonly errorName: ClickHouseErrorName
  readonly clickhouseCode: number
  readonly httpStatus: number
  readonly retryAfterS: number | undefined

  constructor(message: string, errorName: ClickHouseErrorName, details: Record<string, unknown> = {}, retryAfterS?: number) {
    const e = CLICKHOUSE_ERRORS[errorName]
    super(message, {
      code: `AIOPS_ROUTER_${errorName}`,
      retriable: e.status === 429 || e.status === 503,
      details: { clickhouseError: errorName, ...details },
    })
    this.errorName = errorName
    this.clickhouseCode = e.code
    this.httpStatus = e.status
    this.retryAfterS = retryAfterS
  }

  /** The body ClickHouse would send (modern layout, which clients parse into code + type + message). */
  clickhouseBody(): string {
    return `Code: ${this.clickhouseCode}. DB::Exception: ${this.message}. (${this.errorName}) (version aiops-router)\n`
  }
}
