/**
 * Records the consumer cannot store go to the dead-letter topic (bus.topics.deadLetter) with their original key,
 * bytes and headers, plus headers saying why and where they came from. They are produced before the batch holding
 * them is committed, so a record is never both skipped and missing from the dead-letter topic; a replay after a
 * crash can dead-letter a record twice (at-least-once, like everything on the bus).
 */
import type { Bus, BusRecord, ConsumedRecord } from '../../lib/bus/types.js'
import type { ConsumerMetrics } from './metrics.js'
import type { RejectReason } from './validate.js'

export const DLQ_HEADERS = {
  reason: 'aiops-dlq-reason',
  error: 'aiops-dlq-error',
  source: 'aiops-dlq-source',
  group: 'aiops-dlq-group',
  at: 'aiops-dlq-at',
} as const

export interface DeadLetter {
  record: ConsumedRecord
  reason: RejectReason
  message: string
}

export class DeadLetters {
  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly group: string,
    private readonly metrics: ConsumerMetrics,
    private readonly now: () => number,
  ) {}

  async send(items: DeadLetter[], signal?: AbortSignal): Promise<void> {
    if (items.length === 0) return
    const at = new Date(this.now()).toISOString()
    const records: BusRecord[] = items.map(({ record, reason, message }) => ({
      key: record.key,
      value: record.value,
      headers: {
        ...record.headers,
        [DLQ_HEADERS.reason]: reason,
        [DLQ_HEADERS.error]: message.length > 1000 ? `${message.slice(0, 1000)}…` : message,
        [DLQ_HEADERS.source]: `${record.topic}/${record.partition}/${record.offset}`,
        [DLQ_HEADERS.group]: this.group,
        [DLQ_HEADERS.at]: at,
      },
    }))
    await this.bus.produce(this.topic, records, signal ? { signal } : {})
    for (const { reason } of items) this.metrics.dlq.inc({ reason })
  }
}
