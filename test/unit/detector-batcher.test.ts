/**
 * The dynamic batcher with an injected clock: a full batch runs at once, a partial one after maxWaitMs, a full
 * queue refuses with a counted reason, a request past its deadline is dropped (counted) instead of run, close()
 * runs what was accepted and refuses the rest.
 */
import { describe, expect, it } from 'vitest'
import { BatchRejectedError, DynamicBatcher, type RejectReason, type RowSource } from '../../src/lib/detection/batcher.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'

/** A row of width 1 holding n; the batch's result for it is n × 10. */
interface Item extends RowSource {
  n: number
  deadlineMs: number
  result?: number
  error?: Error
  settled: number
}

function harness(opts: { maxBatch?: number; maxWaitMs?: number; capacity?: number; fail?: boolean } = {}) {
  const clock = new ManualClock(1_000)
  const batches: number[][] = []
  const rejected: Record<string, number> = {}
  let release: (() => void) | undefined
  let hold = false
  const batcher = new DynamicBatcher<Item>({
    maxBatch: opts.maxBatch ?? 64,
    maxWaitMs: opts.maxWaitMs ?? 50,
    capacity: opts.capacity ?? 1000,
    width: 1,
    clock,
    run: async (input, rows) => {
      const ns = Array.from(input.subarray(0, rows))
      batches.push(ns)
      if (hold) await new Promise<void>((r) => (release = r))
      if (opts.fail) throw new Error('inference failed')
      return ns.map((n) => n * 10)
    },
    settle: (targets, n, results, err) => {
      for (let i = 0; i < n; i++) {
        const it = targets[i]!
        it.settled++
        if (results) it.result = results[i]
        else it.error = err
      }
    },
    onReject: (reason: RejectReason, n) => (rejected[reason] = (rejected[reason] ?? 0) + n),
  })
  const item = (n: number, deadlineMs = Infinity): Item => ({
    n,
    deadlineMs,
    settled: 0,
    writeRow(dst, offset) {
      dst[offset] = n
    },
  })
  const offer = (it: Item): RejectReason | undefined => batcher.offer(it, it, it.deadlineMs)
  return {
    clock,
    batches,
    rejected,
    batcher,
    item,
    offer,
    holdRuns: () => (hold = true),
    release: () => {
      hold = false
      release?.()
    },
  }
}

