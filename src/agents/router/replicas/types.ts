/**
 * A replica is anything that can run a read query and answer in ClickHouse's HTTP terms: a ClickHouse server
 * (HTTP, the response streamed through untouched) or the in-process store of `aiops up` (rows formatted by the
 * router). The pool (pool.ts) picks one per query and retries an idempotent read once on another.
 */
import type { HealthResult } from '../../../lib/bus/types.js'
import type { StatementKind } from '../../../lib/routing/guard.js'
import type { Tier } from '../../../lib/routing/tiers.js'

export interface ReplicaRequest {
  kind: StatementKind
  /** The guarded query, without FORMAT. */
  sql: string
  format: string
  database: string
  queryId: string
  /** Settings for this query (the router's limits and read-only mode, and the tenant's allowed settings). */
  settings: Record<string, string>
  /** Query parameters ({name:Type} values), without the param_ prefix. */
  params: Record<string, string>
  /** Per-tenant replica user; the replica's own credentials otherwise. */
  auth?: { username: string; password: string }
  /** How much of the response is held back before it is committed to the caller (see ReplicaResponse.complete). */
  bufferBytes: number
  signal: AbortSignal
  /** The pool appends the name of every replica it sends the request to (for KILL QUERY on timeout). */
  tried?: string[]
}

export interface ReplicaResponse {
  status: number
  /** content-type, x-clickhouse-format, x-clickhouse-summary, x-clickhouse-exception-code, … (lower case). */
  headers: Record<string, string>
  /** The first bytes of the body: all of it when `complete`. */
  head: Buffer
  /**
   * The whole response arrived within bufferBytes. Only then may it be cached, and a failure before this point
   * may be retried on another replica (nothing has reached the caller yet).
   */
  complete: boolean
  /** The rest of the body when not complete; iterate it, or call release() to drop it. */
  rest: AsyncIterable<Buffer> | undefined
  /** Frees the connection (and the pool's in-flight slot). Safe to call twice; iterating `rest` to the end calls it. */
  release(): void
}

export interface Replica {
  readonly name: string
  /** Tiers this replica serves (the store-backed default replica serves all three). */
  readonly tiers: readonly Tier[]
  readonly kind: 'http' | 'embedded'
  execute(req: ReplicaRequest): Promise<ReplicaResponse>
  ping(): Promise<HealthResult>
  /** Stops a running query by id (KILL QUERY); resolves even when the query is already gone. */
  kill(queryId: string): Promise<void>
  close(): Promise<void>
}

/** A replica could not be reached or broke off before the response was complete: another replica may succeed. */
export class ReplicaUnavailableError extends Error {
  readonly retriable = true
  constructor(
    readonly replica: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`replica ${replica}: ${message}`, options)
    this.name = 'ReplicaUnavailableError'
  }
}

/** ClickHouse's error text at the end of a body: an exception after the first rows were already sent. */
const TRAILING_EXCEPTION = /Code: \d+[.,] (?:e\.displayText\(\) = )?DB::Exception/

export function endsWithException(body: Buffer): boolean {
  return TRAILING_EXCEPTION.test(body.subarray(Math.max(0, body.length - 2048)).toString('latin1'))
}
