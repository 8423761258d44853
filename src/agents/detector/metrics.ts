/**
 * The detector's Prometheus metrics. Registered on the agent's registry; a second detector started on the same
 * registry (tests, a restarted agent in one process) reuses the series. Gauges that mirror live state (series
 * held, queue length, degradation level) read it at scrape time from the agent currently attached.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface LiveState {
  series(): number
  queueLength(): number
  degradation(): number
}

const live = new WeakMap<Registry, { state?: LiveState }>()

function counter<L extends string>(r: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (r.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [r] })
}

function histogram<L extends string>(r: Registry, name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
  return (r.getSingleMetric(name) as Histogram<L> | undefined) ?? new Histogram({ name, help, labelNames, buckets, registers: [r] })
}

function liveGauge<L extends string>(r: Registry, name: string, help: string, labels: Record<L, string>, read: (s: LiveState) => number): Gauge<L> {
  const existing = r.getSingleMetric(name) as Gauge<L> | undefined
  if (existing) return existing
  const holder = live.get(r) ?? {}
  live.set(r, holder)
  return new Gauge<L>({
    name,
    help,
    labelNames: Object.keys(labels) as L[],
    registers: [r],
    collect() {
      if (holder.state) this.set(labels, read(holder.state))
    },
  })
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]

export function detectorMetrics(r: Registry, state: LiveState) {
  const m = {
    points: counter(r, 'aiops_detector_points_total', 'Metric points taken from the bus, by outcome (scored, warmup, stale, invalid).', ['outcome']),
    badMessages: counter(r, 'aiops_detector_bad_messages_total', 'Bus messages or rows that could not be read as metric points, by reason.', ['reason']),
    anomalies: counter(r, 'aiops_detector_anomalies_total', 'Anomaly records emitted, by state (open, update, close) and tier.', ['state', 'tier']),
    evicted: counter(r, 'aiops_detector_series_evicted_total', 'Series whose state was dropped to stay under detector.maxSeries (least recently seen first).', []),
    gapResets: counter(r, 'aiops_detector_gap_resets_total', 'Series restarted after a gap longer than detector.maxGapPoints.', []),
    fallbacks: counter(r, 'aiops_detector_fallbacks_total', 'Robust-tier windows scored statistically instead, by reason.', ['reason']),
    rejected: counter(r, 'aiops_detector_batcher_rejected_total', 'Windows the dynamic batcher refused, by reason (queue_full, deadline, stopped).', ['reason']),
    publishFailures: counter(r, 'aiops_detector_publish_failures_total', 'Anomaly writes that failed after retries, by target (bus, store).', ['target']),
    outboxDropped: counter(r, 'aiops_detector_outbox_dropped_total', 'Anomaly records dropped because an outbox was full while a target was down.', ['target']),
    batchSize: histogram(r, 'aiops_detector_batch_size', 'Windows per model run.', [], [1, 2, 4, 8, 16, 32, 48, 64, 128, 256]),
    inferenceSeconds: histogram(r, 'aiops_detector_inference_seconds', 'Duration of one model run (one batch).', [], [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]),
    pointLatency: histogram(r, 'aiops_detector_point_latency_seconds', 'From a metric record entering the bus to its batch being scored and published.', [], LATENCY_BUCKETS),
    anomalyLatency: histogram(r, 'aiops_detector_anomaly_latency_seconds', 'From the metric record that caused an anomaly record entering the bus to that record leaving.', [], LATENCY_BUCKETS),
    series: liveGauge(r, 'aiops_detector_series', 'Series with detection state in memory.', {}, (s) => s.series()),
    queue: liveGauge(r, 'aiops_detection_queue_length', 'Windows waiting in the dynamic batcher (the KEDA scaling signal of the design).', { tier: 'robust' }, (s) => s.queueLength()),
    degradation: liveGauge(r, 'aiops_detector_degradation_level', 'Degradation level: 0 full, 1 reduced ML, 2 no ML (rules), 3 minimal (store down), 4 emergency.', {}, (s) => s.degradation()),
  }
  const holder = live.get(r) ?? {}
  holder.state = state
  live.set(r, holder)
  return m
}

export type DetectorMetrics = ReturnType<typeof detectorMetrics>
