/**
 * Idempotent inserts: `insert(table, rows, {dedupToken})` twice with the same token stores the rows once, on
 * every supported server, even when the first attempt died half-way. The consumer derives tokens from
 * topic/partition/offset range, so a replay after a crash (same records → same rows, same order) is a no-op.
 *
 * Native (ClickHouse >= 22.2, chDB): the `insert_deduplication_token` setting. MergeTree remembers the token
 * of each written block (one block per partition touched, token suffixed per block) for the last
 * non_replicated_deduplication_window blocks, which the schema sets on its tables; Replicated* tables always
 * have a window. A retry of a partly written insert skips the blocks that made it and writes the rest. An
 * arbitrary table without a window would silently not deduplicate, so the store refuses a token for it (below).
 *
 * Stamped (ClickHouse 18.16 and anything < 22.2, which have neither the setting nor non-replicated dedup):
 * every schema table carries `dedup_token String` and `dedup_seq UInt32`, and the store stamps each row with
 * the token and its index in the batch. Before writing it reads which indexes of that token already exist
 * (`SELECT dedup_seq ... WHERE dedup_token = X`) and writes only the missing rows:
 *   - a replay of a batch that was fully written writes nothing;
 *   - a replay after a crash that left some parts committed (one INSERT writes one part per partition, and a
 *     part is committed atomically by a rename, but the parts of one INSERT are not committed together) writes
 *     exactly the rows that are missing. A "token exists → skip" check would lose them; hence the sequence.
 * The evidence lives in the data itself, so there is no window between "data written" and "token recorded"
 * (a separate token log would have one: log first loses data, log last duplicates it).
 * Cost: one extra read per tokened insert. It is kept cheap with what the batch already tells us: the
 * derived time column bounded by the batch's min/max timestamp (partition pruning via the part min/max index,
 * so only the recent day's parts are read) and the leading sort-key columns (`tenant_id IN (...)`, see
 * TableSpec.dedupPrune) so the primary index skips most granules.
 * Limits: check-then-write is not atomic, so two writers inserting the same token at the same moment can both
 * write. Within a process the store serialises per (table, token); across processes, Kafka gives a partition
 * (and so a token range) to one consumer at a time. Tokens must mean "these exact rows": the same token with
 * different rows is deduplicated by index, not by content.
 *
 * Without a token no deduplication happens on any server (26.x would otherwise drop an identical block into a
 * table that has a window: insert_deduplicate=0, and deduplicate_insert='disable' where it exists, turn it off),
 * so behaviour does not depend on the server version.
 */
import { DependencyError, UsageError } from '../errors.js'
import { compactJsonEncoder } from './compact-json.js'
import { decimalLess, isDigits, stripZeros } from './decimal.js'
import { rowBinaryEncoder } from './rowbinary.js'
import { encodeJSONEachRow, quoteString, quoteTable, splitTable, type PositionalEncoder, type RowStamp } from './sql.js'
import { DEDUP_SEQ_COLUMN, DEDUP_TOKEN_COLUMN } from './schema.js'
import { rowDefaults, tableSpec, type TableSpec } from './tables.js'
import type { Row, ServerInfo } from './types.js'

export type InsertSettings = Record<string, string | number>

/** Formats for the described tables (tables.ts): column-ordered, no key per value; the INSERT names the columns. */
export type PositionalFormat = 'RowBinary' | 'JSONCompactEachRow'

/** One insert's body: JSONEachRow (any table, any value), or a positional format with its column list. */
export type InsertBody =
  | { format: 'JSONEachRow'; body: Buffer }
  | { format: PositionalFormat; body: Buffer; columns: readonly string[] }

export interface DedupBackend {
  readonly dependency: 'clickhouse' | 'chdb'
  /**
   * What the described tables are written in: RowBinary on a ClickHouse server (rowbinary.ts), JSONCompactEachRow
   * on chDB, whose raw insert takes text formats only (compact-json.ts).
   */
  readonly positionalFormat: PositionalFormat
  /** A read through the backend's own error mapping; returns JSONEachRow rows. */
  select<T>(sql: string): Promise<T[]>
  /** Writes one body into `table` with these settings. */
  write(table: string, body: InsertBody, settings: InsertSettings, signal?: AbortSignal): Promise<void>
}

type Mode = 'native' | 'stamped'

