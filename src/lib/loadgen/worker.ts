/**
 * One load-generating worker: builds its request source and transport, runs the engine on its share of the
 * schedule, and reports through `emit`. The same function runs in a forked process (worker-main.ts) or, for a
 * single worker, in the CLI process itself.
 */
import { preciseClock, runEngine, type Timing } from './engine.js'
import type { IntervalSnapshot, WorkerTotals } from './recorder.js'
import type { Stage } from './schedule.js'
import { createRequestSource, type TargetSpec } from './targets/index.js'
import { createTransport, type TargetAddress, type TransportName } from './transport/index.js'

export interface WorkerSpec {
  stages: Stage[]
  workerIndex: number
  workerCount: number
  /** Wall-clock start shared by all workers (epoch ms), converted to each worker's monotonic clock. */
  startAtEpochMs: number
  target: TargetSpec
  address: TargetAddress
  client: TransportName
  slots: number
  maxInFlight: number
  timeoutMs: number
  seed: number
  timing: Timing
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'intervals'; worker: number; snaps: IntervalSnapshot[]; closedBefore: number }
  | { type: 'done'; worker: number; totals: WorkerTotals; cpuUs: number }
  | { type: 'error'; worker: number; message: string; code?: string; suggestions?: string[] }

export async function runWorker(spec: WorkerSpec, emit: (m: WorkerMessage) => void, signal?: AbortSignal): Promise<void> {
  const cpu0 = process.cpuUsage()
  const requests = await createRequestSource(spec.target, spec.seed + spec.workerIndex)
  const startAt = preciseClock.now() + (spec.startAtEpochMs - Date.now())
  const totals = await runEngine({
    stages: spec.stages,
    workerIndex: spec.workerIndex,
    workerCount: spec.workerCount,
    startAt,
    clock: preciseClock,
    transport: createTransport(spec.client, spec.address, spec.slots),
    slots: spec.slots,
    maxInFlight: spec.maxInFlight,
    timeoutMs: spec.timeoutMs,
    timing: spec.timing,
    requests,
    signal,
    onIntervals: (snaps) => {
      const closedBefore = Math.floor((preciseClock.now() - startAt) / 1000)
      emit({ type: 'intervals', worker: spec.workerIndex, snaps, closedBefore })
    },
  })
  const cpu = process.cpuUsage(cpu0)
  emit({ type: 'done', worker: spec.workerIndex, totals, cpuUs: cpu.user + cpu.system })
}
