import { describe, expect, it } from 'vitest'
import { ManualClock, systemClock } from '../../src/lib/resilience/clock.js'

describe('ManualClock', () => {
  it('wakes sleepers in due order, ties in sleep order, only when their time has come', async () => {
    const clock = new ManualClock(1000)
    const woke: string[] = []
    void clock.sleep(300).then(() => woke.push(`c@${clock.now()}`))
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`))
    void clock.sleep(100).then(() => woke.push(`b@${clock.now()}`))
    await clock.advance(99)
    expect(woke).toEqual([])
    await clock.advance(1)
    expect(woke).toEqual(['a@1100', 'b@1100'])
    await clock.advance(500)
    expect(woke).toEqual(['a@1100', 'b@1100', 'c@1300'])
    expect(clock.now()).toBe(1600)
    expect(clock.pending).toBe(0)
  })

  it('wakes a sleeper scheduled by woken code inside the same advance', async () => {
    const clock = new ManualClock()
    const times: number[] = []
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10)
        times.push(clock.now())
      }
    })()
    await clock.advance(25)
    expect(times).toEqual([10, 20])
  })

  it('rejects with the abort reason and forgets the sleeper', async () => {
    const clock = new ManualClock()
    const ctl = new AbortController()
    const p = clock.sleep(100, ctl.signal)
    expect(clock.pending).toBe(1)
    ctl.abort(new Error('bye'))
    await expect(p).rejects.toThrow('bye')
    expect(clock.pending).toBe(0)
    await expect(clock.sleep(1, ctl.signal)).rejects.toThrow('bye')
  })
})

describe('systemClock', () => {
  it('sleeps and rejects promptly with the signal reason', async () => {
    await systemClock.sleep(1)
    const ctl = new AbortController()
    const p = systemClock.sleep(60_000, ctl.signal)
    ctl.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
    expect(typeof systemClock.now()).toBe('number')
  })
})
