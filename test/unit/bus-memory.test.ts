import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import { createBus } from '../../src/lib/bus/index.js'
import { murmur2, partitionForKey } from '../../src/lib/bus/partitioner.js'
import { ConfigError } from '../../src/lib/errors.js'
import { ManualClock } from '../../src/lib/resilience/clock.js'
import { busContract, rec, sequenced, waitFor } from '../support/bus-contract.js'
import { randomName } from '../support/names.js'

// The memory bus runs on real timers: its only waits are a 100 ms redelivery backoff and event wake-ups.
busContract('memory', async () => {
  const bus = new MemoryBus({ partitions: 4 })
  return { bus, topic: async () => randomName('topic'), cleanup: () => bus.close() }
})

describe('MemoryBus specifics', () => {
  it("hashes keys exactly like kafkajs's DefaultPartitioner (Java-client murmur2)", () => {
    // kafkajs's own murmur2 (64-bit Long arithmetic) is the reference; ours is the 32-bit Math.imul form.
    const reference = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (
      k: string,
    ) => number
    expect(murmur2(Buffer.from('a'))).toBe(-1563381124)
    for (let i = 0; i < 2_000; i++) {
      const key = `tenant-${i % 7}|${(i * 2654435761).toString(36).slice(0, i % 29)}${'é'.repeat(i % 3)}`
      expect(murmur2(Buffer.from(key))).toBe(reference(key))
      expect(partitionForKey(key, 12)).toBe((reference(key) & 0x7fffffff) % 12)
    }
  })

  it('rejects a bad partition count with the config field named', () => {
    expect(() => new MemoryBus({ partitions: 0 })).toThrow(ConfigError)
    expect(() => createBus({ backend: 'memory', memory: { partitions: 1.5 } })).toThrow(/partitions/)
    // Validated before kafkajs is ever loaded.
    expect(() => createBus({ backend: 'kafka', kafka: { brokers: [] } })).toThrow(ConfigError)
    expect(() => createBus({ backend: 'kafka', kafka: { brokers: ['no-port'] } })).toThrow(/bus.kafka.brokers|host:port/)
    expect(createBus({ backend: 'kafka', kafka: { brokers: ['k:9092'] } }).kind).toBe('kafka')
  })

  it('rebalances partitions to the remaining member when one stops, without losing records', async () => {
    const bus = new MemoryBus({ partitions: 4 })
    const topic = randomName('t')
    const group = randomName('g')
    const seen: string[] = []
    const handler = async (b: { records: Array<{ key: string; value: Buffer }> }): Promise<void> => {
      for (const r of b.records) seen.push(`${r.key}#${r.value.toString()}`)
    }
    const a = await bus.consume(topic, group, handler)
    const b = await bus.consume(topic, group, handler)
    await bus.produce(topic, sequenced(20, 2))
    await waitFor(() => seen.length >= 40, 2_000, 'first 40')
    await b.stop()
    await bus.produce(topic, sequenced(20, 2, 'late'))
    await waitFor(() => seen.length >= 80, 2_000, 'all 80 via the remaining member')
    expect(new Set(seen).size).toBe(80)
    await a.stop()
    await bus.close()
  })

  it('trims records every group has committed, keeping offsets stable', async () => {
    const bus = new MemoryBus({ partitions: 1 })
    const topic = randomName('t')
    let got = 0
    const h = await bus.consume(topic, 'g', async (b) => void (got += b.records.length))
    for (let i = 0; i < 5; i++) await bus.produce(topic, Array.from({ length: 1000 }, (_, j) => rec('k', i * 1000 + j)))
    await waitFor(() => got >= 5000, 2_000, '5000 records')
    await h.stop()
    const internals = bus as unknown as { topics: Map<string, { partitions: Array<{ base: number; log: unknown[] }> }> }
    const part = internals.topics.get(topic)!.partitions[0]!
    expect(part.base).toBeGreaterThanOrEqual(4096)
    expect(part.log.length).toBeLessThan(1024)
    expect(await bus.lag(topic, 'g')).toMatchObject({ total: 0, partitions: [{ committed: '5000', high: '5000' }] })
    // A group that never consumed starts at the oldest retained record, like Kafka after retention; asking
    // for its lag must not register it (it would hold back trimming forever).
    expect((await bus.lag(topic, 'new-group')).total).toBe(5000 - part.base)
    let more = 0
    const h2 = await bus.consume(topic, 'g', async (b) => void (more += b.records.length))
    await bus.produce(topic, Array.from({ length: 1100 }, (_, j) => rec('k', j)))
    await waitFor(() => more >= 1100, 2_000, '1100 more')
    await h2.stop()
    expect(part.base).toBeGreaterThanOrEqual(5100 - 1023)
    await bus.close()
  })

  it('stop() waits for the handler in flight and commits its batch', async () => {
    const bus = new MemoryBus({ partitions: 1 })
    const topic = randomName('t')
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let started = false
    const h = await bus.consume(topic, 'g', async () => {
      started = true
      await gate
    })
    await bus.produce(topic, [rec('k', 1)])
    await waitFor(() => started, 1_000, 'handler start')
    let stopped = false
    const stopping = h.stop().then(() => (stopped = true))
    await new Promise((r) => setTimeout(r, 20))
    expect(stopped).toBe(false)
    release()
    await stopping
    expect((await bus.lag(topic, 'g')).partitions[0]).toMatchObject({ committed: '1', lag: 0 })
    await bus.close()
  })

  it('stops a consumer when its AbortSignal fires, and rejects produce with an aborted signal', async () => {
    const bus = new MemoryBus()
    const ctl = new AbortController()
    let got = 0
    await bus.consume('t', 'g', async (b) => void (got += b.records.length), { signal: ctl.signal })
    ctl.abort()
    await new Promise((r) => setTimeout(r, 10))
    await bus.produce('t', [rec('k', 1)])
    await new Promise((r) => setTimeout(r, 20))
    expect(got).toBe(0)
    await expect(bus.produce('t', [rec('k', 1)], { signal: AbortSignal.abort() })).rejects.toThrow()
    await bus.close()
  })

  it('redelivers a failed batch only after the backoff, doubling it, on the injected clock', async () => {
    const clock = new ManualClock(1_000)
    const bus = new MemoryBus({ partitions: 1, clock, redelivery: { baseMs: 100, maxDelayMs: 1_000 } })
    const topic = randomName('t')
    const calls: number[] = []
    let failures = 2
    const h = await bus.consume(topic, 'g', async (b) => {
      calls.push(clock.now())
      if (failures-- > 0) throw new Error(`attempt ${calls.length} failed at offset ${b.firstOffset}`)
    })
    await bus.produce(topic, [rec('k', 1)])
    await waitFor(() => calls.length === 1, 1_000, 'first delivery')
    expect((await bus.lag(topic, 'g')).total).toBe(1) // not committed after a throw
    // Step the clock 10 ms at a time, yielding between steps, until the third delivery. The delays are read from
    // the clock times of the deliveries, so a loaded machine (the failed handler's bookkeeping still running when a
    // step happens) can only make a measured delay longer, never shorter: the lower bounds are exact.
    while (calls.length < 3 && clock.now() < 4_000) {
      await clock.advance(10)
      await new Promise((r) => setImmediate(r))
    }
    await waitFor(() => calls.length === 3, 5_000, 'third delivery')
    // The commit follows the handler's resolution: give it a moment on a busy machine.
    let lag = (await bus.lag(topic, 'g')).total
    for (let i = 0; i < 100 && lag !== 0; i++) {
      await new Promise((r) => setTimeout(r, 20))
      lag = (await bus.lag(topic, 'g')).total
    }
    expect(lag).toBe(0)
    const first = calls[1]! - calls[0]!
    const second = calls[2]! - calls[1]!
    expect(first).toBeGreaterThanOrEqual(80) // 100 ms − 20 % jitter: never redelivered before the backoff
    expect(first).toBeLessThanOrEqual(200)
    expect(second).toBeGreaterThanOrEqual(160) // doubled: 200 ms − 20 %, above the first delay's maximum (120 ms)
    expect(second).toBeLessThanOrEqual(400)
    expect(calls[0]).toBe(1_000)
    await h.stop()
    await bus.close()
  })

  it('stop() cuts a redelivery backoff short instead of waiting it out', async () => {
    const clock = new ManualClock()
    const bus = new MemoryBus({ partitions: 1, clock })
    const h = await bus.consume('t', 'g', async () => {
      throw new Error('always fails')
    })
    await bus.produce('t', [rec('k', 1)])
    await waitFor(() => clock.pending === 1, 1_000, 'backoff sleep')
    await h.stop() // would hang forever here if the sleep were not aborted: the clock never moves
    expect(clock.pending).toBe(0)
    expect((await bus.lag('t', 'g')).partitions[0]).toMatchObject({ committed: '-1', lag: 1 })
    await bus.close()
  })
})
