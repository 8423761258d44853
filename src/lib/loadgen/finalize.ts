/** Turns a finished run (aggregator + workers' exact totals) into the LoadtestResult and its verdict. */
import { rates, toPoint, type Accumulator, type Aggregator } from './aggregate.js'
import { findKnee, soakDrift, spikeRecovery, type StepResult } from './analysis.js'
import { formatMs } from './duration.js'
import { createHistogram, encodeHistogram, logBuckets, mergeEncoded, summarize } from './hdr.js'
import type { TagCount, WorkerTotals } from './recorder.js'
import type { LoadtestResult, LoadtestSpec, WindowResult } from './result.js'
import type { ArrivalSchedule } from './schedule.js'
import { describeResult, evaluate, isRunMetric, type Measurement, type ThresholdResult } from './thresholds.js'

export function measurementOf(acc: Accumulator): Measurement {
  const r = rates(acc)
  return { latency: summarize(acc.hist), requests: acc.scheduled, errorRate: r.errorRate, dropRate: r.dropRate, rps: acc.seconds ? acc.completed / acc.seconds : 0 }
}

interface FinalizeInput {
  spec: LoadtestSpec
  agg: Aggregator
  totals: WorkerTotals[]
  cpuUs: number
  startedAt: Date
  aborted: { reason: string; atS: number } | null
  /** When the run was stopped before the end of its plan (stress knee, abort), seconds from the start. */
  stoppedAtS: number | null
  schedule: ArrivalSchedule
}

function sumRecords(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v
}

