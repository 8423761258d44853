/**
 * Reading agents' /metrics (Prometheus text exposition) for capacity: per-instance throughput is a work counter
 * divided by the process's CPU seconds — items handled per CPU-second, i.e. what one busy core sustains. One scrape
 * suffices (both are totals since the process started); an idle agent's background CPU only makes it conservative.
 */
import { readFile } from 'node:fs/promises'
import { UsageError } from '../errors.js'

/** Metric name → sum over all its label sets. */
export function parsePrometheusText(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const v = Number(m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : m[3])
    if (!Number.isFinite(v)) continue
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + v)
  }
  return out
}

export type MeasuredComponent = 'gateway' | 'consumer' | 'router' | 'detectorBasic' | 'detectorAgile' | 'detectorRobust'

/** Work counters per component, first match wins; an input entry can name its own counter instead. */
export const WORK_COUNTERS: Record<MeasuredComponent, RegExp> = {
  gateway: /^aiops_gateway_items_accepted_total$/,
  consumer: /^aiops_consumer_rows_inserted_total$/,
  router: /^aiops_router_(queries|requests)_total$/,
  detectorBasic: /^aiops_detector_(points|series|samples)_(scored|processed)_total$/,
  detectorAgile: /^aiops_detector_(points|series|samples)_(scored|processed)_total$/,
  detectorRobust: /^aiops_detector_(points|series|samples)_(scored|processed)_total$/,
}
export const CPU_COUNTER = /^(aiops_)?process_cpu_seconds_total$/

export interface MetricsMeasurement {
  component: MeasuredComponent
  source: string
  counters: string[]
  work: number
  cpuSeconds: number
  /** Work items per CPU-second: the per-instance capacity of a one-core instance. */
  perCpuSecond: number
}

export async function readMetricsSource(source: string): Promise<string> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
      throw new UsageError(`cannot scrape ${source}: ${err.message}`, { suggestions: ['check the agent is running and its telemetry port (telemetry.port)'] })
    })
    if (!res.ok) throw new UsageError(`scraping ${source} returned HTTP ${res.status}`, { suggestions: ['point at an agent\'s /metrics endpoint'] })
    return res.text()
  }
  return readFile(source, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read metrics file ${source}: ${err.code ?? err.message}`, { suggestions: ['save an agent\'s /metrics output to a file, or give its URL'] })
  })
}

export function measureFromMetrics(text: string, source: string, component: MeasuredComponent, counter?: string): MetricsMeasurement {
  const metrics = parsePrometheusText(text)
  const names = [...metrics.keys()]
  const counters = counter ? names.filter((n) => n === counter) : names.filter((n) => WORK_COUNTERS[component].test(n))
  const cpuName = names.find((n) => CPU_COUNTER.test(n))
  if (counters.length === 0) {
    throw new UsageError(`${source}: no ${counter ?? `work counter for ${component}`} in the metrics`, {
      suggestions: [`name the counter in the input: measurements.metrics: [{source: ${source}, component: ${component}, counter: <name>_total}]`],
    })
  }
  if (!cpuName) throw new UsageError(`${source}: no process_cpu_seconds_total in the metrics`, { suggestions: ['scrape an aiops agent (it exports aiops_process_cpu_seconds_total)'] })
  const work = counters.reduce((s, n) => s + metrics.get(n)!, 0)
  const cpuSeconds = metrics.get(cpuName)!
  if (!(cpuSeconds > 0)) throw new UsageError(`${source}: process CPU time is 0; nothing to divide by`, { suggestions: ['scrape the agent after it has handled some load'] })
  return { component, source, counters, work, cpuSeconds, perCpuSecond: work / cpuSeconds }
}
