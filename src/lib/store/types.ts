/**
 * The telemetry store. ClickHouse server in production (@clickhouse/client), embedded ClickHouse (chDB) for
 * `aiops up`. Both honour the same contract (test/integration/store.contract.test.ts runs against each).
 */
import type { HealthResult } from '../bus/types.js'

export type Row = Record<string, unknown>

export interface InsertOptions {
  /**
   * Idempotency token for this block of rows: inserting the same token twice stores the rows once.
   * Consumers derive it from topic/partition/offset range so a replay after a crash makes no duplicates.
   */
  dedupToken?: string
  signal?: AbortSignal
}

export interface QueryOptions {
  /** Named parameters, referenced in SQL as {name:Type} (ClickHouse query parameters). */
  params?: Record<string, unknown>
  signal?: AbortSignal
}

export interface ServerInfo {
  /** e.g. "18.16.1" or "26.7.3.1" */
  version: string
  major: number
  minor: number
  /** Features the schema layer chooses by, detected from the version. */
  features: StoreFeatures
}

export interface StoreFeatures {
  dateTime64: boolean
  ttl: boolean
  lowCardinality: boolean
  insertDeduplicationToken: boolean
}

export interface Store {
  readonly kind: 'clickhouse' | 'chdb'
  insert(table: string, rows: Row[], opts?: InsertOptions): Promise<void>
  query<T = Row>(sql: string, opts?: QueryOptions): Promise<T[]>
  /** DDL and other statements that return nothing. */
  exec(sql: string, opts?: QueryOptions): Promise<void>
  serverInfo(): Promise<ServerInfo>
  ping(): Promise<HealthResult>
  close(): Promise<void>
}