/**
 * A row key that matches no column is an error on every server (26.x skips unknown fields by default, 18.16
 * refuses them): a misspelt field must fail the batch, not silently store an empty column.
 */
const STRICT: InsertSettings = { input_format_skip_unknown_fields: 0 }

/** Most distinct values of a prune column put into an IN list; a larger batch just skips that filter. */
const MAX_PRUNE_VALUES = 64

export class Deduplicator {
  private readonly modes = new Map<string, Promise<Mode>>()
  private readonly locks = new Map<string, Promise<void>>()
  private noDedup?: Promise<InsertSettings>
  private readonly encoders = new Map<string, PositionalEncoder>()

  constructor(private readonly backend: DedupBackend) {}

  /**
   * The backend's positional format for a described table when every value fits its column; JSONEachRow otherwise,
   * which stores the same rows (the fast encoders give up rather than guess; see their module comments).
   */
  private encode(rows: readonly Row[], spec: TableSpec | undefined, defaults: Row | undefined, stamp?: RowStamp): InsertBody {
    if (spec) {
      const format = this.backend.positionalFormat
      let enc = this.encoders.get(spec.name)
      if (!enc) this.encoders.set(spec.name, (enc = format === 'RowBinary' ? rowBinaryEncoder(spec) : compactJsonEncoder(spec)))
      const body = enc.encode(rows, stamp)
      if (body) return { format, body, columns: enc.columns(stamp) }
    }
    return { format: 'JSONEachRow', body: encodeJSONEachRow(rows, { ...(defaults ? { defaults } : {}), ...(stamp ? { stamp } : {}) }) }
  }

  async insert(table: string, rows: Row[], token: string | undefined, info: ServerInfo, signal?: AbortSignal): Promise<void> {
    const spec = tableSpec(splitTable(table).name)
    const defaults = spec ? rowDefaults(spec) : undefined
    if (token === undefined) {
      await this.backend.write(table, this.encode(rows, spec, defaults), await this.noDedupSettings(), signal)
      return
    }
    let mode: Mode
    try {
      mode = await this.mode(table, info)
    } catch (err) {
      this.modes.delete(table)
      throw err
    }
    if (mode === 'native') {
      const settings = { ...STRICT, insert_deduplicate: 1, insert_deduplication_token: token }
      await this.backend.write(table, this.encode(rows, spec, defaults), settings, signal)
      return
    }
    await this.serialized(`${table}\u0000${token}`, async () => {
      const present = await this.presentSeqs(table, token, rows, spec)
      const todo: number[] = []
      for (let i = 0; i < rows.length; i++) if (!present.has(i)) todo.push(i)
      if (todo.length === 0) return
      const subset = todo.length === rows.length ? rows : todo.map((i) => rows[i] as Row)
      const stamp = { tokenColumn: DEDUP_TOKEN_COLUMN, token, seqColumn: DEDUP_SEQ_COLUMN, seq: (j: number) => todo[j]! }
      await this.backend.write(table, this.encode(subset, spec, defaults, stamp), await this.noDedupSettings(), signal)
    })
  }

  /** Forget what was learnt about a table (it may have been dropped and re-created). */
  forget(table: string): void {
    this.modes.delete(table)
  }

  private noDedupSettings(): Promise<InsertSettings> {
    this.noDedup ??= this.backend
      .select<{ name: string }>("SELECT name FROM system.settings WHERE name = 'deduplicate_insert'")
      .then((r): InsertSettings => ({ ...STRICT, insert_deduplicate: 0, ...(r.length > 0 ? { deduplicate_insert: 'disable' } : {}) }))
      .catch((err: unknown) => {
        this.noDedup = undefined
        throw err
      })
    return this.noDedup
  }

  private mode(table: string, info: ServerInfo): Promise<Mode> {
    let m = this.modes.get(table)
    if (!m) {
      m = this.resolve(table, info)
      this.modes.set(table, m)
    }
    return m
  }

