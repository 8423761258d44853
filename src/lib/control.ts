/**
 * Control messages between agents, on the bus topic `bus.topics.control` (default `aiops.control`), so the same
 * signals work on Kafka across hosts and on the memory bus inside `aiops up`:
 * - `insert_queue`: a consumer instance's store insert-queue depth (rows waiting to be inserted). Gateways sum the
 *   fresh reports of all instances and feed the sum to their BackpressureController.
 * - `ingested`: a consumer stored rows of a tenant/table covering [fromNs, toNs]. The router invalidates cached
 *   results whose time range overlaps (late data must not stay hidden behind a cache entry).
 * Readers consume with a per-instance group from the latest offset: these are signals, not data, and old ones are moot.
 */
import { AiopsError } from './errors.js'

export type ControlMessage =
  | { type: 'insert_queue'; instance: string; depth: number; tsMs: number }
  | { type: 'ingested'; tenant: string; table: string; fromNs: string; toNs: string; rows: number; tsMs: number }

export function encodeControl(m: ControlMessage): Buffer {
  return Buffer.from(JSON.stringify(m))
}

export function decodeControl(value: Buffer): ControlMessage {
  const m = JSON.parse(value.toString('utf8')) as Partial<ControlMessage> | null
  if (!m || (m.type !== 'insert_queue' && m.type !== 'ingested') || typeof m.tsMs !== 'number') {
    throw new AiopsError(`not a control message: ${value.toString('utf8').slice(0, 120)}`, { code: 'AIOPS_BAD_CONTROL', retriable: false })
  }
  return m as ControlMessage
}

/** Bus key of a control message: per instance for queue reports, per tenant for ingest notices (keeps order). */
export function controlKey(m: ControlMessage): string {
  return m.type === 'insert_queue' ? `insert_queue/${m.instance}` : `ingested/${m.tenant}`
}
