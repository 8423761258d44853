/**
 * The dynamic batcher with an injected clock: a full batch runs at once, a partial one after maxWaitMs, a full
 * queue refuses with a counted reason, a request past its deadline is dropped (counted) instead of run, close()
 * runs what was accepted and refuses the rest.
 */
import { describe, expect, it } from 'vitest'
import { BatchRejectedError, DynamicBatcher, type BatchItem, type RejectReason } from '../../src/lib/detection/batcher.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'

interface Item extends BatchItem<number> {
  n: number
  result?: number
  error?: Error
}

function harness(opts: { maxBatch?: number; maxWaitMs?: number; capacity?: number; fail?: boolean } = {}) {
  const clock = new ManualClock(1_000)
  const batches: number[][] = []
  const rejected: Record<string, number> = {}
  let release: (() => void) | undefined
  let hold = false
  const batcher = new DynamicBatcher<Item, number>({
    maxBatch: opts.maxBatch ?? 64,
    maxWaitMs: opts.maxWaitMs ?? 50,
    capacity: opts.capacity ?? 1000,
    clock,
    run: async (items) => {
      batches.push(items.map((i) => i.n))
      if (hold) await new Promise<void>((r) => (release = r))
      if (opts.fail) throw new Error('inference failed')
      return items.map((i) => i.n * 10)
    },
    onReject: (reason: RejectReason, n) => (rejected[reason] = (rejected[reason] ?? 0) + n),
  })
  const item = (n: number, deadlineMs = Infinity): Item => {
    const it: Item = {
      n,
      deadlineMs,
      done(err, result) {
        it.error = err
        it.result = result
      },
    }
    return it
  }
  return {
    clock,
    batches,
    rejected,
    batcher,
    item,
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
    for (const it of items) expect(h.batcher.offer(it)).toBeUndefined()
    await h.clock.flush()
    expect(h.batches).toEqual([[1, 2, 3, 4]])
    expect(items.slice(0, 4).map((i) => i.result)).toEqual([10, 20, 30, 40])
    expect(items[4]!.result).toBeUndefined() // the fifth waits for company or for maxWaitMs
  })

  it('runs a partial batch when its oldest item has waited maxWaitMs, not before', async () => {
    const h = harness({ maxBatch: 64, maxWaitMs: 50 })
    const a = h.item(1)
    h.batcher.offer(a)
    await h.clock.advance(30)
    h.batcher.offer(h.item(2))
    await h.clock.advance(19)
    expect(h.batches).toEqual([])
    await h.clock.advance(1)
    expect(h.batches).toEqual([[1, 2]])
    expect(a.result).toBe(10)
  })

  it('refuses with queue_full when the queue is at capacity, and counts it', async () => {
    const h = harness({ maxBatch: 64, capacity: 3 })
    expect([1, 2, 3, 4, 5].map((n) => h.batcher.offer(h.item(n)))).toEqual([undefined, undefined, undefined, 'queue_full', 'queue_full'])
    expect(h.rejected).toEqual({ queue_full: 2 })
    expect(h.batcher.length).toBe(3)
  })

  it('drops items whose deadline passed while they waited (counted), and runs the rest', async () => {
    const h = harness({ maxBatch: 2 })
    h.holdRuns()
    h.batcher.offer(h.item(1))
    h.batcher.offer(h.item(2))
    await h.clock.flush()
    expect(h.batches).toEqual([[1, 2]]) // running, held
    const late = h.item(3, h.clock.now() + 100)
    const onTime = h.item(4, h.clock.now() + 10_000)
    h.batcher.offer(late)
    h.batcher.offer(onTime)
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
    for (const it of items) h.batcher.offer(it)
    await h.clock.flush()
    expect(items.every((i) => i.error?.message === 'inference failed')).toBe(true)
  })

  it('flush() runs what is queued at once; close() runs what was accepted and then refuses with stopped', async () => {
    const h = harness({ maxBatch: 64 })
    const a = h.item(1)
    h.batcher.offer(a)
    h.batcher.flush()
    await h.clock.flush()
    expect(a.result).toBe(10)
    const b = h.item(2)
    h.batcher.offer(b)
    await h.batcher.close()
    expect(b.result).toBe(20)
    expect(h.batcher.offer(h.item(3))).toBe('stopped')
    expect(h.rejected).toEqual({ stopped: 1 })
  })
})
