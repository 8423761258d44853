/**
 * Store-ready rows → bus records: one envelope (src/lib/otlp/envelope.ts) per partition key, the key being
 * tenant + trace id for spans (a trace stays on one partition, in order), tenant + series for metric points, and
 * tenant + service for log records.
 *
 * Every envelope gets an id unique across gateway processes and restarts: a random per-process prefix (72 bits:
 * two replicas, or one restarted, collide with negligible odds) plus a counter. A producer retry re-sends the same
 * bytes, so a copy Kafka stored twice carries the same id and the consumer drops it (its dedup window).
 */
import { randomBytes } from 'node:crypto'
import type { BusRecord } from '../../lib/bus/types.js'
import { encodeEnvelope, encodeEnvelopeV2, type Signal } from '../../lib/otlp/envelope.js'
import type { Row } from '../../lib/store/types.js'

const ID_PREFIX = randomBytes(9).toString('base64url')
let idCounter = 0

/** `<prefix>-<counter in base 36>`: ~14–20 characters, cheap to make, to store in intents and to hash. */
export function nextEnvelopeId(): string {
  return `${ID_PREFIX}-${(idCounter++).toString(36)}`
}

const KEY_COLUMN: Record<Signal, string> = { traces: 'trace_id', metrics: 'series', logs: 'service' }

export interface EnvelopeBatch {
  records: BusRecord[]
  /** Bytes of keys and values: what the produce buffer counts against its limit. */
  bytes: number
}

/** `version` 2 writes JSON envelopes for readers from before v3 (gateway.envelopeVersion, during an upgrade). */
export function toBusRecords(signal: Signal, tenant: string, rows: Row[], version: 2 | 3 = 3): EnvelopeBatch {
  const encode = version === 2 ? encodeEnvelopeV2 : encodeEnvelope
  const column = KEY_COLUMN[signal]
  const groups = new Map<string, Row[]>()
  for (const row of rows) {
    const k = row[column] as string
    const g = groups.get(k)
    if (g) g.push(row)
    else groups.set(k, [row])
  }
  const records: BusRecord[] = []
  let bytes = 0
  for (const [k, group] of groups) {
    const key = `${tenant}/${k}`
    const value = encode({ id: nextEnvelopeId(), signal, tenant, rows: group })
    bytes += key.length + value.length
    records.push({ key, value })
  }
  return { records, bytes }
}
