/**
 * The coordinator: starts the workers at one shared instant, merges their per-second snapshots, reports live
 * progress, stops a stress run at the first step that breaks a threshold (and any run early with --abort-on-fail),
 * then builds the result from the workers' exact totals.
 */
import { AiopsError } from '../errors.js'
import { Aggregator, rates, toPoint } from './aggregate.js'
import { buildResult, measurementOf } from './finalize.js'
import { summarize } from './hdr.js'
import type { LoadtestResult, LoadtestSpec, Progress } from './result.js'
import { ArrivalSchedule } from './schedule.js'
import { evaluate, isRunMetric } from './thresholds.js'
import type { WorkerTotals } from './recorder.js'
import type { WorkerMessage, WorkerSpec } from './worker.js'
import { inlineWorker, processWorker, type WorkerHandle } from './workers.js'

export interface RunHooks {
  onProgress?: (p: Progress) => void
  /** Aborting (Ctrl-C) stops the run; the result is returned with verdict `aborted`. */
  signal?: AbortSignal
  /** `inline` runs a single worker in this process; `process` always forks. Default: inline for one worker. */
  workerMode?: 'auto' | 'inline' | 'process'
}

export async function runLoadtest(spec: LoadtestSpec, hooks: RunHooks = {}): Promise<LoadtestResult> {
  const n = spec.workers
  const schedule = new ArrivalSchedule(spec.plan.stages)
  const agg = new Aggregator(n, spec.plan.windows)
  const totals: Array<WorkerTotals | undefined> = new Array<WorkerTotals | undefined>(n)
  let cpuUs = 0
  let failure: AiopsError | null = null
  let aborted: { reason: string; atS: number } | null = null
  let stopping: string | null = null
  let stoppedAtS: number | null = null
  const checkedWindows = new Set<number>()
  const liveThresholds = spec.thresholds.filter((t) => !isRunMetric(t.metric))
  let settle: () => void = () => {}
  const finished = new Promise<void>((resolve) => (settle = resolve))
  let remaining = n

  const stopAll = (reason: string): void => {
    if (stopping) return
    stopping = reason
    stoppedAtS = agg.finalBefore
    aborted = { reason, atS: agg.finalBefore }
    for (const h of handles) h.stop()
  }

  const onFinalSeconds = (): void => {
    const fresh = agg.advance()
    if (fresh.length === 0) return
    // Stress: judge each step once it is complete; the first failing step ends the run (its rate is past the knee).
    if (spec.plan.profile === 'stress') {
      spec.plan.windows.forEach((w, i) => {
        if (checkedWindows.has(i) || agg.finalBefore < Math.ceil(w.toS)) return
        checkedWindows.add(i)
        const results = evaluate(liveThresholds, measurementOf(agg.windows[i]!))
        const bad = results.filter((r) => !r.ok)
        if (bad.length > 0 && i < spec.plan.windows.length - 1) stopStress(`${w.name} (${w.rate}/s) breached ${bad.map((b) => b.expr).join(', ')}`)
      })
    }
    const live = evaluate(liveThresholds, measurementOf(agg.total))
    const breached = live.filter((r) => !r.ok).map((r) => r.expr)
    if (spec.abortOnFail && spec.plan.profile !== 'stress' && breached.length > 0 && agg.finalBefore >= spec.abortDelayS) {
      stopAll(`--abort-on-fail: ${breached.join(', ')} breached after ${agg.finalBefore}s`)
    }
    const lastBucket = fresh[fresh.length - 1]!
    const last = toPoint(lastBucket, schedule.rateAt(lastBucket.second + 0.5))
    const window = spec.plan.windows.find((w) => lastBucket.second + 0.5 >= w.fromS && lastBucket.second + 0.5 < w.toS)
    hooks.onProgress?.({
      elapsedS: agg.finalBefore,
      durationS: spec.plan.durationS,
      window: window?.name ?? null,
      targetRps: last.targetRps,
      last,
      totals: { requests: agg.total.scheduled, errors: agg.total.errors, dropped: agg.total.dropped, ...rates(agg.total), latency: summarize(agg.total.hist) },
      breached,
      stopping,
    })
  }
  // A stress run that reached its knee is not "aborted": stopping there is the profile working as designed.
  const stopStress = (reason: string): void => {
    if (stopping) return
    stopping = reason
    stoppedAtS = agg.finalBefore
    for (const h of handles) h.stop()
  }

  const onMessage = (m: WorkerMessage): void => {
    switch (m.type) {
      case 'intervals':
        agg.add(m.worker, m.snaps, m.closedBefore)
        onFinalSeconds()
        return
      case 'done':
        totals[m.worker] = m.totals
        cpuUs += m.cpuUs
        agg.finish(m.worker)
        onFinalSeconds()
        break
      case 'error':
        failure ??= new AiopsError(`load generator worker ${m.worker} failed: ${m.message}`, {
          code: m.code ?? 'AIOPS_LOADTEST_WORKER',
          suggestions: m.suggestions ?? [],
        })
        agg.finish(m.worker)
        for (const h of handles) h.stop()
        break
      default:
        return
    }
    if (--remaining === 0) settle()
  }

  const mode = hooks.workerMode ?? 'auto'
  const inline = mode === 'inline' || (mode === 'auto' && n === 1)
  if (inline && n !== 1) throw new AiopsError('inline mode runs exactly one worker')
  const handles: WorkerHandle[] = Array.from({ length: n }, (_, i) => (inline ? inlineWorker(onMessage) : processWorker(i, onMessage)))
  const onAbort = (): void => stopAll('interrupted')
  hooks.signal?.addEventListener('abort', onAbort, { once: true })
  const startedAt = new Date()
  try {
    await Promise.all(handles.map((h) => h.ready))
    // Every worker converts this wall-clock instant to its own monotonic clock: one schedule, one start.
    const startAtEpochMs = Date.now() + (inline ? 20 : 200)
    handles.forEach((h, i) => h.start(workerSpec(spec, i, startAtEpochMs)))
    await finished
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort)
    for (const h of handles) h.kill()
  }
  if (failure) throw failure
  return buildResult({
    spec,
    agg,
    totals: totals.filter((t): t is WorkerTotals => t !== undefined),
    cpuUs,
    startedAt,
    aborted,
    stoppedAtS,
    schedule,
  })
}

function workerSpec(spec: LoadtestSpec, i: number, startAtEpochMs: number): WorkerSpec {
  const share = (x: number): number => Math.max(1, Math.ceil(x / spec.workers))
  return {
    stages: spec.plan.stages,
    workerIndex: i,
    workerCount: spec.workers,
    startAtEpochMs,
    target: spec.target,
    address: spec.address,
    client: spec.client,
    slots: share(spec.connections),
    maxInFlight: Math.max(share(spec.maxInFlight), share(spec.connections)),
    timeoutMs: spec.timeoutMs,
    seed: spec.seed,
    timing: spec.timing,
  }
}
