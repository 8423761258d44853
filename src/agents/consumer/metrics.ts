/**
 * The consumer's Prometheus metrics. Registered on the agent's registry; a second consumer started on the same
 * registry (tests, a restarted agent in one process) reuses the existing series instead of failing on the name.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

function counter<L extends string>(r: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (r.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [r] })
}

function gauge<L extends string>(r: Registry, name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  return (r.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [r] })
}

export function consumerMetrics(r: Registry) {
  const insertName = 'aiops_consumer_insert_duration_seconds'
  return {
    rowsInserted: counter(r, 'aiops_consumer_rows_inserted_total', 'Rows stored, by table.', ['table']),
    batches: counter(r, 'aiops_consumer_batches_total', 'Inserts into the store (one per unit and table), by table.', ['table']),
    records: counter(r, 'aiops_consumer_records_total', 'Bus records handled (stored or dead-lettered), by topic.', ['topic']),
    dlq: counter(r, 'aiops_consumer_dlq_total', 'Records sent to the dead-letter topic, by reason.', ['reason']),
    insertRetries: counter(r, 'aiops_consumer_insert_retries_total', 'Failed store writes that were retried, by table.', ['table']),
    duplicatesDropped: counter(r, 'aiops_consumer_duplicates_dropped_total',
      'Bus records dropped as copies of an envelope already stored (producer retries), by reason: seen (in the dedup window), intent (a replay following its intent).', ['reason']),
    replays: counter(r, 'aiops_consumer_replayed_units_total', 'Units re-formed from a write-ahead intent after a crash or rebalance.', ['topic']),
    insertSeconds:
      (r.getSingleMetric(insertName) as Histogram<'table'> | undefined) ??
      new Histogram({
        name: insertName,
        help: 'Time to store one insert (retries included), by table.',
        labelNames: ['table'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [r],
      }),
    lag: gauge(r, 'aiops_consumer_lag', 'Records not yet committed by the consumer group, per topic and partition.', ['topic', 'partition']),
    queue: gauge(r, 'aiops_consumer_insert_queue_rows', 'Rows taken from the bus and not yet stored (what gateways back off on).', []),
  }
}

export type ConsumerMetrics = ReturnType<typeof consumerMetrics>
