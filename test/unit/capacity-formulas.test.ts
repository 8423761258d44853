/** The design documents' worked examples, reproduced by the capacity formulas. */
import { describe, expect, it } from 'vitest'
import { INGESTION_TABLE } from '../../src/lib/capacity/documents.js'
import { collectorsFor, detectorPodsFor, gpuNodesFor, growthFactor, partitionsFor, runwayMonths, shardsFor } from '../../src/lib/capacity/formulas.js'

describe('capacity formulas (design documents)', () => {
  it('num_shards = ceiling(total_metrics / 100M): 1B metrics → 10 shards', () => {
    expect(shardsFor(1_000_000_000)).toBe(10)
    expect(shardsFor(1_000_000_001)).toBe(11)
    expect(shardsFor(50_000_000)).toBe(1)
    // ~10 TB per shard: bytes can need more shards than series do.
    expect(shardsFor(1_000_000_000, 150e12)).toBe(15)
  })

  it.each(INGESTION_TABLE.map((r) => [r.scale, r.itemsPerSec, r.collectors, r.partitions] as const))(
    'ingestion table %s (%d/s): %d collectors, %d partitions',
    (_scale, rate, collectors, partitions) => {
      expect(collectorsFor(rate)).toBe(collectors)
      expect(partitionsFor(rate)).toBe(partitions)
    },
  )

  it('between rows the same per-unit figures apply, with pre-aggregation from 100M/s', () => {
    expect(collectorsFor(2_500_000)).toBe(25)
    expect(partitionsFor(2_500_000)).toBe(250)
    expect(collectorsFor(200_000_000)).toBe(1000)
    // A measured gateway at 40K items/s needs 25 for 1M/s.
    expect(collectorsFor(1_000_000, 40_000)).toBe(25)
  })

  it('detector pods per tier use the detection table maxima; robust pods fill 8-GPU nodes', () => {
    expect(detectorPodsFor(1_000_000, 'basic')).toBe(10)
    expect(detectorPodsFor(1_000_000, 'agile')).toBe(50)
    expect(detectorPodsFor(1_000_000, 'robust')).toBe(20)
    expect(detectorPodsFor(0, 'robust')).toBe(0)
    expect(gpuNodesFor(20)).toBe(3)
    expect(gpuNodesFor(16)).toBe(2)
  })

  it('growth compounds monthly and new tenants add the average tenant load', () => {
    expect(growthFactor(12, { monthly: 0.1, newTenantsPerMonth: 0, tenants: 100 })).toBeCloseTo(Math.pow(1.1, 12), 12)
    expect(growthFactor(10, { monthly: 0, newTenantsPerMonth: 5, tenants: 100 })).toBeCloseTo(1.5, 12)
  })

  it('runway: months until utilization reaches a level (0 if there, null if never within the horizon)', () => {
    const g = { monthly: 0.1, newTenantsPerMonth: 0, tenants: 0 }
    const at = (u0: number) => (m: number) => u0 * growthFactor(m, g)
    // 0.5 × 1.1^m = 0.8 → m = ln(1.6)/ln(1.1) = 4.93
    expect(runwayMonths(at(0.5), 0.8)).toBeCloseTo(Math.log(1.6) / Math.log(1.1), 0)
    expect(runwayMonths(at(0.85), 0.8)).toBe(0)
    expect(runwayMonths(at(0.5), 0.8, 3)).toBeNull()
    expect(runwayMonths(() => 0.5, 0.8)).toBeNull()
  })
})
