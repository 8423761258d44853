/**
 * Configuration of the consumer agent (`aiops agent consumer`): bus topics → validated batches → the store.
 * Batches close on whichever comes first: maxRows, maxBytes, maxWaitMs after their first record, or idleMs
 * without a new record (the bus hands a partition its next records only after the current ones are stored, so
 * waiting longer than that gains nothing).
 */
import { int, str, type Section } from '../fields.js'

export const consumerSection = {
  group: str(
    'aiops-consumer',
    'Consumer group name prefix. One group per topic: <group>.traces, <group>.metrics, <group>.logs (kafkajs members of one group must subscribe to the same topics).',
  ),
  instance: str('', 'Name of this consumer in control messages and write-ahead intents; empty means <hostname>-<pid>.'),
  batch: {
    maxRows: int(50000, 'A batch is inserted once it holds this many rows.', { min: 1 }),
    maxBytes: int(32 * 1024 * 1024, 'A batch is inserted once its bus records add up to this many bytes.', { min: 1024 }),
    maxWaitMs: int(1000, 'A batch is inserted at the latest this long after its first record arrived.', { min: 1 }),
    idleMs: int(10, 'A batch is inserted early once no new records arrived for this long (0: insert at once).', { min: 0 }),
  },
  insertConcurrency: int(4, 'Inserts one consumer runs at the same time (per topic).', { min: 1, max: 64 }),
  partitionsAtOnce: int(
    8,
    'Kafka partitions whose fetched batches one consumer handles at once (their units share a flush: fewer, larger inserts). 1: one at a time.',
    { min: 1, max: 256 },
  ),
  retryMaxDelayMs: int(
    30000,
    'While the store is down the batch is held and retried forever; backoff between rounds grows up to this.',
    { min: 100 },
  ),
  reportIntervalMs: int(
    2000,
    'How often the insert-queue depth is published on bus.topics.control (gateway backpressure) and consumer lag is read.',
    { min: 100 },
  ),
  intentRetentionDays: int(
    7,
    'Days the write-ahead batch intents (table consumer_intents) are kept; replays older than this lose exact dedup.',
    { min: 1 },
  ),
} satisfies Section
