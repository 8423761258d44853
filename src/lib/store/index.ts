/**
 * The telemetry store: pick a backend by configuration. The chDB backend is imported only when chosen, so a
 * CLI run against a ClickHouse server (or one that never touches the store) does not load the embedded engine.
 */
import { UsageError } from '../errors.js'
import type { ChdbStoreOptions } from './chdb.js'
import type { ClickHouseStoreOptions } from './clickhouse.js'
import type { Store } from './types.js'

export type { InsertOptions, QueryOptions, Row, ServerInfo, Store, StoreFeatures } from './types.js'
export type { ChdbStoreOptions } from './chdb.js'
export type { ClickHouseStoreOptions } from './clickhouse.js'
export { applySchema, buildCreateTable, MIGRATIONS, TABLES, DEDUP_WINDOW, type ApplySchemaOptions } from './schema.js'
export { tableSpec, rowDefaults, type TableSpec, type ColumnSpec } from './tables.js'
export { featuresFor, parseServerVersion, FEATURE_SINCE } from './version.js'

export interface StoreConfig {
  backend: 'chdb' | 'clickhouse'
  chdb?: ChdbStoreOptions
  clickhouse?: ClickHouseStoreOptions
}

/** Builds the configured store. Nothing connects yet: the first call does (ping() reports reachability). */
export async function createStore(cfg: StoreConfig): Promise<Store> {
  if (cfg.backend === 'clickhouse') {
    if (!cfg.clickhouse?.url) throw new UsageError('store.clickhouse.url is required when store.backend is clickhouse')
    const { ClickHouseStore } = await import('./clickhouse.js')
    return new ClickHouseStore(cfg.clickhouse)
  }
  if (cfg.backend === 'chdb') {
    if (!cfg.chdb?.path) throw new UsageError('store.chdb.path is required when store.backend is chdb')
    const { ChdbStore } = await import('./chdb.js')
    return new ChdbStore(cfg.chdb)
  }
  throw new UsageError(`unknown store backend ${JSON.stringify((cfg as { backend: unknown }).backend)}: use chdb or clickhouse`)
}
