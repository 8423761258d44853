/**
 * The capacity planning input: a YAML or JSON file (see docs/capacity.md) merged with flags (flags win). Every
 * validation error names the field path in the file and the expected value.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import YAML from 'yaml'
import { z } from 'zod'
import { ConfigError, UsageError } from '../errors.js'

const count = z.number().finite().nonnegative()
const positive = z.number().finite().positive()

export const COMPONENT_KEYS = [
  'gateway', 'kafkaPartitions', 'consumer', 'clickhouseShards', 'detectorBasic', 'detectorAgile', 'detectorRobust', 'gpuNodes', 'router', 'redis',
] as const
export type ComponentKey = (typeof COMPONENT_KEYS)[number]

const perComponent = <T extends z.ZodTypeAny>(t: T) => z.object(Object.fromEntries(COMPONENT_KEYS.map((k) => [k, t.optional()])) as Record<ComponentKey, z.ZodOptional<T>>).strict()

const measuredComponent = z.enum(['gateway', 'consumer', 'router', 'detectorBasic', 'detectorAgile', 'detectorRobust'])

export const capacityInputSchema = z
  .object({
    current: z
      .object({
        metricsPerSec: count.default(0),
        spansPerSec: count.default(0),
        logsPerSec: count.default(0),
        hosts: count.default(0),
        services: count.default(0),
        tenants: count.default(0),
        queriesPerSec: count.default(0),
        storedBytes: count.default(0),
        totalMetrics: count.default(0),
      })
      .strict()
      .default({}),
    growth: z
      .object({ monthlyPercent: z.number().finite().min(-100).default(0), newTenantsPerMonth: count.default(0), horizonMonths: z.number().int().min(1).max(240).default(24) })
      .strict()
      .default({}),
    instances: perComponent(count).default({}),
    capacity: perComponent(positive).default({}),
    costs: perComponent(count).default({}),
    detectorMix: z.object({ basic: count, agile: count, robust: count }).strict().optional(),
    cacheOpsPerQuery: positive.optional(),
    gpusPerNode: z.number().int().positive().optional(),
    coresPerInstance: positive.default(1),
    currency: z.string().default('USD'),
    measurements: z
      .object({
        loadtests: z.array(z.union([z.string(), z.object({ file: z.string(), component: measuredComponent.optional() }).strict()])).default([]),
        metrics: z.array(z.union([z.string(), z.object({ source: z.string(), component: measuredComponent, counter: z.string().optional() }).strict()])).default([]),
      })
      .strict()
      .default({}),
  })
  .strict()

export type CapacityInput = z.infer<typeof capacityInputSchema>

function zodToConfigError(err: z.ZodError, where: string): ConfigError {
  const issue = err.issues[0]!
  const field = issue.path.join('.') || '(top level)'
  const hint =
    issue.code === 'unrecognized_keys'
      ? `unknown key(s) ${issue.keys.join(', ')}`
      : issue.code === 'invalid_type'
        ? `expected ${issue.expected}, got ${issue.received}`
        : issue.message
  return new ConfigError(field, `${where}: ${field}: ${hint}`, {
    details: { issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    suggestions: ['see docs/capacity.md for the input format; `aiops capacity --help` lists the flags'],
  })
}

export async function readCapacityFile(file: string, cwd = process.cwd()): Promise<{ raw: unknown; dir: string }> {
  const full = path.resolve(cwd, file)
  const text = await readFile(full, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`capacity input ${file} cannot be read: ${err.code ?? err.message}`, { suggestions: ['check --input PATH (capacity.input)'] })
  })
  try {
    return { raw: YAML.parse(text) ?? {}, dir: path.dirname(full) }
  } catch (err) {
    throw new UsageError(`capacity input ${file} is not valid YAML or JSON: ${(err as Error).message}`, { suggestions: ['fix the file syntax; docs/capacity.md has an example'] })
  }
}

/** Deep-merges flag values over the file's (flags win), then validates. */
export function parseCapacityInput(raw: unknown, overrides: Record<string, unknown>, where: string): CapacityInput {
  const merged = structuredClone((raw ?? {}) as Record<string, unknown>)
  for (const [dotted, value] of Object.entries(overrides)) {
    if (value === undefined) continue
    const parts = dotted.split('.')
    let node = merged
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>
    const last = parts.at(-1)!
    node[last] = Array.isArray(value) && Array.isArray(node[last]) ? [...(node[last] as unknown[]), ...value] : value
  }
  const parsed = capacityInputSchema.safeParse(merged)
  if (!parsed.success) throw zodToConfigError(parsed.error, where)
  return parsed.data
}
