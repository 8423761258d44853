import { describe, expect, it } from 'vitest'
import { Batcher, type BatchLimits } from '../../src/agents/consumer/batcher.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'

interface U {
  id: string
  rows: number
  bytes: number
}

const limits: BatchLimits = { maxRows: 100, maxBytes: 1_000, maxWaitMs: 1_000, idleMs: 50 }
const u = (id: string, rows = 10, bytes = 10): U => ({ id, rows, bytes })

function setup(l: BatchLimits = limits, flushImpl?: (units: U[]) => Promise<void>) {
  const clock = new ManualClock(0)
  const flushed: Array<{ at: number; ids: string[] }> = []
  const b = new Batcher<U>(
    l,
    async (units) => {
      flushed.push({ at: clock.now(), ids: units.map((x) => x.id) })
      await flushImpl?.(units)
    },
    clock,
  )
  return { clock, flushed, b }
}

/** A promise's state without waiting for it. */
async function settled(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending'
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  )
  await new Promise((r) => setImmediate(r))
  return state
}

describe('consumer batcher', () => {
  it('flushes at once when a batch reaches maxRows, taking no more than maxRows', async () => {
    const { clock, flushed, b } = setup()
    const first = b.add([u('a', 60), u('b', 30)])
    expect(flushed).toEqual([])
    const second = b.add([u('c', 20), u('d', 5)])
    await clock.flush()
    expect(flushed).toEqual([{ at: 0, ids: ['a', 'b'] }]) // a+b = 90; c would make 110 > 100
    expect(await settled(first)).toBe('resolved')
    expect(await settled(second)).toBe('pending')
    await clock.advance(50)
    expect(flushed[1]).toEqual({ at: 50, ids: ['c', 'd'] })
    expect(await settled(second)).toBe('resolved')
  })

  it('flushes at once when a batch reaches maxBytes', async () => {
    const { clock, flushed, b } = setup()
    void b.add([u('a', 1, 600)])
    void b.add([u('b', 1, 500)])
    await clock.flush()
    expect(flushed).toEqual([{ at: 0, ids: ['a'] }])
  })

  it('flushes after idleMs without a new unit', async () => {
    const { clock, flushed, b } = setup()
    const p = b.add([u('a')])
    await clock.advance(49)
    expect(flushed).toEqual([])
    expect(await settled(p)).toBe('pending')
    await clock.advance(1)
    expect(flushed).toEqual([{ at: 50, ids: ['a'] }])
    expect(await settled(p)).toBe('resolved')
  })

  it('flushes maxWaitMs after the oldest unit even while units keep trickling in', async () => {
    const { clock, flushed, b } = setup()
    for (let t = 0; t < 1_000; t += 40) {
      void b.add([u(`u${t}`, 1)])
      await clock.advance(40)
      if (flushed.length > 0) break
    }
    expect(flushed[0]!.at).toBe(1_000)
    expect(flushed[0]!.ids.length).toBe(25)
  })

  it('idleMs 0 flushes at once; units that arrive during a flush form the next batch (group commit)', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { clock, flushed, b } = setup({ ...limits, idleMs: 0 }, async (units) => {
      if (units[0]!.id === 'a') await gate
    })
    const a = b.add([u('a')])
    await clock.flush()
    const rest = [b.add([u('b')]), b.add([u('c')])]
    await clock.flush()
    expect(flushed.map((f) => f.ids)).toEqual([['a']])
    expect(b.depth).toBe(30)
    release()
    await a
    await Promise.all(rest)
    expect(flushed.map((f) => f.ids)).toEqual([['a'], ['b', 'c']])
    expect(b.depth).toBe(0)
  })

  it('rejects the units of a failed flush and keeps going with later ones', async () => {
    let fail = true
    const { clock, flushed, b } = setup(limits, async () => {
      if (fail) throw new Error('store refused')
    })
    const rejected = expect(b.add([u('a')])).rejects.toThrow('store refused')
    await clock.advance(50)
    await rejected
    fail = false
    const q = b.add([u('b')])
    await clock.advance(50)
    await q
    expect(flushed.map((f) => f.ids)).toEqual([['a'], ['b']])
  })

  it('drain() flushes what waits at once; close() rejects waiting units and refuses new ones', async () => {
    const { clock, flushed, b } = setup()
    const p = b.add([u('a')])
    await b.drain()
    expect(flushed).toEqual([{ at: 0, ids: ['a'] }])
    await p
    const late = b.add([u('b')]) // after drain began: flushed at once too
    await clock.flush()
    await late
    expect(flushed.length).toBe(2)

    const other = setup()
    const waiting = expect(other.b.add([u('x')])).rejects.toThrow('shutting down')
    other.b.close(new Error('shutting down'))
    await waiting
    await expect(other.b.add([u('y')])).rejects.toThrow('shutting down')
    await other.clock.advance(5_000)
    expect(other.flushed).toEqual([])
  })

  it('counts rows waiting and flushing as queue depth', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { clock, b } = setup(limits, () => gate)
    void b.add([u('a', 40)])
    expect(b.depth).toBe(40)
    await clock.advance(50) // flushing now
    void b.add([u('b', 7)])
    expect(b.depth).toBe(47)
    release()
    await clock.advance(50)
    await clock.flush()
    expect(b.depth).toBe(0)
  })
})
