/**
 * One topic's consumer: bus handler → decode and validate → dead-letter the bad records → cut insert units → wait
 * in the batcher until the flush holding them is stored → return (the bus then commits).
 *
 * Durable bus (Kafka): units are per partition, recorded as write-ahead intents before they are inserted and
 * re-formed from those intents after a crash or rebalance (units.ts, intents.ts). A partition needs its intents
 * read again whenever a batch does not start where our last one ended (first batch after start, a rebalance, a
 * redelivery); otherwise the in-memory list is current.
 * Memory bus: the bus dies with the process, so no batch can be replayed by another process; units of every
 * partition are merged into one insert per table, with a token that only has to survive this flush's retries.
 * Both: copies of an envelope a producer retry wrote twice are dropped by a per-partition window of envelope ids
 * (dedup-window.ts), preloaded from the intents whenever the partition's intents are read again.
 */
import { randomBytes } from 'node:crypto'
import type { Bus, ConsumedBatch, ConsumerHandle } from '../../lib/bus/types.js'
import { DependencyError } from '../../lib/errors.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { Row } from '../../lib/store/types.js'
import { cleanMessage } from '../../lib/store/errors.js'
import type { Logger } from '../../lib/telemetry/logger.js'
import { Batcher, type BatchLimits } from './batcher.js'
import { DEDUP_WINDOW_IDS, DedupWindow, dropDuplicates } from './dedup-window.js'
import { ingestedRanges, type ControlSignals } from './control-signals.js'
import type { DeadLetter, DeadLetters } from './dead-letter.js'
import type { IntentLog } from './intents.js'
import type { ConsumerMetrics } from './metrics.js'
import { planUnits, tableToken, wholeBatchUnit, type InsertUnit, type Intent } from './units.js'
import { decodeRecord, type AcceptedRecord } from './validate.js'
import { isDataError, type StoreWriter } from './writer.js'

/** Redeliveries to wait for the rest of a recorded batch before replaying what came as a prefix of it. */
const MAX_SHORT_REPLAYS = 5

export interface StoredInfo {
  topic: string
  units: number
  rows: number
}

export interface TopicConsumerOptions {
  bus: Bus
  topic: string
  group: string
  database: string
  limits: BatchLimits
  insertConcurrency: number
  /** Partitions handled at once on a durable bus (their units share flushes); default 1. */
  partitionsAtOnce?: number
  writer: StoreWriter
  /** Present on a durable bus: replay-safe units with write-ahead intents. */
  intents?: IntentLog
  dlq: DeadLetters
  control: ControlSignals
  metrics: ConsumerMetrics
  logger: Logger
  clock: Clock
  instance: string
  afterStore?: (info: StoredInfo) => void | Promise<void>
  /** Envelope ids remembered per partition for dropping producer-retry copies (default DEDUP_WINDOW_IDS). */
  dedupWindowIds?: number
}

export class TopicConsumer {
  readonly batcher: Batcher<InsertUnit>
  private handle: ConsumerHandle | undefined
  /** Per partition: the offset our next batch should start at, if we handled the previous one. */
  private readonly expected = new Map<number, bigint>()
  /** Per partition: intents read from the store that no batch has replayed yet. */
  private readonly intentsAhead = new Map<number, Intent[]>()
  private readonly shortReplays = new Map<string, number>()
  /** Per partition: ids of the envelopes stored last (dropped with `expected` whenever intents are read again). */
  private readonly windows = new Map<number, DedupWindow>()
  /** Makes this run's tokens unique even when a topic is re-created and its offsets start over. */
  private readonly nonce = randomBytes(4).toString('hex')
  private flushSeq = 0

  constructor(private readonly o: TopicConsumerOptions) {
    this.batcher = new Batcher<InsertUnit>(o.limits, (units) => this.flush(units), o.clock)
  }

  async start(): Promise<void> {
    this.handle = await this.o.bus.consume(this.o.topic, this.o.group, (b) => this.onBatch(b), {
      fromBeginning: true,
      partitionsAtOnce: this.o.partitionsAtOnce ?? 1,
    })
    await this.handle.ready
  }

  /** Stops fetching, stores what was taken (flushing at once from now on), lets the bus commit, leaves the group. */
  async stop(): Promise<void> {
    await Promise.all([this.handle?.stop(), this.batcher.drain()])
  }

  private async onBatch(batch: ConsumedBatch): Promise<void> {
    const p = batch.partition
    try {
      const decoded = batch.records.map(decodeRecord)
      const bad: DeadLetter[] = []
      for (const d of decoded) if (!d.ok) bad.push({ record: d.record, reason: d.reason, message: d.message })
      await this.o.dlq.send(bad)
      const units = this.o.intents ? await this.plan(batch, decoded) : [wholeBatchUnit(this.o.topic, p, decoded)]
      this.dropDuplicates(p, units)
      const replayed = units.filter((u) => u.replay).length
      if (replayed > 0) this.o.metrics.replays.inc({ topic: this.o.topic }, replayed)
      await this.batcher.add(units.filter((u) => u.rows > 0))
      this.o.metrics.records.inc({ topic: this.o.topic }, batch.records.length)
      this.expected.set(p, BigInt(batch.lastOffset) + 1n)
    } catch (err) {
      // The bus redelivers this batch: read the partition's intents again then, as after a restart.
      this.expected.delete(p)
      this.intentsAhead.delete(p)
      this.windows.delete(p) // it may hold ids of this batch, which was not stored
      throw err
    }
  }

