/**
 * The documents' capacity formulas as functions: ingestion (collectors, partitions), shards, detector pods, GPU nodes,
 * growth, runway. Pure arithmetic, reproduced against the documents' worked examples in test/unit/capacity-*.test.ts.
 */
import {
  BYTES_PER_SHARD, COLLECTOR_ITEMS_PER_SEC, DETECTOR_TIERS, GPUS_PER_NODE, METRICS_PER_SHARD, PARTITION_ITEMS_PER_SEC,
  PRE_AGGREGATION_FACTOR, PRE_AGGREGATION_FROM, type DetectorTier,
} from './documents.js'

/** Effective per-unit throughput at a load: edge pre-aggregation from 100M/s doubles what one unit stands for. */
export function effectivePerUnit(perUnit: number, load: number): number {
  return load >= PRE_AGGREGATION_FROM ? perUnit * PRE_AGGREGATION_FACTOR : perUnit
}

/** Collectors (gateways) for an ingest rate: 1M/s → 10, 10M/s → 100, 100M/s → 500 with the documents' 100K/s each. */
export function collectorsFor(itemsPerSec: number, perCollector = COLLECTOR_ITEMS_PER_SEC): number {
  return Math.max(1, Math.ceil(itemsPerSec / effectivePerUnit(perCollector, itemsPerSec) - 1e-9))
}

/** Kafka partitions for an ingest rate: 1M/s → 100, 10M/s → 1,000, 100M/s → 5,000. */
export function partitionsFor(itemsPerSec: number, perPartition = PARTITION_ITEMS_PER_SEC): number {
  return Math.max(1, Math.ceil(itemsPerSec / effectivePerUnit(perPartition, itemsPerSec) - 1e-9))
}

/** num_shards = ceiling(total_metrics / 100M), and enough shards for the bytes at ~10 TB each. */
export function shardsFor(totalMetrics: number, storedBytes = 0, perShard = METRICS_PER_SHARD, bytesPerShard = BYTES_PER_SHARD): number {
  return Math.max(1, Math.ceil(totalMetrics / perShard - 1e-9), Math.ceil(storedBytes / bytesPerShard - 1e-9))
}

export function detectorPodsFor(metricsPerSec: number, tier: DetectorTier, perInstance: number = DETECTOR_TIERS[tier].perInstance): number {
  return metricsPerSec <= 0 ? 0 : Math.ceil(metricsPerSec / perInstance - 1e-9)
}

export function gpuNodesFor(robustPods: number, gpusPerNode = GPUS_PER_NODE): number {
  return robustPods <= 0 ? 0 : Math.ceil(robustPods / gpusPerNode)
}

export interface Growth {
  /** Compound growth of load per month, as a fraction (0.05 = 5%/month). */
  monthly: number
  newTenantsPerMonth: number
  /** Tenants now; each new tenant is assumed to bring the average tenant's load. */
  tenants: number
}

/** Load after `months` relative to now: compound growth plus the tenants onboarded by then. */
export function growthFactor(months: number, g: Growth): number {
  const organic = Math.pow(1 + g.monthly, months)
  const tenants = g.tenants > 0 ? (g.newTenantsPerMonth * months) / g.tenants : 0
  return organic + tenants
}

/**
 * Months until `utilizationAt(month)` first reaches `level`: 0 when it is there now, null when it does not get there
 * within `horizon` months. Scanned in tenth-of-a-month steps (utilization is not always monotone in load: edge
 * pre-aggregation from 100M/s halves the per-unit load), the crossing then narrowed by bisection and rounded *down*
 * to a tenth: a runway is a deadline, so it must not be overstated.
 */
export function runwayMonths(utilizationAt: (month: number) => number, level: number, horizon = 120): number | null {
  const reached = (m: number): boolean => utilizationAt(m) >= level - 1e-12
  if (reached(0)) return 0
  for (let tenth = 1; tenth <= horizon * 10; tenth++) {
    if (!reached(tenth / 10)) continue
    let lo = (tenth - 1) / 10
    let hi = tenth / 10
    for (let i = 0; i < 40; i++) {
      const mid = (lo + hi) / 2
      if (reached(mid)) hi = mid
      else lo = mid
    }
    return Math.floor(lo * 10 + 1e-9) / 10
  }
  return null
}