describe('DynamicBatcher', () => {
  it('runs a batch as soon as maxBatch items are queued, without waiting', async () => {
    const h = harness({ maxBatch: 4 })
    const items = [1, 2, 3, 4, 5].map((n) => h.item(n))
    for (const it of items) expect(h.offer(it)).toBeUndefined()
    await h.clock.flush()
    expect(h.batches).toEqual([[1, 2, 3, 4]])
    expect(items.slice(0, 4).map((i) => i.result)).toEqual([10, 20, 30, 40])
    expect(items[4]!.result).toBeUndefined() // the fifth waits for company or for maxWaitMs
  })

  it('runs a partial batch when its oldest item has waited maxWaitMs, not before', async () => {
    const h = harness({ maxBatch: 64, maxWaitMs: 50 })
    const a = h.item(1)
    h.offer(a)
    await h.clock.advance(30)
    h.offer(h.item(2))
    await h.clock.advance(19)
    expect(h.batches).toEqual([])
    await h.clock.advance(1)
    expect(h.batches).toEqual([[1, 2]])
    expect(a.result).toBe(10)
  })

  it('refuses with queue_full when the queue is at capacity, and counts it', async () => {
    const h = harness({ maxBatch: 64, capacity: 3 })
    expect([1, 2, 3, 4, 5].map((n) => h.offer(h.item(n)))).toEqual([undefined, undefined, undefined, 'queue_full', 'queue_full'])
    expect(h.rejected).toEqual({ queue_full: 2 })
    expect(h.batcher.length).toBe(3)
  })

  it('drops items whose deadline passed while they waited (counted), and runs the rest', async () => {
    const h = harness({ maxBatch: 2 })
    h.holdRuns()
    h.offer(h.item(1))
    h.offer(h.item(2))
    await h.clock.flush()
    expect(h.batches).toEqual([[1, 2]]) // running, held
    const late = h.item(3, h.clock.now() + 100)
    const onTime = h.item(4, h.clock.now() + 10_000)
    h.offer(late)
    h.offer(onTime)
    await h.clock.advance(200)
    h.release()
    await h.clock.flush()
    await h.clock.flush()
    expect(late.error).toBeInstanceOf(BatchRejectedError)
    expect((late.error as BatchRejectedError).reason).toBe('deadline')
    expect(h.rejected).toEqual({ deadline: 1 })
    expect(onTime.result).toBe(40)
  })

  it('a failing run settles every item of its batch with the error (none is left hanging)', async () => {
    const h = harness({ maxBatch: 3, fail: true })
    const items = [1, 2, 3].map((n) => h.item(n))
    for (const it of items) h.offer(it)
    await h.clock.flush()
    expect(items.every((i) => i.error?.message === 'inference failed')).toBe(true)
  })

  it('flush() runs what is queued at once; close() runs what was accepted and then refuses with stopped', async () => {
    const h = harness({ maxBatch: 64 })
    const a = h.item(1)
    h.offer(a)
    h.batcher.flush()
    await h.clock.flush()
    expect(a.result).toBe(10)
    const b = h.item(2)
    h.offer(b)
    await h.batcher.close()
    expect(b.result).toBe(20)
    expect(h.offer(h.item(3))).toBe('stopped')
    expect(h.rejected).toEqual({ stopped: 1 })
  })

  it('drops late rows from the middle of a batch and runs the others with their own inputs, in order', async () => {
    const h = harness({ maxBatch: 8, maxWaitMs: 50 })
    const items = [h.item(1), h.item(2, h.clock.now() + 10), h.item(3), h.item(4, h.clock.now() + 10), h.item(5)]
    for (const it of items) h.offer(it)
    await h.clock.advance(50)
    expect(h.batches).toEqual([[1, 3, 5]])
    expect(items.map((i) => i.result)).toEqual([10, undefined, 30, undefined, 50])
    expect(items.map((i) => (i.error as BatchRejectedError | undefined)?.reason)).toEqual([undefined, 'deadline', undefined, 'deadline', undefined])
    expect(items.every((i) => i.settled === 1)).toBe(true)
    expect(h.rejected).toEqual({ deadline: 2 })
    // The block goes back to the pool: the next batch carries only its own rows.
    const next = [h.item(6), h.item(7)]
    for (const it of next) h.offer(it)
    await h.clock.advance(50)
    expect(h.batches[1]).toEqual([6, 7])
    expect(next.map((i) => i.result)).toEqual([60, 70])
  })

  it('drained(n) resolves once the first n accepted rows settled, without waiting for later ones', async () => {
    const h = harness({ maxBatch: 2, maxWaitMs: 50 })
    h.holdRuns()
    h.offer(h.item(1))
    h.offer(h.item(2))
    const third = h.item(3)
    h.offer(third)
    expect(h.batcher.acceptedRows).toBe(3)
    let firstTwo = false
    let all = false
    void h.batcher.drained(2).then(() => (firstTwo = true))
    void h.batcher.drained().then(() => (all = true))
    await h.clock.flush()
    expect(firstTwo).toBe(false) // their batch is running, held
    h.release()
    await h.clock.flush()
    expect([firstTwo, all]).toEqual([true, false]) // the third still waits for company or maxWaitMs
    await h.clock.advance(50)
    await h.clock.flush()
    expect(all).toBe(true)
    expect(third.result).toBe(30)
  })

  it('with maxInFlight 2, batches finishing out of order release drained() only once every earlier row settled', async () => {
    const clock = new ManualClock(1_000)
    const pending: Array<(r: number[]) => void> = []
    const settled: number[] = []
    const batcher = new DynamicBatcher<number>({
      maxBatch: 1,
      maxWaitMs: 50,
      capacity: 10,
      maxInFlight: 2,
      width: 1,
      clock,
      run: () => new Promise<number[]>((resolve) => pending.push(resolve)),
      settle: (targets, n) => settled.push(...targets.slice(0, n)),
    })
    const row: RowSource = { writeRow: () => {} }
    batcher.offer(1, row, Infinity)
    batcher.offer(2, row, Infinity)
    batcher.offer(3, row, Infinity)
    expect([batcher.inFlight, batcher.length]).toEqual([2, 1])
    let first = false
    let two = false
    void batcher.drained(1).then(() => (first = true))
    void batcher.drained(2).then(() => (two = true))
    pending[1]!([20]) // the second batch finishes first
    await clock.flush()
    expect(settled).toEqual([2])
    expect([first, two]).toEqual([false, false]) // row 1 is still running
    expect(batcher.inFlight).toBe(2) // the third row took the free slot
    pending[0]!([10])
    await clock.flush()
    expect([first, two]).toEqual([true, true])
    pending[2]!([30])
    await batcher.close()
    expect(settled).toEqual([2, 1, 3])
  })
})
