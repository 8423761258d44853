/**
 * The components a capacity plan covers, each described by its load now, its per-instance capacity (input >
 * measured > documents > assumption, with the source kept), and how many instances a load multiple needs.
 */
import {
  ASSUMED, BYTES_PER_SHARD, COLLECTOR_ITEMS_PER_SEC, DETECTOR_TIERS, GPUS_PER_NODE, INGESTION_TABLE, METRICS_PER_SHARD,
  PARTITION_ITEMS_PER_SEC, type DetectorTier,
} from './documents.js'
import { detectorPodsFor, effectivePerUnit, gpuNodesFor, shardsFor } from './formulas.js'
import type { CapacityInput, ComponentKey } from './input.js'
import type { Measured } from './measure.js'

export interface CapacitySource {
  kind: 'input' | 'measured' | 'document' | 'assumed'
  detail: string
}

export interface Descriptor {
  key: ComponentKey
  label: string
  /** Unit of load and of per-instance capacity. */
  unit: string
  load: number
  capacity: number
  source: CapacitySource
  /** Instances needed at `k` × today's load (k = 1, 10, 100, or a growth factor). */
  needed(k: number): number
  /** Utilization of `instances` at `k` × today's load. */
  utilization(instances: number, k: number): number
  /** Something ordered and racked (shards, GPU nodes, partitions' brokers) rather than a pod an autoscaler adds. */
  hardware: boolean
  formula: string
}

export interface Skipped {
  key: ComponentKey
  reason: string
}

function capacityOf(
  key: ComponentKey,
  input: CapacityInput,
  measured: readonly Measured[],
  fallback: { value: number; kind: 'document' | 'assumed'; detail: string },
): { value: number; source: CapacitySource } {
  const given = input.capacity[key]
  if (given !== undefined) return { value: given, source: { kind: 'input', detail: `capacity.${key}` } }
  const m = measured.find((x) => x.component === key)
  if (m) return { value: m.perInstance, source: { kind: 'measured', detail: `${m.source}: ${m.detail}` } }
  return { value: fallback.value, source: { kind: fallback.kind, detail: fallback.detail } }
}

/** load / (n × per-instance), with the per-instance figure possibly depending on the load (pre-aggregation). */
function simple(
  base: Omit<Descriptor, 'needed' | 'utilization'>,
  perUnitAt: (load: number) => number = () => base.capacity,
): Descriptor {
  return {
    ...base,
    needed: (k) => (base.load * k <= 0 ? 0 : Math.max(1, Math.ceil((base.load * k) / perUnitAt(base.load * k) - 1e-9))),
    utilization: (n, k) => (n <= 0 ? (base.load > 0 ? Infinity : 0) : (base.load * k) / (n * perUnitAt(base.load * k))),
  }
}

