/**
 * Which tier scores a series, and which static rules apply to it, from two config lists:
 *   detector.tiers:  "[tenant/]metricGlob=basic|agile|robust"   (first match wins; otherwise detector.defaultTier)
 *   detector.rules:  "[tenant/]metricGlob>N" (also >=, <, <=)     (every matching rule is checked)
 * Globs: `*` is any run of characters, `?` one character; the tenant part is everything before the first `/`
 * (absent: every tenant). Entries are parsed once at start; a bad entry is a ConfigError that names the
 * field, the entry and the accepted form, so the agent refuses to start rather than silently ignoring it.
 */
import { ConfigError } from '../errors.js'
import { TIER_NAMES, type TierName } from './types.js'

export interface SeriesMatcher {
  tenant?: RegExp
  metric: RegExp
  source: string
}

export interface TierRoute extends SeriesMatcher {
  tier: TierName
}

export type RuleOp = '>' | '>=' | '<' | '<='

export interface StaticRule extends SeriesMatcher {
  op: RuleOp
  threshold: number
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

function matcher(pattern: string): Omit<SeriesMatcher, 'source'> | undefined {
  const slash = pattern.indexOf('/')
  const tenant = slash >= 0 ? pattern.slice(0, slash) : undefined
  const metric = slash >= 0 ? pattern.slice(slash + 1) : pattern
  if (metric === '' || tenant === '') return undefined
  return { ...(tenant !== undefined ? { tenant: globToRegExp(tenant) } : {}), metric: globToRegExp(metric) }
}

export function parseTierRoutes(entries: readonly string[], field = 'detector.tiers'): TierRoute[] {
  return entries.map((entry) => {
    const eq = entry.lastIndexOf('=')
    const tier = entry.slice(eq + 1).trim() as TierName
    const m = eq > 0 ? matcher(entry.slice(0, eq).trim()) : undefined
    if (!m || !TIER_NAMES.includes(tier)) {
      throw new ConfigError(field, `${field}: ${JSON.stringify(entry)} is not "[tenant/]metricGlob=tier"`, {
        details: { entry, accepted: `[tenant/]metricGlob=${TIER_NAMES.join('|')}` },
        suggestions: [`write entries like "acme/http.server.*=robust" or "*.latency=agile" (tiers: ${TIER_NAMES.join(', ')})`],
      })
    }
    return { ...m, tier, source: entry }
  })
}

const RULE = /^([^<>=]+?)\s*(>=|<=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/

export function parseRules(entries: readonly string[], field = 'detector.rules'): StaticRule[] {
  return entries.map((entry) => {
    const r = RULE.exec(entry.trim())
    const m = r ? matcher(r[1]!.trim()) : undefined
    if (!r || !m) {
      throw new ConfigError(field, `${field}: ${JSON.stringify(entry)} is not "[tenant/]metricGlob>number" (or >=, <, <=)`, {
        details: { entry, accepted: '[tenant/]metricGlob(>|>=|<|<=)number' },
        suggestions: ['write entries like "http.server.errors>10" or "acme/queue.depth>=5000"'],
      })
    }
    return { ...m, op: r[2] as RuleOp, threshold: Number(r[3]), source: entry }
  })
}

export function matches(m: SeriesMatcher, tenant: string, metric: string): boolean {
  return (m.tenant === undefined || m.tenant.test(tenant)) && m.metric.test(metric)
}

export function tierFor(routes: readonly TierRoute[], fallback: TierName, tenant: string, metric: string): TierName {
  for (const r of routes) if (matches(r, tenant, metric)) return r.tier
  return fallback
}

export function rulesFor(rules: readonly StaticRule[], tenant: string, metric: string): StaticRule[] {
  return rules.filter((r) => matches(r, tenant, metric))
}

export function breaches(rule: StaticRule, value: number): boolean {
  switch (rule.op) {
    case '>':
      return value > rule.threshold
    case '>=':
      return value >= rule.threshold
    case '<':
      return value < rule.threshold
    case '<=':
      return value <= rule.threshold
  }
}
