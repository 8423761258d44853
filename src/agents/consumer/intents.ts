/**
 * Write-ahead batch intents: before a unit is inserted, its (group, topic, partition, first, last, token) is stored
 * in `<database>.consumer_intents`; after a crash or a rebalance the consumer reads the intents at and after the
 * committed offset and re-forms exactly those units (units.ts), so their tokens match what may already be stored.
 *
 * Why a table in the store rather than Kafka commit metadata: the Bus interface commits offsets only (no metadata),
 * the intent must be durable before the insert in the same system that has to agree with it, and a table works on
 * both store backends with the same DDL (ClickHouse 18.16 and chDB 26.x). The table is keyed for the one lookup it
 * serves (group, topic, partition, first_offset) and partitioned by day so old intents are dropped a partition at a
 * time (18.16 has no TTL). On a replicated cluster it must live on one shard (reads need the latest write).
 * `ids` holds the envelope ids the unit kept (dedup-window.ts): a replay keeps exactly those, and a restarted
 * consumer preloads its dedup window from the last intents of each partition.
 */
import { quoteString, quoteTable } from '../../lib/store/sql.js'
import type { Store } from '../../lib/store/types.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { InsertUnit, Intent } from './units.js'

export const INTENTS_TABLE = 'consumer_intents'

export function intentsDdl(database: string): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteTable(`${database}.${INTENTS_TABLE}`)}`,
    '(`group` String, `topic` String, `partition` UInt32, `first_offset` UInt64, `last_offset` UInt64,',
    ' `token` String, `rows` UInt32, `instance` String, `created_ns` UInt64, `day` Date, `ids` Array(String))',
    'ENGINE = MergeTree()',
    'PARTITION BY day',
    'ORDER BY (`group`, `topic`, `partition`, `first_offset`)',
  ].join('\n')
}

/** Intents read to preload a dedup window: enough units to fill it unless units are tiny (then they cover less). */
const RECENT_INTENTS = 256

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

export class IntentLog {
  private readonly table: string

  constructor(
    private readonly store: Store,
    private readonly database: string,
    private readonly instance: string,
    private readonly clock: Clock,
  ) {
    this.table = quoteTable(`${database}.${INTENTS_TABLE}`)
  }

  /** Creates the table, or adds the `ids` column to one created before it existed (same SQL on 18.16 and chDB). */
  async ensureTable(): Promise<void> {
    await this.store.exec(intentsDdl(this.database))
    const cols = await this.store.query<{ name: string }>(
      `SELECT name FROM system.columns WHERE database = ${quoteString(this.database)} AND table = ${quoteString(INTENTS_TABLE)} AND name = 'ids'`,
    )
    if (cols.length === 0) await this.store.exec(`ALTER TABLE ${this.table} ADD COLUMN \`ids\` Array(String)`)
  }

  /** One insert for every new unit of a flush; written before any of them is inserted. */
  async record(group: string, units: InsertUnit[], signal?: AbortSignal): Promise<void> {
    if (units.length === 0) return
    const now = this.clock.now()
    const createdNs = `${BigInt(now) * 1_000_000n}`
    const rows = units.map((u) => ({
      group,
      topic: u.topic,
      partition: u.partition,
      first_offset: u.first.toString(),
      last_offset: u.last.toString(),
      token: u.token,
      rows: u.rows,
      instance: this.instance,
      created_ns: createdNs,
      day: dayOf(now),
      ids: u.ids ?? [],
    }))
    await this.store.insert(`${this.database}.${INTENTS_TABLE}`, rows, signal ? { signal } : {})
  }

  /**
   * Intents of a partition starting at or after `from` (the committed offset), in offset order. Where two share a
   * first offset (only two members racing on one partition can cause that) the earliest recorded wins.
   */
  async load(group: string, topic: string, partition: number, from: bigint, signal?: AbortSignal): Promise<Intent[]> {
    const rows = await this.store.query<{ first_offset: string; last_offset: string; token: string; ids: string[] }>(
      `SELECT first_offset, last_offset, token, ids FROM ${this.table}` +
        ' WHERE `group` = {g:String} AND `topic` = {t:String} AND `partition` = {p:UInt32} AND first_offset >= {f:UInt64}' +
        ' ORDER BY first_offset, created_ns',
      { params: { g: group, t: topic, p: partition, f: from.toString() }, ...(signal ? { signal } : {}) },
    )
    const out: Intent[] = []
    for (const r of rows) {
      const first = BigInt(r.first_offset)
      if (out.length > 0 && out[out.length - 1]!.first === first) continue
      out.push({ first, last: BigInt(r.last_offset), token: r.token, ids: r.ids })
    }
    return out
  }

  /**
   * Envelope ids of the partition's units before `before` (the committed offset), newest unit first, at most `max`:
   * what a consumer taking the partition over preloads its dedup window with.
   */
  async recentIds(group: string, topic: string, partition: number, before: bigint, max: number, signal?: AbortSignal): Promise<string[]> {
    const rows = await this.store.query<{ ids: string[] }>(
      `SELECT ids FROM ${this.table}` +
        ' WHERE `group` = {g:String} AND `topic` = {t:String} AND `partition` = {p:UInt32} AND first_offset < {f:UInt64}' +
        ` ORDER BY first_offset DESC LIMIT ${RECENT_INTENTS}`,
      { params: { g: group, t: topic, p: partition, f: before.toString() }, ...(signal ? { signal } : {}) },
    )
    const out: string[] = []
    for (const r of rows) {
      for (const id of r.ids) out.push(id)
      if (out.length >= max) break
    }
    return out.slice(0, max)
  }

  /** Drops whole days of intents older than `days`; returns the partitions dropped. */
  async dropOlderThan(days: number): Promise<string[]> {
    const cutoff = dayOf(this.clock.now() - days * 86_400_000).replace(/-/g, '')
    const parts = await this.store.query<{ partition_id: string }>(
      `SELECT DISTINCT partition_id FROM system.parts WHERE database = ${quoteString(this.database)}` +
        ` AND table = ${quoteString(INTENTS_TABLE)} AND active`,
    )
    const old = parts.map((p) => p.partition_id).filter((id) => /^\d{8}$/.test(id) && id < cutoff)
    for (const id of old) await this.store.exec(`ALTER TABLE ${this.table} DROP PARTITION ID ${quoteString(id)}`)
    return old
  }
}
