/**
 * The engine's scheduling and measurement with an injected clock. The transport here answers after delays on the
 * same manual clock: it stands in for the network so the arithmetic (when requests are sent, what latency is
 * recorded, what is dropped) can be checked exactly; test/integration/loadtest-*.test.ts runs the real sockets.
 */
import { describe, expect, it } from 'vitest'
import { runEngine } from '../../src/lib/loadgen/engine.js'
import { decodeHistogram, summarize } from '../../src/lib/loadgen/hdr.js'
import type { IntervalSnapshot, WorkerTotals } from '../../src/lib/loadgen/recorder.js'
import type { Stage } from '../../src/lib/loadgen/schedule.js'
import type { PreparedRequest, SendCallback, Transport } from '../../src/lib/loadgen/transport/types.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'

class ClockTransport implements Transport {
  readonly name = 'raw' as const
  readonly sentAt: number[] = []
  constructor(
    private readonly clock: ManualClock,
    private readonly delayMs: (n: number) => number,
  ) {}
  send(_slot: number, _req: PreparedRequest, cb: SendCallback): void {
    const n = this.sentAt.length
    this.sentAt.push(this.clock.now())
    void this.clock.sleep(this.delayMs(n)).then(() => cb(200, 2))
  }
  abort(): void {}
  close(): void {}
}

const req: PreparedRequest = { method: 'GET', path: '/', headers: {}, tag: 'GET', events: 0 }

async function run(opts: { stages: Stage[]; delay: (n: number) => number; slots: number; maxInFlight: number; workerIndex?: number; workerCount?: number }) {
  const clock = new ManualClock(1_000)
  const transport = new ClockTransport(clock, opts.delay)
  const snaps: IntervalSnapshot[] = []
  let totals: WorkerTotals | undefined
  const done = runEngine({
    stages: opts.stages,
    workerIndex: opts.workerIndex ?? 0,
    workerCount: opts.workerCount ?? 1,
    startAt: 1_000,
    clock: { now: () => clock.now(), sleep: (ms) => clock.sleep(ms) },
    transport,
    slots: opts.slots,
    maxInFlight: opts.maxInFlight,
    timeoutMs: 60_000,
    requests: { next: () => req },
    onIntervals: (s) => snaps.push(...s),
  }).then((t) => (totals = t))
  for (let i = 0; i < 10_000 && !totals; i++) await clock.advance(5)
  await done
  return { totals: totals!, transport, snaps }
}

describe('open-model engine', () => {
  it('sends at the scheduled times whatever the responses do', async () => {
    const { totals, transport } = await run({ stages: [{ rate: 10, durationS: 1, rampS: 0 }], delay: () => 5, slots: 4, maxInFlight: 100 })
    expect(totals.scheduled).toBe(10)
    expect(totals.completed).toBe(10)
    expect(transport.sentAt.map((t) => t - 1_000)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900])
    const lat = summarize(decodeHistogram(totals.latency))
    expect(lat.p50).toBeCloseTo(5, 1)
    expect(lat.max).toBeCloseTo(5, 1)
  })

  it('counts latency from the scheduled time: a stall shows in latency but not in service time', async () => {
    // One connection; the first response takes 1 s, the rest 1 ms. Requests due meanwhile wait in the queue.
    const { totals, transport } = await run({ stages: [{ rate: 10, durationS: 1, rampS: 0 }], delay: (n) => (n === 0 ? 1000 : 1), slots: 1, maxInFlight: 100 })
    expect(totals.completed).toBe(10)
    // The queued requests go out back to back once the connection frees up at t = 1000.
    expect(transport.sentAt.slice(1).map((t) => t - 1_000)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008])
    const latency = summarize(decodeHistogram(totals.latency))
    const service = summarize(decodeHistogram(totals.service))
    // Request k (due at 100k ms) completes at 1000 + k ms: latency 1000 − 99k ms; the median of the ten is ~560 ms.
    expect(latency.max!).toBeCloseTo(1000, -1)
    expect(latency.p50!).toBeGreaterThan(500)
    // A closed-model view (from the actual send) sees one slow request and nine 1 ms ones.
    expect(service.p50!).toBeCloseTo(1, 1)
    expect(service.p90!).toBeCloseTo(1, 1)
  })

  it('drops (and counts) requests once maxInFlight are queued or on the wire', async () => {
    const { totals, transport } = await run({ stages: [{ rate: 10, durationS: 1, rampS: 0 }], delay: (n) => (n === 0 ? 1000 : 1), slots: 1, maxInFlight: 3 })
    // Due at 0 (sent), 100 and 200 (queued), 300…900 found 3 in flight: dropped.
    expect(totals.scheduled).toBe(10)
    expect(totals.dropped).toBe(7)
    expect(totals.completed).toBe(3)
    expect(transport.sentAt).toHaveLength(3)
  })

  it('per-second snapshots add up to the totals and are attributed to their seconds', async () => {
    const { totals, snaps } = await run({ stages: [{ rate: 20, durationS: 3, rampS: 0 }], delay: () => 10, slots: 8, maxInFlight: 100 })
    expect(snaps.map((s) => s.second)).toEqual([0, 1, 2])
    expect(snaps.map((s) => s.scheduled)).toEqual([20, 20, 20])
    expect(snaps.reduce((a, s) => a + s.completed, 0)).toBe(totals.completed)
    expect(snaps.every((s) => s.latency.length > 0)).toBe(true)
  })

  it('two workers split one schedule: together they send every request once, at its time', async () => {
    const stages = [{ rate: 10, durationS: 1, rampS: 0 }]
    const a = await run({ stages, delay: () => 1, slots: 2, maxInFlight: 10, workerIndex: 0, workerCount: 2 })
    const b = await run({ stages, delay: () => 1, slots: 2, maxInFlight: 10, workerIndex: 1, workerCount: 2 })
    expect(a.transport.sentAt.map((t) => t - 1_000)).toEqual([0, 200, 400, 600, 800])
    expect(b.transport.sentAt.map((t) => t - 1_000)).toEqual([100, 300, 500, 700, 900])
    expect(a.totals.scheduled + b.totals.scheduled).toBe(10)
  })
})
