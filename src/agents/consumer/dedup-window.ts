/**
 * Dropping producer-retry copies. Against a broker that cannot run an idempotent producer (the librdkafka mock, or
 * a production cluster with idempotence off) a produce request cut by a broker failure may have been written before
 * kafkajs retries it, so the same envelope lands at two offsets of one partition. The gateway stamps every envelope
 * with a unique id (src/agents/gateway/envelopes.ts); the consumer keeps, per partition, the ids of the last
 * DEDUP_WINDOW_IDS envelopes it stored and drops an envelope whose id is among them.
 *
 * Why a window of 16,384 ids per partition: a retry re-sends a request that was in flight, so the copy lands behind
 * the original by at most what all producers wrote to that partition between the two sends. One gateway has at most
 * produceConcurrency (2) × maxBatchBytes (1 MiB) in flight, ~700 envelopes of ~3 KB over all partitions; kafkajs
 * retries within seconds (300 ms doubling, 30 s cap). 16,384 ids cover ~20 gateways' in-flight requests landing on
 * one partition, or ~4 s of a partition taking 4,000 envelopes/s, at ~1.5 MB of memory per partition.
 *
 * Determinism (what the write-ahead intents need): a unit's kept ids are recorded in its intent. A replayed unit
 * keeps exactly the records whose ids its intent lists — not whatever the window holds now — so it rebuilds the same
 * rows for the same token. After a crash or rebalance the window is preloaded from the ids of the partition's last
 * intents before the committed offset, so a copy whose original was stored by the previous run is still dropped.
 */
import type { InsertUnit } from './units.js'

export const DEDUP_WINDOW_IDS = 16_384

/** The last `capacity` distinct ids added, oldest evicted first. */
export class DedupWindow {
  private readonly ring: Array<string | undefined>
  private readonly ids = new Set<string>()
  private head = 0

  constructor(readonly capacity: number = DEDUP_WINDOW_IDS) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    this.ring = new Array<string | undefined>(capacity)
  }

  get size(): number {
    return this.ids.size
  }

  has(id: string): boolean {
    return this.ids.has(id)
  }

  /** Adds an id (a no-op when present); evicts the oldest when full. */
  add(id: string): void {
    if (this.ids.has(id)) return
    const old = this.ring[this.head]
    if (old !== undefined) this.ids.delete(old)
    this.ring[this.head] = id
    this.ids.add(id)
    this.head = (this.head + 1) % this.capacity
  }
}

export type DuplicateReason = 'seen' | 'intent'

export interface Dropped {
  seen: number
  intent: number
}

/**
 * Drops the duplicate records of a unit in place and returns how many, by reason. `seen`: the id is in the window
 * (stored by an earlier unit) or earlier in this unit. `intent`: a replayed unit whose intent lists ids leaves out
 * every id-carrying record not listed (the first run dropped it). Records without an id are always kept. The kept
 * ids go into the window and into unit.ids (what its intent records), and rows/bytes are recounted.
 */
export function dropDuplicates(unit: InsertUnit, window: DedupWindow): Dropped {
  const dropped: Dropped = { seen: 0, intent: 0 }
  const recorded = unit.replay && unit.intentIds && unit.intentIds.length > 0 ? new Set(unit.intentIds) : undefined
  const inUnit = new Set<string>()
  const kept: InsertUnit['records'] = []
  for (const r of unit.records) {
    const id = r.id
    if (id === undefined) {
      kept.push(r)
      continue
    }
    if (inUnit.has(id)) {
      dropped.seen++
      continue
    }
    if (recorded ? !recorded.has(id) : window.has(id)) {
      dropped[recorded ? 'intent' : 'seen']++
      continue
    }
    inUnit.add(id)
    kept.push(r)
  }
  if (kept.length !== unit.records.length) {
    unit.records = kept
    unit.rows = 0
    unit.bytes = 0
    for (const r of kept) {
      unit.rows += r.rows.length
      unit.bytes += r.record.value.length
    }
  }
  unit.ids = [...inUnit]
  for (const id of unit.ids) window.add(id)
  return dropped
}
