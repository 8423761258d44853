/**
 * `aiops capacity` on loadtest results: measured capacities flow into the plan, and with the documents' per-instance
 * figures measured, the plan reproduces the documents' worked examples.
 */
import { describe, expect, it } from 'vitest'
import { parseCapacityInput } from '../../src/lib/capacity/input.js'
import { measureFromLoadtest, type Measured } from '../../src/lib/capacity/measure.js'
import { planCapacity, type ComponentPlan } from '../../src/lib/capacity/plan.js'
import { measureFromMetrics, parsePrometheusText } from '../../src/lib/capacity/prometheus.js'
import { serializeTargets } from '../../src/lib/capacity/targets.js'
import { ConfigError } from '../../src/lib/errors.js'

/** The fields of an `aiops loadtest --json` stress result that capacity reads. */
const gatewayStress = {
  ok: true,
  profile: 'stress',
  target: { kind: 'gateway', url: 'http://127.0.0.1:4318/', client: 'raw' },
  totals: { rps: 900 },
  eventsPerRequest: 80,
  stress: { knee: { rate: 1250, achievedRps: 1250, breakingRate: 1500, breaking: ['p99<100ms (actual 180ms)'] }, steps: [] },
}

const get = (c: ComponentPlan[], k: string) => c.find((x) => x.key === k)!

