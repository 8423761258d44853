import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/lib/errors.js'
import { buildCreateTable, buildMigrationsTable, MIGRATIONS, TABLES, variantOf } from '../../src/lib/store/schema.js'
import { tableSpec } from '../../src/lib/store/tables.js'
import type { StoreFeatures } from '../../src/lib/store/types.js'
import { featuresFor, parseServerVersion, supportsQueryParams } from '../../src/lib/store/version.js'

const modern: StoreFeatures = featuresFor(26, 7)
const old: StoreFeatures = featuresFor(18, 16)
const spans = tableSpec('spans')!

describe('server version → features', () => {
  it('parses what SELECT version() returns on old and new servers', () => {
    expect(parseServerVersion('18.16.1')).toMatchObject({ version: '18.16.1', major: 18, minor: 16 })
    expect(parseServerVersion('"26.7.2.1"\n')).toMatchObject({ version: '26.7.2.1', major: 26, minor: 7 })
    expect(parseServerVersion('24.3.5.47-lts').major).toBe(24)
    expect(() => parseServerVersion('<html>')).toThrow(/unexpected server version/)
  })

  it('turns each feature on at its threshold', () => {
    expect(old).toEqual({ dateTime64: false, ttl: false, lowCardinality: false, insertDeduplicationToken: false })
    expect(modern).toEqual({ dateTime64: true, ttl: true, lowCardinality: true, insertDeduplicationToken: true })
    expect(featuresFor(19, 0).lowCardinality).toBe(true)
    expect(featuresFor(19, 5).ttl).toBe(false)
    expect(featuresFor(19, 6).ttl).toBe(true)
    expect(featuresFor(20, 4).dateTime64).toBe(false)
    expect(featuresFor(20, 5).dateTime64).toBe(true)
    expect(featuresFor(22, 1).insertDeduplicationToken).toBe(false)
    expect(featuresFor(22, 2).insertDeduplicationToken).toBe(true)
    expect(supportsQueryParams({ major: 19, minor: 10 })).toBe(false)
    expect(supportsQueryParams({ major: 19, minor: 11 })).toBe(true)
  })
})

describe('DDL per feature set', () => {
  it('modern servers: DateTime64(9) from the ns column, LowCardinality, TTL, dedup window, no stamp columns', () => {
    const ddl = buildCreateTable(spans, modern, { database: 'aiops' })
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS `aiops`.`spans`')
    expect(ddl).toContain("`start_time` DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(toInt64(`start_time_ns`), 'UTC')")
    expect(ddl).toContain('`service` LowCardinality(String)')
    expect(ddl).toContain('`start_time_ns` UInt64')
    expect(ddl).toContain('`sample_weight` Float64 DEFAULT 1')
    expect(ddl).toContain('PARTITION BY toDate(`start_time`)')
    expect(ddl).toContain('ORDER BY (tenant_id, service, toStartOfHour(`start_time`), trace_id)')
    expect(ddl).toContain('TTL toDateTime(`start_time`) + INTERVAL 7 DAY')
    expect(ddl).toContain('SETTINGS non_replicated_deduplication_window = 10000')
    expect(ddl).not.toContain('dedup_token')
  })

  it('ClickHouse 18.16: DateTime seconds, plain String, no TTL, no settings, stamp columns for dedup', () => {
    const ddl = buildCreateTable(spans, old, { database: 'aiops' })
    expect(ddl).toContain("`start_time` DateTime('UTC') MATERIALIZED toDateTime(intDiv(`start_time_ns`, 1000000000), 'UTC')")
    expect(ddl).toContain('`service` String')
    expect(ddl).not.toMatch(/LowCardinality|DateTime64|TTL|SETTINGS|fromUnixTimestamp64Nano/)
    expect(ddl).toContain('`dedup_token` String')
    expect(ddl).toContain('`dedup_seq` UInt32')
    expect(ddl).toContain('ENGINE = MergeTree()')
    expect(ddl).toContain('ORDER BY (tenant_id, service, toStartOfHour(`start_time`), trace_id)')
  })

  it('both variants describe the same columns, so rows written for one fit the other', () => {
    const names = (ddl: string): string[] => [...ddl.matchAll(/^\s+`(\w+)`/gm)].map((m) => m[1] as string)
    for (const t of TABLES) {
      const a = names(buildCreateTable(t, modern, { database: 'd' }))
      const b = names(buildCreateTable(t, old, { database: 'd' })).filter((n) => !n.startsWith('dedup_'))
      expect(a).toEqual(b)
      expect(a).toContain('tenant_id')
    }
  })

  it('mutable incidents use ReplacingMergeTree by updated_ns; metrics sort by tenant/name/series/time', () => {
    expect(buildCreateTable(tableSpec('incidents')!, modern, { database: 'd' })).toContain('ENGINE = ReplacingMergeTree(`updated_ns`)')
    const metrics = buildCreateTable(tableSpec('metric_points')!, modern, { database: 'd' })
    expect(metrics).toContain('ORDER BY (tenant_id, name, series, `ts`)')
    expect(buildCreateTable(tableSpec('anomalies')!, modern, { database: 'd' })).toContain('PARTITION BY toYYYYMM(`ts`)')
  })

  it('honours per-table retention, 0 meaning no TTL, and refuses retentions DateTime cannot hold', () => {
    expect(buildCreateTable(spans, modern, { database: 'd', retentionDays: { spans: 30 } })).toContain('INTERVAL 30 DAY')
    expect(buildCreateTable(spans, modern, { database: 'd', retentionDays: { spans: 0 } })).not.toContain('TTL')
    expect(() => buildCreateTable(spans, modern, { database: 'd', retentionDays: { spans: 36_500 } })).toThrow(UsageError)
  })

  it('refuses database names that would need quoting tricks', () => {
    expect(() => buildCreateTable(spans, modern, { database: 'x`; DROP' })).toThrow(UsageError)
    expect(buildMigrationsTable('aiops')).toContain('`aiops`.`schema_migrations`')
  })

  it('migration ids are unique, ordered, and cover every table', () => {
    const ids = MIGRATIONS.map((m) => m.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    const created = MIGRATIONS.flatMap((m) => m.statements(modern, { database: 'd' })).join('\n')
    for (const t of TABLES) expect(created).toContain(`\`d\`.\`${t.name}\``)
  })

  it('names the DDL variant for the migrations record', () => {
    expect(variantOf(modern)).toBe('modern')
    expect(variantOf(old)).toBe('compat(no dateTime64, no ttl, no lowCardinality, no insertDeduplicationToken)')
  })
})
