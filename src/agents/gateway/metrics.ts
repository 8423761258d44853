/**
 * The gateway's Prometheus metrics. The four item counters obey one rule the end-to-end tests check: every item of a
 * decoded request is counted once as received and exactly once as accepted (on the bus or in the spool), sampled out
 * (by reason) or refused (by reason) — so received = accepted + sampled_out + refused, always. Requests answered
 * before their body is decoded (401, 413, 415, undecodable 400, 503 from the memory limiter or shutdown) have no item
 * count; they show in aiops_gateway_requests_total by status.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { SIGNALS, type Signal } from '../../lib/otlp/envelope.js'

/** Why items were refused (never accepted). */
export type RefuseReason = 'invalid' | 'rate_limited' | 'buffer_full' | 'shutting_down'

export interface GatewayMetrics {
  received: Counter<'signal'>
  accepted: Counter<'signal'>
  sampledOut: Counter<'signal' | 'reason'>
  refused: Counter<'signal' | 'reason'>
  requests: Counter<'signal' | 'code'>
  sampleRate: Gauge
  requestSeconds: Histogram<'signal' | 'code'>
  produceSeconds: Histogram<'topic'>
  produceRequeued: Counter<'topic' | 'reason'>
  bufferBytes: Gauge
  bufferDepth: Gauge
  spoolBytes: Gauge
  spooled: Counter<'signal'>
  spoolReplayed: Counter
  memoryBytes: Gauge
}

function getOr<T>(r: Registry, name: string, make: () => T): T {
  return (r.getSingleMetric(name) as T | undefined) ?? make()
}

/**
 * `sampleRate` feeds aiops_gateway_sample_rate at every scrape (the controller changes the rate between requests too).
 * Metrics already registered (a second gateway on the same registry, tests) are reused.
 */
export function gatewayMetrics(r: Registry, sampleRate?: () => number): GatewayMetrics {
  const registers = [r]
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    getOr(r, name, () => new Counter({ name, help, labelNames, registers }))
  const gauge = (name: string, help: string): Gauge => getOr(r, name, () => new Gauge({ name, help, registers }))
  const m: GatewayMetrics = {
    received: counter('aiops_gateway_items_received_total', 'Items (spans, data points, log records) in decoded requests', ['signal']),
    accepted: counter('aiops_gateway_items_accepted_total', 'Items on the bus or in the disk spool (acknowledged with 200)', ['signal']),
    sampledOut: counter('aiops_gateway_items_sampled_out_total', 'Items dropped on purpose by backpressure sampling', ['signal', 'reason']),
    refused: counter('aiops_gateway_items_refused_total', 'Items never accepted: invalid (partial_success), rate_limited (429), buffer_full / shutting_down (503)', ['signal', 'reason']),
    requests: counter('aiops_gateway_requests_total', 'OTLP/HTTP requests by HTTP status', ['signal', 'code']),
    sampleRate: getOr(r, 'aiops_gateway_sample_rate', () =>
      new Gauge({
        name: 'aiops_gateway_sample_rate',
        help: 'Fraction of ordinary items kept by backpressure sampling (errors and slow spans are always kept)',
        registers,
        ...(sampleRate
          ? {
              collect() {
                this.set(sampleRate())
              },
            }
          : {}),
      }),
    ),
    requestSeconds: getOr(r, 'aiops_gateway_request_duration_seconds', () =>
      new Histogram({
        name: 'aiops_gateway_request_duration_seconds',
        help: 'OTLP/HTTP request latency, first byte to response',
        labelNames: ['signal', 'code'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
    ),
    produceSeconds: getOr(r, 'aiops_gateway_produce_duration_seconds', () =>
      new Histogram({
        name: 'aiops_gateway_produce_duration_seconds',
        help: 'Latency of one bus produce call (a batch of records from one or more requests)',
        labelNames: ['topic'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
        registers,
      }),
    ),
    produceRequeued: counter(
      'aiops_gateway_produce_requeued_records_total',
      'Bus records put back in the buffer after a produce call failed (reason=failed, sent again later) or was cut short to spool them (reason=spooling)',
      ['topic', 'reason'],
    ),
    bufferBytes: gauge('aiops_gateway_buffer_bytes', 'Bytes of accepted records waiting for (or in) a bus produce call'),
    bufferDepth: gauge('aiops_gateway_buffer_depth', 'Bus records (envelopes) waiting for (or in) a produce call'),
    spoolBytes: gauge('aiops_gateway_spool_bytes', 'Bytes in the disk spool waiting for replay'),
    spooled: counter('aiops_gateway_spooled_items_total', 'Accepted items that went to the disk spool because the bus was not taking them', ['signal']),
    spoolReplayed: getOr(r, 'aiops_gateway_spool_replayed_records_total', () =>
      new Counter({ name: 'aiops_gateway_spool_replayed_records_total', help: 'Bus records replayed from the disk spool', registers }),
    ),
    memoryBytes: gauge('aiops_gateway_memory_bytes', 'Memory in use as the memory limiter sees it (V8 heap + ArrayBuffers)'),
  }
  // Series exist from the start (at 0), so dashboards and the accounting check never miss a signal.
  for (const signal of SIGNALS) {
    m.received.inc({ signal }, 0)
    m.accepted.inc({ signal }, 0)
    m.sampledOut.inc({ signal, reason: 'backpressure' }, 0)
    m.refused.inc({ signal, reason: 'invalid' }, 0)
  }
  if (!sampleRate) m.sampleRate.set(1)
  return m
}

/** Reads one labelled counter value (tests, `up --json` summaries). */
export async function counterValue(c: Counter<string>, labels: Record<string, string>): Promise<number> {
  const data = await c.get()
  const want = Object.entries(labels)
  return data.values.filter((v) => want.every(([k, val]) => v.labels[k] === val)).reduce((n, v) => n + v.value, 0)
}

export type { Signal }