describe('capacity from loadtest results', () => {
  it('a gateway stress knee × items per request is the per-gateway capacity', () => {
    const m = measureFromLoadtest(gatewayStress, 'stress.json') as Measured
    expect(m).toMatchObject({ component: 'gateway', perInstance: 100_000, lowerBound: false })
    expect(m.detail).toContain('stress knee 1250/s')
  })

  it('a passed baseline is only a lower bound; a failed one is no capacity at all', () => {
    const base = { ...gatewayStress, profile: 'baseline', stress: undefined, totals: { rps: 200 } }
    expect(measureFromLoadtest(base, 'b.json')).toMatchObject({ perInstance: 16_000, lowerBound: true })
    expect(measureFromLoadtest({ ...base, ok: false }, 'b.json')).toHaveProperty('skipped')
    expect(() => measureFromLoadtest({ hello: 1 }, 'x.json')).toThrow(/not an `aiops loadtest --json` result/)
  })

  it('reproduces the worked examples: 1B metrics → 10 shards; 1×/10×/100× collectors and partitions', () => {
    const input = parseCapacityInput({ current: { metricsPerSec: 1_000_000, totalMetrics: 1_000_000_000, tenants: 100 } }, {}, 't')
    const measured = [measureFromLoadtest(gatewayStress, 'stress.json') as Measured]
    const plan = planCapacity(input, measured, [], new Date(0))
    const gw = get(plan.components, 'gateway')
    expect(gw.capacitySource.kind).toBe('measured')
    expect([gw.needed.x1, gw.needed.x10, gw.needed.x100]).toEqual([10, 100, 500])
    const kp = get(plan.components, 'kafkaPartitions')
    expect([kp.needed.x1, kp.needed.x10, kp.needed.x100]).toEqual([100, 1000, 5000])
    const ch = get(plan.components, 'clickhouseShards')
    expect(ch.needed.now).toBe(10)
    expect([ch.needed.x10, ch.needed.x100]).toEqual([100, 1000])
    // Detection per tier (default mix 80/15/5): basic 800K/s ÷ 100K, agile 150K/s ÷ 20K, robust 50K/s ÷ 50K.
    expect(get(plan.components, 'detectorBasic').needed.now).toBe(8)
    expect(get(plan.components, 'detectorAgile').needed.now).toBe(8)
    expect(get(plan.components, 'detectorRobust').needed.now).toBe(1)
    expect(get(plan.components, 'gpuNodes').needed.x100).toBe(13) // 100 robust pods ÷ 8 GPUs per node
  })

  it('utilization, runway to 70%/80% and the order-hardware flag follow the documents\' review model', () => {
    const input = parseCapacityInput(
      { current: { metricsPerSec: 1_000_000, totalMetrics: 600_000_000 }, growth: { monthlyPercent: 10 }, instances: { gateway: 20, clickhouseShards: 10 }, costs: { clickhouseShards: 2000 } },
      {},
      't',
    )
    const plan = planCapacity(input, [], [], new Date(0))
    const gw = get(plan.components, 'gateway')
    expect(gw.utilization).toBeCloseTo(0.5, 9) // 1M/s on 20 × 100K/s
    expect(gw.runwayMonths.toRunwayLimit).toBeCloseTo(4.9, 1) // 0.5 × 1.1^m = 0.8
    expect(gw.orderHardware).toBe(false)
    const ch = get(plan.components, 'clickhouseShards')
    expect(ch.utilization).toBeCloseTo(0.6, 9)
    expect(ch.runwayMonths.toScale).toBeCloseTo(1.6, 1) // 0.6 × 1.1^m = 0.7
    expect(ch.runwayMonths.toRunwayLimit).toBeCloseTo(3.0, 1)
    expect(ch.cost).toMatchObject({ perInstance: 2000, now: 20_000 })
    // Without instance counts there is a recommendation, but no verdict.
    const kp = get(plan.components, 'kafkaPartitions')
    expect(kp.instancesSource).toBe('recommended')
    expect(kp.orderHardware).toBe(false)
    expect(kp.action).toMatch(/^run \d+ now/)
  })

  it('orders hardware when the runway to 80% is under 3 months', () => {
    const input = parseCapacityInput({ current: { totalMetrics: 700_000_000 }, growth: { monthlyPercent: 5 }, instances: { clickhouseShards: 10 } }, {}, 't')
    const plan = planCapacity(input, [], [], new Date(0))
    expect(plan.actions.orderHardware).toEqual(['ClickHouse shards'])
    expect(plan.actions.scaleNow).toEqual([])
    expect(get(plan.components, 'clickhouseShards').action).toMatch(/^order now/)
  })

  it('writes scaling targets the scaffold command reads: HPA, KEDA, partitions, shards', () => {
    const input = parseCapacityInput({ current: { metricsPerSec: 800_000, spansPerSec: 150_000, logsPerSec: 50_000, totalMetrics: 1e9, queriesPerSec: 500 } }, {}, 't')
    const t = planCapacity(input, [], [], new Date(0)).targets
    expect(t).toMatchObject({ apiVersion: 'aiops.dev/v1', kind: 'ScalingTargets', horizonMonths: 12 })
    expect(t.gateway!.hpa).toEqual({ cpuUtilization: 70, memoryUtilization: 80, itemsPerSecondPerPod: 70_000 })
    // Sized for 12 months under the 70% trigger: ceil(1M/s ÷ (10K/s × 0.7)) = 143, split by signal share.
    expect(t.kafka!.partitions).toEqual({ traces: 22, metrics: 115, logs: 8, total: 145 })
    expect(t.consumer!.keda.lagThreshold).toBe(10_000)
    // 1B series need 10 shards (the formula) but 15 to stay under the 70% trigger, which is what to build.
    expect(t.clickhouse).toEqual({ shards: 15, replicasPerShard: 3 })
    expect(t.detector!.robust!.keda.threshold).toBe(1000)
    expect(serializeTargets(t, 'x.yaml')).toContain('apiVersion: aiops.dev/v1')
    expect(JSON.parse(serializeTargets(t, 'x.json')).kind).toBe('ScalingTargets')
  })

  it('bad input names the field', () => {
    expect(() => parseCapacityInput({ current: { metricsPerSec: 'lots' } }, {}, 'cap.yaml')).toThrow(ConfigError)
    try {
      parseCapacityInput({ curent: {} }, {}, 'cap.yaml')
    } catch (e) {
      expect((e as ConfigError).message).toContain('unknown key(s) curent')
    }
    try {
      parseCapacityInput({}, { 'growth.monthlyPercent': Number.NaN }, 'flags')
    } catch (e) {
      expect((e as ConfigError).field).toBe('growth.monthlyPercent')
    }
  })
})

describe('capacity from agents\' /metrics', () => {
  const text = `# HELP aiops_consumer_rows_inserted_total Rows stored, by table.
# TYPE aiops_consumer_rows_inserted_total counter
aiops_consumer_rows_inserted_total{table="spans"} 600000
aiops_consumer_rows_inserted_total{table="metric_points"} 1400000
aiops_process_cpu_seconds_total 40
aiops_process_start_time_seconds 1700000000
`
  it('parses Prometheus text and sums label sets', () => {
    expect(parsePrometheusText(text).get('aiops_consumer_rows_inserted_total')).toBe(2_000_000)
  })
  it('rows per CPU-second is the per-consumer capacity', () => {
    expect(measureFromMetrics(text, 'c.txt', 'consumer')).toMatchObject({ work: 2_000_000, cpuSeconds: 40, perCpuSecond: 50_000 })
    expect(() => measureFromMetrics(text, 'c.txt', 'gateway')).toThrow(/no work counter for gateway/)
  })
})
