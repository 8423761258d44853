/**
 * Which replicas may serve a query, by the age of the data it reads (the rule; the design document's
 * pseudocode keys on the range's duration instead, but a short window from last month lives on the cold tier, not
 * the hot one): a range starting within the last hour → hot replicas; within the last week → any replica; older, or
 * with no lower bound (a scan of all history) → cold replicas. A query reading no pipeline table → any replica.
 * When the chosen tier has no healthy replica the next ones are tried in order, so a tier outage degrades
 * latency, not availability.
 */
import type { TimeRange } from './time-range.js'

export type Tier = 'hot' | 'warm' | 'cold'
export type TierChoice = 'hot' | 'any' | 'cold'
export const TIERS: readonly Tier[] = ['hot', 'warm', 'cold']

const HOUR = 3_600_000
const WEEK = 7 * 24 * HOUR

export function chooseTier(range: TimeRange, nowMs: number): TierChoice {
  if (!range.readsData) return 'any'
  if (range.fromMs === undefined) return 'cold'
  const age = nowMs - range.fromMs
  if (age <= HOUR) return 'hot'
  if (age <= WEEK) return 'any'
  return 'cold'
}

/** Groups of tiers to try in order: the first group with a healthy replica serves the query. */
export function tierOrder(choice: TierChoice): Tier[][] {
  switch (choice) {
    case 'hot':
      return [['hot'], ['warm'], ['cold']]
    case 'cold':
      return [['cold'], ['warm'], ['hot']]
    default:
      return [['hot', 'warm', 'cold']]
  }
}