  private async plan(batch: ConsumedBatch, decoded: ReturnType<typeof decodeRecord>[]): Promise<InsertUnit[]> {
    const { topic, group, intents } = this.o
    const p = batch.partition
    const first = BigInt(batch.firstOffset)
    if (this.expected.get(p) !== first) {
      const loaded = await this.o.writer.durably(`read intents of ${topic}[${p}]`, undefined, (s) => intents!.load(group, topic, p, first, s))
      this.intentsAhead.set(p, loaded)
      const max = this.o.dedupWindowIds ?? DEDUP_WINDOW_IDS
      const recent = await this.o.writer.durably(`read recent envelope ids of ${topic}[${p}]`, undefined, (s) => intents!.recentIds(group, topic, p, first, max, s))
      const window = new DedupWindow(max)
      for (let i = recent.length - 1; i >= 0; i--) window.add(recent[i]!) // oldest first: the newest are evicted last
      this.windows.set(p, window)
    }
    const ahead = this.intentsAhead.get(p) ?? []
    const key = `${p}/${first}`
    const tries = this.shortReplays.get(key) ?? 0
    const limits = { maxRows: this.o.limits.maxRows, maxBytes: this.o.limits.maxBytes }
    const plan = planUnits({ group, topic, partition: p, decoded, intents: ahead, limits, nonce: this.nonce }, tries >= MAX_SHORT_REPLAYS)
    if (!plan.ok) {
      this.shortReplays.set(key, tries + 1)
      throw new DependencyError('bus', `${topic}[${p}] redelivered offsets ${first}-${plan.deliveredLast}, short of the recorded batch ` +
        `${plan.intent.first}-${plan.intent.last}; waiting for the rest so it can be replayed whole`, { retriable: true })
    }
    if (tries >= MAX_SHORT_REPLAYS) {
      this.o.logger.error('replaying a recorded batch from a shorter redelivery; rows after it may be stored twice', { topic, partition: p, first: `${first}` })
    }
    this.shortReplays.delete(key)
    if (ahead.length === 0) this.intentsAhead.delete(p)
    return plan.units
  }

  /** Drops copies of envelopes already stored (or listed as dropped by a replayed intent), counting them. */
  private dropDuplicates(p: number, units: InsertUnit[]): void {
    let window = this.windows.get(p)
    if (!window) {
      window = new DedupWindow(this.o.dedupWindowIds ?? DEDUP_WINDOW_IDS)
      this.windows.set(p, window)
    }
    for (const u of units) {
      const d = dropDuplicates(u, window)
      if (d.seen > 0) this.o.metrics.duplicatesDropped.inc({ reason: 'seen' }, d.seen)
      if (d.intent > 0) this.o.metrics.duplicatesDropped.inc({ reason: 'intent' }, d.intent)
    }
  }

  private async flush(units: InsertUnit[]): Promise<void> {
    const stored = new Map<string, Array<{ tenant: string; rows: Row[] }>>()
    if (this.o.intents) {
      const fresh = units.filter((u) => !u.replay)
      await this.o.writer.durably(`record intents of ${this.o.topic}`, undefined, (s) => this.o.intents!.record(this.o.group, fresh, s))
      await pool(units, this.o.insertConcurrency, (u) => this.storeRecords(u.records, u.token!, stored))
    } else {
      const records: AcceptedRecord[] = []
      for (const u of units) for (const r of u.records) records.push(r)
      await this.storeRecords(records, `${this.o.instance}/${this.nonce}/${this.o.topic}/${++this.flushSeq}`, stored)
    }
    this.o.control.ingested(ingestedRanges(stored))
    let rows = 0
    for (const u of units) rows += u.rows
    await this.o.afterStore?.({ topic: this.o.topic, units: units.length, rows })
  }

  /** One insert per table (normally one) with the unit's token; `stored` collects what went in, for `ingested`. */
  private async storeRecords(records: AcceptedRecord[], token: string, stored: Map<string, Array<{ tenant: string; rows: Row[] }>>): Promise<void> {
    const byTable = new Map<string, AcceptedRecord[]>()
    for (const r of records) {
      const list = byTable.get(r.table)
      if (list) list.push(r)
      else byTable.set(r.table, [r])
    }
    for (const [table, recs] of byTable) {
      let rows: Row[]
      if (recs.length === 1) rows = recs[0]!.rows
      else {
        rows = []
        for (const r of recs) for (const row of r.rows) rows.push(row)
      }
      let kept = recs
      try {
        await this.o.writer.insert(`${this.o.database}.${table}`, rows, tableToken(token, table))
      } catch (err) {
        if (!isDataError(err)) throw err
        kept = await this.isolate(table, recs, tableToken(token, table), err)
      }
      const list = stored.get(table) ?? []
      for (const r of kept) list.push({ tenant: r.tenant, rows: r.rows })
      stored.set(table, list)
    }
  }

  /**
   * The server refused rows that passed validation: store the records one by one (each with a token derived from
   * the batch's), dead-letter the ones it refuses, and keep the partition moving.
   */
  private async isolate(table: string, recs: AcceptedRecord[], token: string, cause: unknown): Promise<AcceptedRecord[]> {
    this.o.logger.error('the store refused a batch that passed validation; storing its records one by one', { table, token, err: cause })
    const kept: AcceptedRecord[] = []
    const bad: DeadLetter[] = []
    for (const r of recs) {
      try {
        await this.o.writer.insert(`${this.o.database}.${table}`, r.rows, `${token}/${r.record.offset}`)
        kept.push(r)
      } catch (err) {
        if (!isDataError(err)) throw err
        bad.push({ record: r.record, reason: 'store_rejected', message: cleanMessage((err as Error).message) })
      }
    }
    await this.o.dlq.send(bad)
    return kept
  }
}

/** Runs `fn` over items with at most `limit` at a time; rejects with the first failure once all have settled. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const errors: unknown[] = []
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!
      try {
        await fn(item)
      } catch (err) {
        errors.push(err)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (errors.length > 0) throw errors[0]
}
