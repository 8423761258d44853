/**
 * The design documents' capacity figures, in one place with where each comes from
 * (scalability-reliability-aiops.md = "aiops doc", scalability-reliability-observability.md = "observability doc").
 * Figures the documents do not give are marked ASSUMED and are meant to be replaced by measurements.
 */

/** aiops doc, "Ingestion Layer Scaling": collectors and Kafka partitions per scale factor. */
export const INGESTION_TABLE = [
  { scale: '1x', itemsPerSec: 1_000_000, collectors: 10, partitions: 100, strategy: 'Baseline' },
  { scale: '10x', itemsPerSec: 10_000_000, collectors: 100, partitions: 1_000, strategy: 'Add collectors, increase partitions' },
  { scale: '100x', itemsPerSec: 100_000_000, collectors: 500, partitions: 5_000, strategy: 'Multi-cluster Kafka, edge pre-aggregation' },
] as const

/** Per-collector and per-partition throughput the table implies below the 100x row (1M/s ÷ 10, 1M/s ÷ 100). */
export const COLLECTOR_ITEMS_PER_SEC = 100_000
export const PARTITION_ITEMS_PER_SEC = 10_000
/** From 100M/s on, edge pre-aggregation halves what reaches each collector and partition (100M/s → 500 and 5,000). */
export const PRE_AGGREGATION_FROM = 100_000_000
export const PRE_AGGREGATION_FACTOR = 2

/** aiops doc, "Database Scaling": num_shards = ceiling(total_metrics / 100M); each shard ~10 TB. */
export const METRICS_PER_SHARD = 100_000_000
export const BYTES_PER_SHARD = 10 * 1e12

/** aiops doc, "Anomaly Detection Scaling": max metrics/s per instance and the scale trigger of each tier. */
export const DETECTOR_TIERS = {
  basic: { perInstance: 100_000, unit: 'CPU pod', trigger: 'CPU > 70%' },
  agile: { perInstance: 20_000, unit: 'CPU pod', trigger: 'Memory > 80%' },
  robust: { perInstance: 50_000, unit: 'GPU pod', trigger: 'GPU > 70%' },
} as const
export type DetectorTier = keyof typeof DETECTOR_TIERS

/** observability doc, "GPU Cluster Architecture": A100 × 8 per GPU node. */
export const GPUS_PER_NODE = 8

/** aiops doc, "Capacity Planning Model": scale at 70% utilization; runway counts months until 80%; order below 3 months. */
export const SCALE_AT = 0.7
export const RUNWAY_AT = 0.8
export const ORDER_LEAD_MONTHS = 3

/** aiops doc, "Scaling Dimensions": the 1x / 10x / 100x rows. */
export const SCALE_MULTIPLES = [1, 10, 100] as const

/** aiops doc HPA (collectors): scale if Kafka lag > 10K messages; KEDA (robust detector): queue length 1000. */
export const KAFKA_LAG_TARGET = 10_000
export const DETECTION_QUEUE_TARGET = 1_000
/** observability doc: gateway HPA bounds (minReplicas 3). */
export const MIN_REPLICAS = 3
/** observability doc, ClickHouse topology: 3 replicas per shard. */
export const CLICKHOUSE_REPLICAS = 3

/** ASSUMED (the documents give no per-instance figure): replace with `aiops loadtest` results or /metrics. */
export const ASSUMED = {
  consumerRowsPerSec: 50_000,
  routerQueriesPerSec: 1_000,
  redisOpsPerSec: 100_000,
  cacheOpsPerQuery: 2,
  detectorMix: { basic: 0.8, agile: 0.15, robust: 0.05 } as Record<DetectorTier, number>,
}