  private async resolve(table: string, info: ServerInfo): Promise<Mode> {
    const { database, name } = splitTable(table)
    const where = `database = ${database === undefined ? 'currentDatabase()' : quoteString(database)}`
    const [t] = await this.backend.select<{ engine: string; engine_full: string }>(
      `SELECT engine, engine_full FROM system.tables WHERE ${where} AND name = ${quoteString(name)}`,
    )
    if (!t) {
      throw new DependencyError(this.backend.dependency, `table ${table} does not exist`, {
        retriable: false,
        suggestions: ['run `aiops schema apply` to create the tables', 'check the configured database'],
      })
    }
    const window = /non_replicated_deduplication_window\s*=\s*(\d+)/.exec(t.engine_full)
    if (info.features.insertDeduplicationToken && (/^(Replicated|Shared)/.test(t.engine) || Number(window?.[1] ?? 0) > 0)) return 'native'
    const cols = await this.backend.select<{ name: string }>(
      `SELECT name FROM system.columns WHERE ${where} AND table = ${quoteString(name)}` +
        ` AND name IN (${quoteString(DEDUP_TOKEN_COLUMN)}, ${quoteString(DEDUP_SEQ_COLUMN)})`,
    )
    if (cols.length === 2) return 'stamped'
    throw new UsageError(`insert into ${table} with a dedupToken cannot be made idempotent: the table has no dedup support`, {
      suggestions: info.features.insertDeduplicationToken
        ? [`create it with SETTINGS non_replicated_deduplication_window = N (or ALTER TABLE ${table} MODIFY SETTING ...)`]
        : [
            `add columns ${DEDUP_TOKEN_COLUMN} String and ${DEDUP_SEQ_COLUMN} UInt32` +
              ` (ClickHouse ${info.version} has no insert_deduplication_token)`,
          ],
    })
  }

  /** Indexes of `token`'s rows already in the table, read with the batch's own values as pruning filters. */
  private async presentSeqs(table: string, token: string, rows: Row[], spec: TableSpec | undefined): Promise<Set<number>> {
    const conds = [`${DEDUP_TOKEN_COLUMN} = ${quoteString(token)}`]
    if (spec) {
      const range = nsRange(rows, spec.time.from)
      const t = `\`${spec.time.column}\``
      // Whole seconds around the batch: `< max + 1s` also covers DateTime64's sub-second part.
      if (range) conds.push(`${t} >= toDateTime(${range[0] / 1_000_000_000n}) AND ${t} < toDateTime(${range[1] / 1_000_000_000n + 1n})`)
      for (const col of spec.dedupPrune) {
        const values = new Set<string>()
        let last: unknown
        // Rows come grouped by record, so most rows repeat the previous row's value: skip the Set for those.
        if (!rows.every((r) => { const v = r[col]; return typeof v === 'string' && (v === last || values.add((last = v))) })) continue
        if (values.size <= MAX_PRUNE_VALUES) conds.push(`\`${col}\` IN (${[...values].map(quoteString).join(', ')})`)
      }
    }
    const found = await this.backend.select<Record<string, number | string>>(
      `SELECT ${DEDUP_SEQ_COLUMN} FROM ${quoteTable(table)} WHERE ${conds.join(' AND ')}`,
    )
    return new Set(found.map((r) => Number(r[DEDUP_SEQ_COLUMN])))
  }

  /** Runs `fn` after any earlier call with the same key has settled. */
  private async serialized(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.locks.get(key) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => {})
    this.locks.set(key, tail)
    try {
      await run
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key)
    }
  }
}

/**
 * [min, max] of an integer-nanosecond column over the rows, or undefined if any row lacks a usable value. Decimal
 * strings are compared as text (length first, leading zeros stripped) and only the two winners are checked and made
 * bigints: a BigInt or a digit check per row was a measurable share of the consumer's CPU. A non-digit string either
 * wins a comparison (and fails the final check: undefined) or loses them all; it cannot be stored in a UInt64 column
 * anyway, so leaving it out of the range is safe.
 */
export function nsRange(rows: readonly Row[], column: string): [bigint, bigint] | undefined {
  let min: string | undefined
  let max: string | undefined
  for (const r of rows) {
    const v = r[column]
    let s: string
    if (typeof v === 'string') s = stripZeros(v)
    else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) s = String(v)
    else if (typeof v === 'bigint' && v >= 0n) s = v.toString()
    else return undefined
    if (min === undefined || decimalLess(s, min)) min = s
    if (max === undefined || decimalLess(max, s)) max = s
  }
  if (min === undefined || max === undefined || !isDigits(min) || !isDigits(max)) return undefined
  return [BigInt(min), BigInt(max)]
}
