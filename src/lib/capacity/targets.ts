/**
 * The scaling targets file (`aiops capacity --targets scaling.yaml`): the numbers the scaffold command writes into
 * HPA, KEDA, Strimzi and ClickHouse manifests. Format documented in docs/capacity.md; `apiVersion` changes on any
 * incompatible change so the scaffold command can refuse a file it does not understand.
 */
import YAML from 'yaml'
import { CLICKHOUSE_REPLICAS, DETECTION_QUEUE_TARGET, KAFKA_LAG_TARGET, MIN_REPLICAS, SCALE_AT } from './documents.js'
import type { CapacityInput, ComponentKey } from './input.js'
import type { CapacityResult, ComponentPlan } from './plan.js'

export interface Replicas {
  min: number
  max: number
}

export interface ScalingTargets {
  apiVersion: 'aiops.dev/v1'
  kind: 'ScalingTargets'
  generatedAt: string
  /** Counts that cannot shrink later (partitions, shards) are sized for this many months of growth. */
  horizonMonths: number
  gateway?: { replicas: Replicas; hpa: { cpuUtilization: number; memoryUtilization: number; itemsPerSecondPerPod: number } }
  kafka?: { partitions: { traces: number; metrics: number; logs: number; total: number }; replicationFactor: number; minInsyncReplicas: number }
  consumer?: { replicas: Replicas; keda: { lagThreshold: number } }
  clickhouse?: { shards: number; replicasPerShard: number }
  detector?: {
    basic?: { replicas: Replicas; hpa: { cpuUtilization: number } }
    agile?: { replicas: Replicas; hpa: { memoryUtilization: number } }
    robust?: { replicas: Replicas; keda: { metric: string; query: string; threshold: number } }
  }
  gpu?: { nodes: number; gpusPerNode: number }
  router?: { replicas: Replicas; hpa: { cpuUtilization: number; queriesPerSecondPerPod: number } }
  redis?: { nodes: number; sentinels: number }
}

const pct = Math.round(SCALE_AT * 100)

/** min: what today's load needs under the 70% trigger (never below 3, for zone spread); max: 2× the 12-month need. */
function replicas(c: ComponentPlan): Replicas {
  const min = Math.max(MIN_REPLICAS, c.needed.recommendedNow)
  return { min, max: Math.max(2 * min, 2 * c.needed.in12Months) }
}

export function scalingTargets(r: Omit<CapacityResult, 'targets'>, input: CapacityInput): ScalingTargets {
  const get = (k: ComponentKey): ComponentPlan | undefined => r.components.find((c) => c.key === k)
  const t: ScalingTargets = { apiVersion: 'aiops.dev/v1', kind: 'ScalingTargets', generatedAt: r.generatedAt, horizonMonths: 12 }
  const gw = get('gateway')
  if (gw) t.gateway = { replicas: replicas(gw), hpa: { cpuUtilization: pct, memoryUtilization: 80, itemsPerSecondPerPod: Math.floor(gw.capacityPerInstance * SCALE_AT) } }
  const kp = get('kafkaPartitions')
  if (kp) {
    const c = input.current
    const total = Math.max(3, kp.needed.in12Months)
    const items = c.metricsPerSec + c.spansPerSec + c.logsPerSec
    const share = (x: number): number => Math.max(1, Math.ceil((total * x) / items))
    const p = { traces: share(c.spansPerSec), metrics: share(c.metricsPerSec), logs: share(c.logsPerSec) }
    t.kafka = { partitions: { ...p, total: p.traces + p.metrics + p.logs }, replicationFactor: 3, minInsyncReplicas: 2 }
  }
  const co = get('consumer')
  if (co) {
    const rep = replicas(co)
    // A consumer group uses at most one member per partition: more replicas would idle.
    const cap = t.kafka ? Math.max(t.kafka.partitions.traces, t.kafka.partitions.metrics, t.kafka.partitions.logs) : rep.max
    t.consumer = { replicas: { min: Math.min(rep.min, cap), max: Math.min(rep.max, cap) }, keda: { lagThreshold: KAFKA_LAG_TARGET } }
  }
  const ch = get('clickhouseShards')
  if (ch) t.clickhouse = { shards: Math.max(ch.needed.in12Months, ch.instances), replicasPerShard: CLICKHOUSE_REPLICAS }
  const basic = get('detectorBasic')
  const agile = get('detectorAgile')
  const robust = get('detectorRobust')
  if (basic || agile || robust) {
    t.detector = {}
    if (basic) t.detector.basic = { replicas: replicas(basic), hpa: { cpuUtilization: pct } }
    if (agile) t.detector.agile = { replicas: replicas(agile), hpa: { memoryUtilization: 80 } }
    if (robust) {
      t.detector.robust = {
        replicas: replicas(robust),
        keda: { metric: 'aiops_detection_queue_length', query: 'sum(aiops_detection_queue_length{tier="robust"})', threshold: DETECTION_QUEUE_TARGET },
      }
    }
  }
  const gpu = get('gpuNodes')
  if (gpu) t.gpu = { nodes: Math.max(gpu.needed.in12Months, gpu.instances), gpusPerNode: gpu.capacityPerInstance }
  const ro = get('router')
  if (ro) t.router = { replicas: replicas(ro), hpa: { cpuUtilization: pct, queriesPerSecondPerPod: Math.floor(ro.capacityPerInstance * SCALE_AT) } }
  const re = get('redis')
  if (re) t.redis = { nodes: Math.max(1, re.needed.in12Months), sentinels: 3 }
  return t
}

export function serializeTargets(t: ScalingTargets, file: string): string {
  return /\.json$/i.test(file) ? `${JSON.stringify(t, null, 2)}\n` : `# aiops scaling targets (docs/capacity.md); read by the scaffold command\n${YAML.stringify(t)}`
}
