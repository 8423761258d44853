/**
 * Insert units: the pieces a bus batch is stored in, and how they are cut. Pure functions, unit-tested.
 *
 * On a durable bus (Kafka) a unit is one contiguous offset range of ONE partition, stored with its own dedup token
 * (unitToken). Before it is inserted, the unit's range is recorded as a write-ahead
 * intent (intents.ts). After a crash the bus delivers again from the committed offset, but in batches of whatever
 * size the new fetches return; planUnits() cuts the new batch along the recorded intents first, so every replayed
 * unit is the same records → the same rows in the same order → the same token, which the store deduplicates
 * (insert_deduplication_token on modern ClickHouse and chDB, stamped token + row index on 18.16).
 * Ranges without an intent are new units, cut at record boundaries so none exceeds the batch limits.
 */
import type { DecodedRecord } from './validate.js'

export interface Intent {
  first: bigint
  last: bigint
  token: string
  /** Envelope ids the unit kept (dedup-window.ts); empty on intents from before ids were recorded. */
  ids?: string[]
}

export interface InsertUnit {
  topic: string
  partition: number
  /** Offsets of the first and last bus record the unit covers (rejected records included). */
  first: bigint
  last: bigint
  /** Dedup token; undefined on the memory bus, where batches are merged and tokened per flush instead. */
  token?: string
  /** Re-formed from an existing intent (a replay): its intent is already durable. */
  replay: boolean
  /** Accepted records of the range, in offset order. */
  records: Array<Extract<DecodedRecord, { ok: true }>>
  /** A replay: the envelope ids its intent recorded as kept (dedup-window.ts keeps exactly those). */
  intentIds?: string[]
  /** Envelope ids the unit keeps after dropping duplicates: recorded in its intent. */
  ids?: string[]
  rows: number
  bytes: number
}

export interface UnitLimits {
  maxRows: number
  maxBytes: number
}

/**
 * `<group>/<topic>/<partition>/<first>-<last>~<nonce>`: readable (which records wrote a row), and unique even when
 * a topic is re-created and its offsets start over (the nonce is random per consumer run). A replay never derives
 * a token: it reads the recorded one from the intent, so the nonce does not have to be reproducible.
 */
export function unitToken(group: string, topic: string, partition: number, first: bigint, last: bigint, nonce: string): string {
  return `${group}/${topic}/${partition}/${first}-${last}~${nonce}`
}

/** The token of a unit's rows for one table (a unit normally feeds one table; mixed signals get one token each). */
export function tableToken(unitToken: string, table: string): string {
  return `${unitToken}/${table}`
}

function makeUnit(topic: string, partition: number, slice: DecodedRecord[], token: string | undefined, replay: boolean): InsertUnit {
  const records = slice.filter((d): d is Extract<DecodedRecord, { ok: true }> => d.ok)
  let rows = 0
  let bytes = 0
  for (const r of records) {
    rows += r.rows.length
    bytes += r.record.value.length
  }
  return {
    topic,
    partition,
    first: BigInt(slice[0]!.record.offset),
    last: BigInt(slice[slice.length - 1]!.record.offset),
    ...(token === undefined ? {} : { token }),
    replay,
    records,
    rows,
    bytes,
  }
}

/** Cuts records into consecutive slices whose accepted rows and bytes stay within the limits (a lone big record excepted). */
function cut(decoded: DecodedRecord[], limits: UnitLimits): DecodedRecord[][] {
  const out: DecodedRecord[][] = []
  let cur: DecodedRecord[] = []
  let rows = 0
  let bytes = 0
  for (const d of decoded) {
    const r = d.ok ? d.rows.length : 0
    const b = d.ok ? d.record.value.length : 0
    if (cur.length > 0 && (rows + r > limits.maxRows || bytes + b > limits.maxBytes)) {
      out.push(cur)
      cur = []
      rows = 0
      bytes = 0
    }
    cur.push(d)
    rows += r
    bytes += b
  }
  if (cur.length > 0) out.push(cur)
  return out
}

export interface PlanInput {
  group: string
  topic: string
  partition: number
  /** The batch's records, decoded, in offset order. */
  decoded: DecodedRecord[]
  /** Intents of this partition not yet replayed, sorted by first offset. Consumed entries are removed. */
  intents: Intent[]
  limits: UnitLimits
  /** Random per consumer run, part of every new token (see unitToken). */
  nonce: string
}

export type PlanResult =
  | { ok: true; units: InsertUnit[] }
  /** The batch ends inside a recorded intent: the bus delivered less than the original batch held. */
  | { ok: false; intent: Intent; deliveredLast: bigint }

/**
 * Cuts a durable-bus batch into units. An intent starting at the current position is replayed as recorded;
 * other stretches become new units (ending before the next intent). Intents the batch has moved past are dropped.
 * `allowPrefix` replays a too-short delivery as a prefix of its intent (same token) instead of reporting it.
 */
export function planUnits(input: PlanInput, allowPrefix = false): PlanResult {
  const { decoded, intents, topic, partition } = input
  const units: InsertUnit[] = []
  let i = 0
  while (i < decoded.length) {
    const pos = BigInt(decoded[i]!.record.offset)
    while (intents.length > 0 && intents[0]!.first < pos) intents.shift() // behind us: already committed or misaligned
    const intent = intents[0]
    if (intent && intent.first === pos) {
      let j = i
      while (j < decoded.length && BigInt(decoded[j]!.record.offset) <= intent.last) j++
      const deliveredLast = BigInt(decoded[j - 1]!.record.offset)
      if (deliveredLast < intent.last && !allowPrefix) return { ok: false, intent, deliveredLast }
      intents.shift()
      const unit = makeUnit(topic, partition, decoded.slice(i, j), intent.token, true)
      if (intent.ids) unit.intentIds = intent.ids
      units.push(unit)
      i = j
      continue
    }
    // New records up to the next intent (if one starts inside this batch) or the batch's end.
    let j = i
    while (j < decoded.length && !(intent && BigInt(decoded[j]!.record.offset) >= intent.first)) j++
    for (const slice of cut(decoded.slice(i, j), input.limits)) {
      const u = makeUnit(topic, partition, slice, undefined, false)
      u.token = unitToken(input.group, topic, partition, u.first, u.last, input.nonce)
      units.push(u)
    }
    i = j
  }
  return { ok: true, units }
}

/** A memory-bus batch: one unit without a token (the flush merges units across partitions and tokens the merge). */
export function wholeBatchUnit(topic: string, partition: number, decoded: DecodedRecord[]): InsertUnit {
  return makeUnit(topic, partition, decoded, undefined, false)
}
