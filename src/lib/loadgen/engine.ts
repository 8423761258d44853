/**
 * One worker's open-model loop: walk the global arrival schedule, take every `workerCount`-th request, hand each to
 * the dispatcher when it is due (or count it dropped), ship per-second snapshots, then wait for stragglers.
 * Time comes from an injected clock so the scheduling arithmetic is unit-tested without real timers.
 */
import { performance } from 'node:perf_hooks'
import { setImmediate as immediate, setTimeout as sleepMs } from 'node:timers/promises'
import { Dispatcher } from './dispatcher.js'
import { Recorder, type IntervalSnapshot, type WorkerTotals } from './recorder.js'
import { ArrivalSchedule, type Stage } from './schedule.js'
import type { PreparedRequest, Transport } from './transport/types.js'

export interface LoopClock {
  /** Monotonic milliseconds. */
  now(): number
  /** Waits about `ms` (may wake early: the loop re-checks the time). `precise` asks for sub-millisecond wake-ups. */
  sleep(ms: number, precise?: boolean): Promise<void>
}

/**
 * The real clock: performance.now(), and a sleep on libuv's millisecond timers. A timer fires up to ~1 ms late, and
 * at low rates that lateness would be reported as target latency (a 0.1 ms service would read 0.6 ms), so precise
 * sleeps wake 1 ms early and spin on setImmediate (which still lets socket I/O run) for the rest. Spinning costs CPU
 * in proportion to the request rate, so the engine only asks for it at low per-worker rates (PRECISE_MAX_RATE).
 */
export const preciseClock: LoopClock = {
  now: () => performance.now(),
  sleep: (ms, precise = false) => {
    if (!precise) return sleepMs(Math.max(1, Math.floor(ms))).then(() => undefined)
    return (ms > 1.5 ? sleepMs(Math.floor(ms - 1)) : immediate()).then(() => undefined)
  },
}

/** Per-worker arrival rate (requests/s) up to which waits are precise: spinning ≤ ~1 ms of every 5 ms (≤ 20% CPU). */
export const PRECISE_MAX_RATE = 200

export interface RequestSource {
  next(): PreparedRequest
}

export interface EngineOptions {
  stages: readonly Stage[]
  workerIndex: number
  workerCount: number
  /** The run start on `clock`, ms. */
  startAt: number
  clock: LoopClock
  transport: Transport
  slots: number
  maxInFlight: number
  timeoutMs: number
  requests: RequestSource
  onIntervals: (snaps: IntervalSnapshot[]) => void
  /** Aborting stops scheduling; requests on the wire still complete (queued ones are dropped). */
  signal?: AbortSignal
  /** How often closed seconds are shipped and timeouts swept, ms. */
  tickMs?: number
  timing?: Timing
}

export type Timing = 'auto' | 'precise' | 'coarse'

/** Submissions between yields to the event loop when catching up, so responses keep flowing during a burst. */
const BURST = 32

export async function runEngine(o: EngineOptions): Promise<WorkerTotals> {
  const schedule = new ArrivalSchedule(o.stages)
  const recorder = new Recorder(o.startAt)
  const dispatcher = new Dispatcher({
    transport: o.transport,
    slots: o.slots,
    maxInFlight: o.maxInFlight,
    timeoutMs: o.timeoutMs,
    now: () => o.clock.now(),
    onComplete: (c) => recorder.complete(c),
  })
  const tickMs = o.tickMs ?? 100
  let nextTick = o.clock.now() + tickMs
  const tick = (now: number): void => {
    if (now < nextTick) return
    nextTick = now + tickMs
    dispatcher.sweepTimeouts()
    const snaps = recorder.flush(now)
    if (snaps.length > 0) o.onIntervals(snaps)
  }

  let k = o.workerIndex
  let dueS = schedule.timeOf(k)
  let next: PreparedRequest | null = dueS === null ? null : o.requests.next()
  let burst = 0
  const timing = o.timing ?? 'auto'
  while (next && dueS !== null && !o.signal?.aborted) {
    const dueAt = o.startAt + dueS * 1000
    const now = o.clock.now()
    tick(now)
    if (dueAt > now) {
      burst = 0
      // Wake at least every tick so snapshots flow and timeouts fire even at one request a minute.
      const precise = timing === 'precise' || (timing === 'auto' && schedule.rateAt(dueS) / o.workerCount <= PRECISE_MAX_RATE)
      await o.clock.sleep(Math.min(dueAt - now, tickMs), precise)
      continue
    }
    const sent = dispatcher.submit(next, dueAt)
    recorder.scheduled(dueAt, !sent)
    k += o.workerCount
    dueS = schedule.timeOf(k)
    // Build the following request now, before it is due, so payload generation is not measured as latency.
    if (sent && dueS !== null) next = o.requests.next()
    if (++burst >= BURST) {
      burst = 0
      await immediate()
    }
  }

  if (o.signal?.aborted) recorder.droppedLate(dispatcher.queued, o.clock.now())
  if (o.signal?.aborted) dispatcher.discardQueue()
  // Drain: requests on the wire finish or time out (the sweep aborts them), then the last seconds are shipped.
  let drained = false
  void dispatcher.idle().then(() => (drained = true))
  while (!drained) {
    tick(o.clock.now())
    await o.clock.sleep(tickMs)
  }
  o.transport.close()
  const last = recorder.flush(o.clock.now(), true)
  if (last.length > 0) o.onIntervals(last)
  return recorder.result()
}