export function buildResult(f: FinalizeInput): LoadtestResult {
  const { spec, agg } = f
  const latencyHist = mergeEncoded(f.totals.map((t) => t.latency), createHistogram())
  const serviceHist = mergeEncoded(f.totals.map((t) => t.service), createHistogram())
  const c = { scheduled: 0, completed: 0, errors: 0, dropped: 0, bytes: 0, events: 0 }
  const statuses: Record<string, number> = {}
  const failures: Record<string, number> = {}
  const tags: Record<string, TagCount> = {}
  for (const t of f.totals) {
    c.scheduled += t.scheduled
    c.completed += t.completed
    c.errors += t.errors
    c.dropped += t.dropped
    c.bytes += t.bytes
    c.events += t.events
    sumRecords(statuses, t.statuses)
    sumRecords(failures, t.failures)
    for (const [k, v] of Object.entries(t.tags)) {
      const tag = (tags[k] ??= { completed: 0, errors: 0, events: 0 })
      tag.completed += v.completed
      tag.errors += v.errors
      tag.events += v.events
    }
  }
  // Rates are over the planned schedule (or up to the stop), not the drain after it.
  const durationS = Math.max(1, f.stoppedAtS === null ? spec.plan.durationS : Math.min(f.stoppedAtS, spec.plan.durationS))
  const { errorRate, dropRate } = rates(c)
  const latency = summarize(latencyHist)
  const timeline = agg.timeline.map((b) => toPoint(b, f.schedule.rateAt(b.second + b.widthS / 2)))
  const windows: WindowResult[] = spec.plan.windows.map((w, i) => {
    const acc = agg.windows[i]!
    const m = measurementOf(acc)
    return { name: w.name, kind: w.kind, fromS: w.fromS, toS: w.toS, rate: w.rate, requests: acc.scheduled, rps: m.rps, errorRate: m.errorRate, dropRate: m.dropRate, latency: m.latency }
  })
  const whole: Measurement = { latency, requests: c.scheduled, errorRate, dropRate, rps: c.completed / durationS }
  const live = spec.thresholds.filter((t) => !isRunMetric(t.metric))
  const runMetrics = spec.thresholds.filter((t) => isRunMetric(t.metric))
  const result: Partial<LoadtestResult> = {}
  let thresholds: ThresholdResult[]
  let failedLine: string | null = null

  switch (spec.plan.profile) {
    case 'stress': {
      const steps: StepResult[] = []
      for (const [i, w] of spec.plan.windows.entries()) {
        const acc = agg.windows[i]!
        if (acc.scheduled === 0) break
        const m = measurementOf(acc)
        const res = evaluate(live, m)
        const bad = res.filter((r) => !r.ok)
        steps.push({ name: w.name, rate: w.rate, achievedRps: m.rps, requests: acc.scheduled, errorRate: m.errorRate, dropRate: m.dropRate, p50: m.latency.p50, p95: m.latency.p95, p99: m.latency.p99, ok: bad.length === 0, breached: bad.map(describeResult), thresholds: res })
        if (bad.length > 0) break
      }
      const knee = findKnee(steps)
      result.stress = { steps, knee }
      const kneeStep = steps.find((s) => s.rate === knee.rate)
      thresholds = [...(kneeStep?.thresholds ?? []), ...evaluate(runMetrics, { ...whole, kneeRps: knee.rate })]
      if (knee.rate === null) failedLine = `no step met the thresholds: ${steps[0] ? `${steps[0].name} (${steps[0].rate}/s) breached ${steps[0].breached.join(', ')}` : 'nothing was measured'}`
      break
    }
    case 'spike': {
      const [before, spike] = [agg.windows[0]!, agg.windows[1]!]
      const rec = spikeRecovery(
        timeline,
        { spikeFromS: spec.plan.windows[1]!.fromS, spikeToS: spec.plan.windows[1]!.toS },
        { p99: summarize(before.hist).p99, errorRate: rates(before).errorRate },
        summarize(spike.hist).p99,
      )
      result.spike = { ...rec, multiplier: spec.plan.windows[0]!.rate ? spec.plan.windows[1]!.rate / spec.plan.windows[0]!.rate : 0 }
      thresholds = evaluate(spec.thresholds, { ...whole, recoveryS: rec.recoveryS })
      break
    }
    case 'soak': {
      const drift = soakDrift(windows.map((w) => ({ name: w.name, fromS: w.fromS, toS: w.toS, requests: w.requests, p50: w.latency.p50, p99: w.latency.p99, errorRate: w.errorRate })))
      result.soak = drift
      thresholds = evaluate(spec.thresholds, { ...whole, p99Drift: drift.p99Change })
      break
    }
    default:
      thresholds = evaluate(spec.thresholds, whole)
  }

  const breached = thresholds.filter((t) => !t.ok)
  const interrupted = f.aborted?.reason === 'interrupted'
  // --abort-on-fail stopped the run: it failed even if the shortened run's totals happen to pass.
  if (f.aborted && !interrupted && breached.length === 0) failedLine ??= `stopped early: ${f.aborted.reason}`
  const ok = !interrupted && breached.length === 0 && failedLine === null
  const verdict: LoadtestResult['verdict'] = interrupted ? 'aborted' : ok ? 'passed' : 'thresholds-breached'
  const head = `${ok ? 'PASSED' : interrupted ? 'ABORTED' : 'FAILED'} ${spec.plan.profile} ${spec.url}`
  const stats = `${c.completed} requests, ${whole.rps.toFixed(1)}/s, p50 ${formatMs(latency.p50)} p95 ${formatMs(latency.p95)} p99 ${formatMs(latency.p99)}, errors ${(errorRate * 100).toFixed(2)}%, dropped ${(dropRate * 100).toFixed(2)}%`
  const kneeText = result.stress ? `; knee ${result.stress.knee.rate ?? 'none'}${result.stress.knee.rate !== null ? '/s' : ''}` : ''
  const verdictText = failedLine ?? (breached.length ? `thresholds breached: ${breached.map(describeResult).join(', ')}` : `thresholds: ${thresholds.length}/${thresholds.length} met`)
  const summary = `${head}: ${stats}${kneeText}; ${interrupted ? 'interrupted' : verdictText}`

  const cpuS = f.cpuUs / 1e6
  const warnings: string[] = []
  if (c.dropped > 0) warnings.push(`${c.dropped} requests dropped: ${spec.maxInFlight} were already queued or in flight (loadtest.maxInFlight); the target, or this generator, could not keep up with the schedule`)
  if (cpuS > durationS * spec.workers * 0.9) warnings.push(`workers were CPU-bound (${cpuS.toFixed(1)} CPU-s in ${durationS}s on ${spec.workers} worker(s)): latencies include generator delay; add --workers or lower --rate`)

  return {
    ok,
    verdict,
    summary,
    target: { url: spec.url, kind: spec.kind, client: spec.client },
    profile: spec.plan.profile,
    plan: spec.plan,
    workers: spec.workers,
    seed: spec.seed,
    startedAt: f.startedAt.toISOString(),
    durationS,
    aborted: f.aborted,
    totals: { ...c, rps: whole.rps, eventsPerS: c.events / durationS, errorRate, dropRate, statuses, failures, tags },
    latency,
    serviceTime: summarize(serviceHist),
    histogram: { buckets: logBuckets(latencyHist), encoded: encodeHistogram(latencyHist) },
    timeline,
    thresholds,
    windows,
    ...result,
    eventsPerRequest: spec.kind === 'gateway' && c.completed > 0 ? c.events / c.completed : null,
    generator: { cpuS, requestsPerCpuS: cpuS > 0 ? c.completed / cpuS : null, warnings },
  }
}