export function describeComponents(input: CapacityInput, measured: readonly Measured[]): { components: Descriptor[]; skipped: Skipped[] } {
  const c = input.current
  const items = c.metricsPerSec + c.spansPerSec + c.logsPerSec
  const out: Descriptor[] = []
  const skipped: Skipped[] = []
  const skip = (key: ComponentKey, reason: string): void => {
    skipped.push({ key, reason })
  }

  if (items > 0) {
    const gw = capacityOf('gateway', input, measured, { value: COLLECTOR_ITEMS_PER_SEC, kind: 'document', detail: `ingestion table: ${INGESTION_TABLE[0].itemsPerSec / INGESTION_TABLE[0].collectors}/s per collector` })
    out.push(simple({ key: 'gateway', label: 'gateways (collectors)', unit: 'items/s', load: items, capacity: gw.value, source: gw.source, hardware: false, formula: 'ceil(items/s ÷ per-gateway), per-gateway ×2 from 100M/s (edge pre-aggregation)' }, (l) => effectivePerUnit(gw.value, l)))
    const kp = capacityOf('kafkaPartitions', input, measured, { value: PARTITION_ITEMS_PER_SEC, kind: 'document', detail: `ingestion table: ${INGESTION_TABLE[0].itemsPerSec / INGESTION_TABLE[0].partitions}/s per partition` })
    out.push(simple({ key: 'kafkaPartitions', label: 'Kafka partitions', unit: 'records/s', load: items, capacity: kp.value, source: kp.source, hardware: true, formula: 'ceil(records/s ÷ per-partition), per-partition ×2 from 100M/s (multi-cluster Kafka)' }, (l) => effectivePerUnit(kp.value, l)))
    const co = capacityOf('consumer', input, measured, { value: ASSUMED.consumerRowsPerSec, kind: 'assumed', detail: 'no document figure: measure with /metrics (aiops_consumer_rows_inserted_total)' })
    out.push(simple({ key: 'consumer', label: 'consumers', unit: 'rows/s', load: items, capacity: co.value, source: co.source, hardware: false, formula: 'ceil(rows/s ÷ per-consumer); never more than partitions' }))
  } else for (const k of ['gateway', 'kafkaPartitions', 'consumer'] as const) skip(k, 'no ingest load: give current.metricsPerSec / spansPerSec / logsPerSec')

  if (c.totalMetrics > 0 || c.storedBytes > 0) {
    const per = capacityOf('clickhouseShards', input, measured, { value: METRICS_PER_SHARD, kind: 'document', detail: 'num_shards = ceiling(total_metrics / 100M), ~10 TB each' })
    const bytesPer = (BYTES_PER_SHARD * per.value) / METRICS_PER_SHARD
    out.push({
      key: 'clickhouseShards',
      label: 'ClickHouse shards',
      unit: 'series',
      load: c.totalMetrics,
      capacity: per.value,
      source: per.source,
      hardware: true,
      formula: 'ceil(total metrics ÷ 100M), at least ceil(stored bytes ÷ 10 TB)',
      needed: (k) => shardsFor(c.totalMetrics * k, c.storedBytes * k, per.value, bytesPer),
      utilization: (n, k) => Math.max((c.totalMetrics * k) / (n * per.value), (c.storedBytes * k) / (n * bytesPer)),
    })
  } else skip('clickhouseShards', 'no stored data: give current.totalMetrics (series) or current.storedBytes')

  const mix = input.detectorMix ?? ASSUMED.detectorMix
  const mixTotal = mix.basic + mix.agile + mix.robust
  const tiers: Array<[DetectorTier, ComponentKey]> = [['basic', 'detectorBasic'], ['agile', 'detectorAgile'], ['robust', 'detectorRobust']]
  let robust: Descriptor | null = null
  for (const [tier, key] of tiers) {
    const load = mixTotal > 0 ? (c.metricsPerSec * mix[tier]) / mixTotal : 0
    if (load <= 0) {
      skip(key, c.metricsPerSec > 0 ? `detectorMix.${tier} is 0` : 'no metrics load: give current.metricsPerSec')
      continue
    }
    const t = DETECTOR_TIERS[tier]
    const cap = capacityOf(key, input, measured, { value: t.perInstance, kind: 'document', detail: `detection table: ${t.perInstance}/s per ${t.unit}, scale on ${t.trigger}` })
    const d = simple({ key, label: `detector pods (${tier})`, unit: 'metrics/s', load, capacity: cap.value, source: cap.source, hardware: false, formula: `ceil(${tier} metrics/s ÷ per-pod); scale trigger ${t.trigger}` })
    out.push(d)
    if (tier === 'robust') robust = d
  }

  if (robust) {
    const r = robust
    const perNode = input.gpusPerNode ?? GPUS_PER_NODE
    const gpus = (k: number): number => detectorPodsFor(r.load * k, 'robust', r.capacity)
    out.push({
      key: 'gpuNodes',
      label: 'GPU nodes',
      unit: 'GPUs',
      load: gpus(1),
      capacity: perNode,
      source: input.gpusPerNode ? { kind: 'input', detail: 'gpusPerNode' } : { kind: 'document', detail: 'A100 × 8 per GPU node' },
      hardware: true,
      formula: `ceil(robust pods ÷ ${perNode} GPUs per node)`,
      needed: (k) => gpuNodesFor(gpus(k), perNode),
      utilization: (n, k) => gpus(k) / (n * perNode),
    })
  } else skip('gpuNodes', 'no robust-tier detection load')

  if (c.queriesPerSec > 0) {
    const ro = capacityOf('router', input, measured, { value: ASSUMED.routerQueriesPerSec, kind: 'assumed', detail: 'no document figure: measure with `aiops loadtest --profile stress` on the router' })
    out.push(simple({ key: 'router', label: 'router replicas', unit: 'queries/s', load: c.queriesPerSec, capacity: ro.value, source: ro.source, hardware: false, formula: 'ceil(queries/s ÷ per-replica)' }))
    const ops = c.queriesPerSec * (input.cacheOpsPerQuery ?? ASSUMED.cacheOpsPerQuery)
    const re = capacityOf('redis', input, measured, { value: ASSUMED.redisOpsPerSec, kind: 'assumed', detail: 'single-threaded Redis: ~100K simple ops/s per node' })
    out.push(simple({ key: 'redis', label: 'Redis nodes', unit: 'ops/s', load: ops, capacity: re.value, source: re.source, hardware: false, formula: `ceil(queries/s × ${input.cacheOpsPerQuery ?? ASSUMED.cacheOpsPerQuery} cache ops ÷ per-node)` }))
  } else for (const k of ['router', 'redis'] as const) skip(k, 'no query load: give current.queriesPerSec')

  return { components: out, skipped }
}
