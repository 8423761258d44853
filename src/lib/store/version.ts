/**
 * Server version → the features the schema and the insert path choose by. One table of thresholds, so the
 * DDL builder, the dedup logic and the README all agree on what an old server lacks.
 */
import type { ServerInfo, StoreFeatures } from './types.js'
import { DependencyError } from '../errors.js'

/** [major, minor]: the first release where the feature is usable the way this package uses it. */
export const FEATURE_SINCE = {
  // DateTime64 appeared in 20.1, but the schema derives its DateTime64(9) columns from integer nanoseconds with
  // fromUnixTimestamp64Nano, which came in 20.5; before that the exact conversion cannot be written.
  dateTime64: [20, 5],
  // Table TTL expressions (TTL ... + INTERVAL n DAY).
  ttl: [19, 6],
  // LowCardinality was behind allow_experimental_low_cardinality_type in 18.x; generally available in 19.0.
  lowCardinality: [19, 0],
  // The insert_deduplication_token setting; non-replicated MergeTree also needs the table setting
  // non_replicated_deduplication_window > 0 (which the schema sets on these servers).
  insertDeduplicationToken: [22, 2],
} as const satisfies Record<keyof StoreFeatures, readonly [number, number]>

/** HTTP query parameters ({name:Type} with param_name=...) came in 19.11; older servers get client-side binding. */
export const QUERY_PARAMS_SINCE = [19, 11] as const

export function atLeast(major: number, minor: number, since: readonly [number, number]): boolean {
  return major > since[0] || (major === since[0] && minor >= since[1])
}

export function featuresFor(major: number, minor: number): StoreFeatures {
  return {
    dateTime64: atLeast(major, minor, FEATURE_SINCE.dateTime64),
    ttl: atLeast(major, minor, FEATURE_SINCE.ttl),
    lowCardinality: atLeast(major, minor, FEATURE_SINCE.lowCardinality),
    insertDeduplicationToken: atLeast(major, minor, FEATURE_SINCE.insertDeduplicationToken),
  }
}

/**
 * Parses what `SELECT version()` returns ("18.16.1", "26.7.2.1", "24.3.5.47-lts", quoted or not).
 * A string that is not a version means we are not talking to ClickHouse: that is a dependency failure.
 */
export function parseServerVersion(raw: string, dependency = 'clickhouse'): ServerInfo {
  const version = raw.trim().replace(/^"|"$/g, '')
  const m = /^(\d+)\.(\d+)/.exec(version)
  if (!m) {
    throw new DependencyError(dependency, `unexpected server version string ${JSON.stringify(raw.slice(0, 80))}`, {
      retriable: false,
      suggestions: ['check that the store URL points at a ClickHouse server'],
    })
  }
  const major = Number(m[1])
  const minor = Number(m[2])
  return { version, major, minor, features: featuresFor(major, minor) }
}

export function supportsQueryParams(info: Pick<ServerInfo, 'major' | 'minor'>): boolean {
  return atLeast(info.major, info.minor, QUERY_PARAMS_SINCE)
}
