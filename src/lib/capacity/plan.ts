/**
 * The monthly capacity review of the design documents, computed: utilization now, months of runway until 70% (scale)
 * and 80% (the runway the documents count), instances needed now / in 12 months / at 1×, 10×, 100× today's load,
 * whether to scale now (> 70%) or order hardware (runway < 3 months), and cost when unit costs are given.
 */
import { describeComponents, type CapacitySource, type Skipped } from './components.js'
import { ORDER_LEAD_MONTHS, RUNWAY_AT, SCALE_AT } from './documents.js'
import { growthFactor, runwayMonths, type Growth } from './formulas.js'
import type { CapacityInput, ComponentKey } from './input.js'
import type { Measured } from './measure.js'
import { scalingTargets, type ScalingTargets } from './targets.js'

export interface ComponentPlan {
  key: ComponentKey
  label: string
  unit: string
  load: number
  capacityPerInstance: number
  capacitySource: CapacitySource
  instances: number
  /** `input`: what runs now, from the input; `recommended`: not given, so the plan assumes the recommended count. */
  instancesSource: 'input' | 'recommended'
  utilization: number
  runwayMonths: { toScale: number | null; toRunwayLimit: number | null }
  scaleNow: boolean
  orderHardware: boolean
  action: string
  needed: { now: number; recommendedNow: number; in12Months: number; x1: number; x10: number; x100: number }
  formula: string
  /** Utilization of the current instances month by month, for the runway chart. */
  projection: Array<{ month: number; utilization: number }>
  cost: { perInstance: number; now: number; in12Months: number; x1: number; x10: number; x100: number } | null
}

export interface CapacityResult {
  generatedAt: string
  growth: Growth & { monthlyPercent: number; horizonMonths: number; factorIn12Months: number }
  levels: { scaleAt: number; runwayAt: number; orderLeadMonths: number }
  components: ComponentPlan[]
  skipped: Skipped[]
  actions: { scaleNow: string[]; orderHardware: string[] }
  cost: { currency: string; now: number; in12Months: number; x1: number; x10: number; x100: number } | null
  measured: Measured[]
  notes: string[]
  targets: ScalingTargets
  reportPath?: string
  targetsPath?: string
}

export function planCapacity(input: CapacityInput, measured: Measured[], notes: string[], now = new Date()): CapacityResult {
  const growth: Growth = { monthly: input.growth.monthlyPercent / 100, newTenantsPerMonth: input.growth.newTenantsPerMonth, tenants: input.current.tenants }
  if (input.growth.newTenantsPerMonth > 0 && input.current.tenants <= 0) notes.push('growth.newTenantsPerMonth is ignored without current.tenants (the load of an average tenant is unknown)')
  const horizon = input.growth.horizonMonths
  const { components: descriptors, skipped } = describeComponents(input, measured)
  const components = descriptors.map((d): ComponentPlan => {
    const recommended = (k: number): number => {
      // Fewest instances that keep utilization at or under the 70% scale trigger.
      let n = Math.max(d.needed(k), 1)
      while (d.utilization(n, k) > SCALE_AT + 1e-12) n = Math.max(n + 1, Math.ceil(n * 1.01))
      return n
    }
    const given = input.instances[d.key]
    const instances = given ?? recommended(1)
    const at = (m: number): number => d.utilization(instances, growthFactor(m, growth))
    const toScale = runwayMonths(at, SCALE_AT)
    const toLimit = runwayMonths(at, RUNWAY_AT)
    const utilization = at(0)
    const g12 = growthFactor(12, growth)
    const needed = { now: d.needed(1), recommendedNow: recommended(1), in12Months: recommended(g12), x1: d.needed(1), x10: d.needed(10), x100: d.needed(100) }
    // Scale-now and order-hardware verdicts need the real instance count; without it the plan only recommends one.
    const known = given !== undefined
    const scaleNow = known && utilization > SCALE_AT
    const orderHardware = known && toLimit !== null && toLimit < ORDER_LEAD_MONTHS
    const unitCost = input.costs[d.key]
    const action = !known
      ? `run ${needed.recommendedNow} now, ${needed.in12Months} in 12 months (give instances.${d.key} for a runway verdict)`
      : orderHardware
        ? d.hardware
          ? `order now: ${toLimit} months until ${RUNWAY_AT * 100}% (< ${ORDER_LEAD_MONTHS} months lead time); plan ${needed.in12Months} for 12 months`
          : `raise capacity now (${toLimit} months to ${RUNWAY_AT * 100}%): autoscaler max and node pool for ${needed.in12Months}`
        : scaleNow
          ? `scale to ${needed.recommendedNow} (over the ${SCALE_AT * 100}% trigger)`
          : toScale === null
            ? `fine for ${horizon}+ months`
            : `ok: ${toScale} months until ${SCALE_AT * 100}%`
    return {
      key: d.key,
      label: d.label,
      unit: d.unit,
      load: d.load,
      capacityPerInstance: d.capacity,
      capacitySource: d.source,
      instances,
      instancesSource: given === undefined ? 'recommended' : 'input',
      utilization,
      runwayMonths: { toScale, toRunwayLimit: toLimit },
      scaleNow,
      orderHardware,
      action,
      needed,
      formula: d.formula,
      projection: Array.from({ length: horizon + 1 }, (_, m) => ({ month: m, utilization: at(m) })),
      cost:
        unitCost === undefined
          ? null
          : { perInstance: unitCost, now: unitCost * instances, in12Months: unitCost * needed.in12Months, x1: unitCost * needed.x1, x10: unitCost * needed.x10, x100: unitCost * needed.x100 },
    }
  })
  const costed = components.filter((c) => c.cost)
  const sum = (f: (c: NonNullable<ComponentPlan['cost']>) => number): number => costed.reduce((s, c) => s + f(c.cost!), 0)
  for (const c of components) {
    if (c.key === 'consumer') {
      const partitions = components.find((p) => p.key === 'kafkaPartitions')
      if (partitions && c.needed.in12Months > partitions.needed.in12Months) notes.push(`consumers needed in 12 months (${c.needed.in12Months}) exceed Kafka partitions (${partitions.needed.in12Months}): a group uses at most one consumer per partition; raise partitions`)
    }
    if (c.capacitySource.kind === 'assumed') notes.push(`${c.label}: per-instance capacity ${c.capacityPerInstance} ${c.unit} is an assumption; measure it (docs/capacity.md)`)
  }
  const result: Omit<CapacityResult, 'targets'> = {
    generatedAt: now.toISOString(),
    growth: { ...growth, monthlyPercent: input.growth.monthlyPercent, horizonMonths: horizon, factorIn12Months: growthFactor(12, growth) },
    levels: { scaleAt: SCALE_AT, runwayAt: RUNWAY_AT, orderLeadMonths: ORDER_LEAD_MONTHS },
    components,
    skipped,
    actions: { scaleNow: components.filter((c) => c.scaleNow).map((c) => c.label), orderHardware: components.filter((c) => c.orderHardware).map((c) => c.label) },
    cost: costed.length ? { currency: input.currency, now: sum((c) => c.now), in12Months: sum((c) => c.in12Months), x1: sum((c) => c.x1), x10: sum((c) => c.x10), x100: sum((c) => c.x100) } : null,
    measured,
    notes,
  }
  return { ...result, targets: scalingTargets(result, input) }
}
