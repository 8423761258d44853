/**
 * Measured per-instance throughput from `aiops loadtest --json` results and agents' /metrics:
 * - a stress result's knee (highest rate that met every threshold) is the instance's capacity: requests/s, times
 *   telemetry items per request for the gateway;
 * - a passed baseline only shows capacity is at least its rate (a lower bound, used when nothing better exists);
 * - /metrics: work counter ÷ CPU seconds × cores per instance.
 * Several measurements of one component: exact ones beat lower bounds, and among equals the lowest wins (plan for
 * the worst instance, not the best).
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { UsageError } from '../errors.js'
import type { CapacityInput, ComponentKey } from './input.js'
import { measureFromMetrics, readMetricsSource, type MeasuredComponent } from './prometheus.js'

export interface Measured {
  component: ComponentKey
  perInstance: number
  source: string
  detail: string
  lowerBound: boolean
}

const loadtestShape = z
  .object({
    ok: z.boolean(),
    profile: z.string(),
    target: z.object({ kind: z.enum(['gateway', 'router', 'http']), url: z.string() }),
    totals: z.object({ rps: z.number() }).passthrough(),
    eventsPerRequest: z.number().nullable().optional(),
    stress: z.object({ knee: z.object({ rate: z.number().nullable(), achievedRps: z.number().nullable() }).passthrough() }).passthrough().optional(),
  })
  .passthrough()

export function measureFromLoadtest(json: unknown, source: string, component?: MeasuredComponent): Measured | { skipped: string } {
  const parsed = loadtestShape.safeParse(json)
  if (!parsed.success) {
    throw new UsageError(`${source} is not an \`aiops loadtest --json\` result (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`, {
      suggestions: ['save a run with `aiops loadtest --json > result.json` and pass that file'],
    })
  }
  const r = parsed.data
  const target: MeasuredComponent | undefined = component ?? (r.target.kind === 'gateway' ? 'gateway' : r.target.kind === 'router' ? 'router' : undefined)
  if (!target) return { skipped: `${source}: a plain http loadtest; say which component it measured ({file, component})` }
  let rps: number | null
  let lowerBound: boolean
  let how: string
  if (r.stress) {
    rps = r.stress.knee.achievedRps
    lowerBound = false
    how = `stress knee ${r.stress.knee.rate ?? 'none'}/s`
    if (rps === null) return { skipped: `${source}: the stress run found no passing step, so no capacity` }
  } else if (r.ok) {
    rps = r.totals.rps
    lowerBound = true
    how = `${r.profile} passed at ${rps.toFixed(1)}/s (a lower bound)`
  } else return { skipped: `${source}: the ${r.profile} run breached its thresholds, so its rate is not a capacity` }
  const perRequest = target === 'gateway' ? (r.eventsPerRequest ?? null) : 1
  if (perRequest === null) return { skipped: `${source}: no eventsPerRequest in the result` }
  return { component: target, perInstance: rps * perRequest, source, detail: `${how}${target === 'gateway' ? ` × ${perRequest.toFixed(1)} items/request` : ''}`, lowerBound }
}

export async function gatherMeasurements(input: CapacityInput, baseDir: string): Promise<{ measured: Measured[]; notes: string[] }> {
  const found: Measured[] = []
  const notes: string[] = []
  for (const entry of input.measurements.loadtests) {
    const file = typeof entry === 'string' ? entry : entry.file
    const full = path.resolve(baseDir, file)
    const text = await readFile(full, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read loadtest result ${file}: ${err.code ?? err.message}`, { suggestions: ['check measurements.loadtests (or --loadtest)'] })
    })
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new UsageError(`${file} is not JSON`, { suggestions: ['save the result with `aiops loadtest --json > result.json`'] })
    }
    const m = measureFromLoadtest(json, file, typeof entry === 'string' ? undefined : entry.component)
    if ('skipped' in m) notes.push(m.skipped)
    else found.push(m)
  }
  for (const entry of input.measurements.metrics) {
    const spec = typeof entry === 'string' ? null : entry
    if (!spec) {
      notes.push(`${entry}: say which component these metrics are from ({source, component})`)
      continue
    }
    const source = /^https?:\/\//.test(spec.source) ? spec.source : path.resolve(baseDir, spec.source)
    const m = measureFromMetrics(await readMetricsSource(source), spec.source, spec.component, spec.counter)
    found.push({
      component: m.component,
      perInstance: m.perCpuSecond * input.coresPerInstance,
      source: spec.source,
      detail: `${m.counters.join('+')} ${m.work.toFixed(0)} over ${m.cpuSeconds.toFixed(1)} CPU-s × ${input.coresPerInstance} core(s)`,
      lowerBound: false,
    })
  }
  return { measured: best(found), notes }
}

function best(all: Measured[]): Measured[] {
  const by = new Map<ComponentKey, Measured>()
  for (const m of all) {
    const cur = by.get(m.component)
    if (!cur || (cur.lowerBound && !m.lowerBound) || (cur.lowerBound === m.lowerBound && m.perInstance < cur.perInstance)) by.set(m.component, m)
  }
  return [...by.values()]
}
