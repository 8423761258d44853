/**
 * The bus message between gateway and consumer: one message per (tenant, partition key) group of store-ready rows.
 * Grouping spans of one trace (or points of one series) into one message keeps Kafka's per-key order and cuts the
 * message count by the fan-in of a request (100 spans of ~10 traces → ~10 messages), which is what lets a gateway
 * core reach tens of thousands of spans per second through kafkajs.
 *
 * Format: JSON `{"v":1,"id":"k3J9xQ-1a","signal":"traces","tenant":"acme","rows":[{…}]}`. Rows use the column names of
 * src/lib/store/tables.ts; UInt64 nanosecond fields are decimal strings (exact beyond 2^53).
 * `id` (optional, added after v1 shipped, so messages without it still decode) is unique per envelope: the gateway
 * stamps it once, so a producer retry that writes the same envelope at a second offset carries the same id and the
 * consumer drops the copy (src/agents/consumer/dedup-window.ts).
 */
import { AiopsError } from '../errors.js'
import type { Row } from '../store/types.js'

export const ENVELOPE_VERSION = 1
export type Signal = 'traces' | 'metrics' | 'logs'
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs']

/** Which store table each signal's rows go to. */
export const SIGNAL_TABLE: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'logs' }

export interface BusEnvelope {
  v: typeof ENVELOPE_VERSION
  /** Unique per envelope (see above); absent on messages from before it was added. */
  id?: string
  signal: Signal
  tenant: string
  rows: Row[]
}

/** A message that cannot be decoded: it goes to the dead-letter topic with `reason`, never blocks a partition. */
export class EnvelopeError extends AiopsError {
  constructor(
    readonly reason: 'not_json' | 'bad_version' | 'bad_signal' | 'bad_tenant' | 'bad_rows' | 'bad_id',
    message: string,
  ) {
    super(message, { code: 'AIOPS_BAD_ENVELOPE', retriable: false, details: { reason } })
  }
}

export function encodeEnvelope(e: Omit<BusEnvelope, 'v'>): Buffer {
  const body = e.id === undefined
    ? { v: ENVELOPE_VERSION, signal: e.signal, tenant: e.tenant, rows: e.rows }
    : { v: ENVELOPE_VERSION, id: e.id, signal: e.signal, tenant: e.tenant, rows: e.rows }
  return Buffer.from(JSON.stringify(body))
}

export function decodeEnvelope(value: Buffer): BusEnvelope {
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (err) {
    throw new EnvelopeError('not_json', `message is not JSON: ${(err as Error).message}`)
  }
  const e = parsed as Partial<BusEnvelope> | null
  if (!e || typeof e !== 'object') throw new EnvelopeError('not_json', 'message is not a JSON object')
  if (e.v !== ENVELOPE_VERSION) throw new EnvelopeError('bad_version', `envelope version ${String(e.v)} is not ${ENVELOPE_VERSION}`)
  if (!SIGNALS.includes(e.signal as Signal)) throw new EnvelopeError('bad_signal', `signal ${String(e.signal)} is not one of ${SIGNALS.join(', ')}`)
  if (e.id !== undefined && (typeof e.id !== 'string' || e.id === '')) throw new EnvelopeError('bad_id', 'id must be a non-empty string when present')
  if (typeof e.tenant !== 'string' || e.tenant === '') throw new EnvelopeError('bad_tenant', 'tenant must be a non-empty string')
  if (!Array.isArray(e.rows) || !e.rows.every((r) => r && typeof r === 'object' && !Array.isArray(r))) {
    throw new EnvelopeError('bad_rows', 'rows must be an array of objects')
  }
  return e as BusEnvelope
}
