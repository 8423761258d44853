import { mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BufferFullError, ProduceBuffer } from '../../src/agents/gateway/produce-buffer.js'
import { DiskSpool } from '../../src/agents/gateway/spool.js'
import { crc32, decodeFrames, encodeFrame } from '../../src/agents/gateway/spool-format.js'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import type { Bus, BusRecord, ConsumedRecord } from '../../src/lib/bus/types.js'

/** A real MemoryBus whose produce fails while `down` is set: the fault injection the Kafka mock gives integration tests. */
class SwitchableBus extends MemoryBus {
  down = false
  calls = 0
  override async produce(topic: string, records: BusRecord[]): Promise<void> {
    this.calls++
    if (this.down) throw new Error('bus unavailable (test fault)')
    return super.produce(topic, records)
  }
}

const rec = (key: string, size = 10): BusRecord => ({ key, value: Buffer.alloc(size, key) })
const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

async function collect(bus: Bus, topic: string): Promise<ConsumedRecord[]> {
  const got: ConsumedRecord[] = []
  await bus.consume(topic, 'test', async (b) => void got.push(...b.records))
  return got
}

let dirs: string[] = []
afterEach(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
  dirs = []
})
const tmp = async (): Promise<string> => {
  const d = await mkdtemp(path.join(tmpdir(), 'aiops-spool-'))
  dirs.push(d)
  return d
}

describe('produce buffer', () => {
  it('lingers: records submitted within lingerMs share one produce call; a full batch or drain() sends at once', async () => {
    const bus = new SwitchableBus()
    const buf = new ProduceBuffer({ bus, maxBytes: 1 << 20, maxBatchBytes: 100, concurrency: 1, lingerMs: 200, retryAfterS: 1 })
    const a = buf.submit('t', [rec('a')], 10)
    await new Promise((r) => setTimeout(r, 20))
    expect(bus.calls).toBe(0) // still lingering
    const b = buf.submit('t', [rec('b')], 10)
    await Promise.all([a, b])
    expect(bus.calls).toBe(1) // one call for both, after the linger
    const full = buf.submit('t', [rec('c', 100)], 100) // maxBatchBytes queued: no waiting
    await until(() => bus.calls === 2, 150)
    await full
    const late = buf.submit('t', [rec('d')], 10)
    const drained = buf.drain()
    await until(() => bus.calls === 3, 150) // drain() does not wait out the linger
    await Promise.all([late, drained])
  })

  it('batches records of many requests into few produce calls and acknowledges once produced', async () => {
    const bus = new SwitchableBus()
    const got = await collect(bus, 't')
    const buffer = new ProduceBuffer({ bus, maxBytes: 1e6, maxBatchBytes: 1e6, concurrency: 1, retryAfterS: 5 })
    const done = await Promise.all(Array.from({ length: 20 }, (_, i) => buffer.submit('t', [rec(`k${i}`)], 14)))
    expect(done).toEqual(Array(20).fill('produced'))
    expect(bus.calls).toBeLessThan(20)
    await until(() => got.length === 20)
    expect(buffer.depthBytes).toBe(0)
  })

  it('refuses with BufferFullError when full, and accepts again once drained to the bus', async () => {
    const bus = new SwitchableBus()
    bus.down = true
    const buffer = new ProduceBuffer({ bus, maxBytes: 100, maxBatchBytes: 100, concurrency: 1, retryAfterS: 7 })
    const first = buffer.submit('t', [rec('a', 60)], 60)
    const full = await buffer.submit('t', [rec('b', 60)], 60).catch((e: unknown) => e)
    expect(full).toBeInstanceOf(BufferFullError)
    expect(full).toMatchObject({ retryAfterS: 7, details: { reason: 'buffer_full' } })
    bus.down = false
    expect(await first).toBe('produced') // retried after the failure, never dropped
    expect(await buffer.submit('t', [rec('c', 60)], 60)).toBe('produced')
  })

  it('keeps failed records in order and retries them until the bus takes them', async () => {
    const bus = new SwitchableBus()
    const got = await collect(bus, 't')
    bus.down = true
    const buffer = new ProduceBuffer({ bus, maxBytes: 1e6, maxBatchBytes: 1e6, concurrency: 2, retryAfterS: 5 })
    const pending = Array.from({ length: 5 }, (_, i) => buffer.submit('t', [rec(`k${i}`)], 14))
    await until(() => bus.calls >= 3)
    bus.down = false
    expect(await Promise.all(pending)).toEqual(Array(5).fill('produced'))
    await until(() => got.length === 5)
    expect(got.map((r) => r.key).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4'])
  })

  it('drain waits for everything accepted, then refuses new records', async () => {
    const bus = new SwitchableBus()
    const got = await collect(bus, 't')
    const buffer = new ProduceBuffer({ bus, maxBytes: 1e6, maxBatchBytes: 100, concurrency: 1, retryAfterS: 5 })
    const pending = Array.from({ length: 10 }, (_, i) => buffer.submit('t', [rec(`k${i}`, 40)], 44))
    await buffer.drain()
    await until(() => got.length === 10)
    await Promise.all(pending)
    await expect(buffer.submit('t', [rec('late')], 14)).rejects.toMatchObject({ details: { reason: 'shutting_down' } })
  })
})

describe('disk spool', () => {
  it('frames round-trip; a torn or corrupted tail ends the segment', () => {
    const a = encodeFrame('topic', [rec('k1'), { key: 'k2', value: Buffer.from('ü') }])
    const b = encodeFrame('other', [])
    const data = Buffer.concat([a, b, a.subarray(0, a.length - 3)])
    const { frames, end } = decodeFrames(data, 0)
    expect(frames.map((f) => [f.topic, f.records.map((r) => r.key)])).toEqual([['topic', ['k1', 'k2']], ['other', []]])
    expect(frames[0]!.records[1]!.value.toString()).toBe('ü')
    expect(end).toBe(a.length + b.length)
    const corrupt = Buffer.from(a)
    corrupt[corrupt.length - 1]! ^= 1
    expect(decodeFrames(corrupt, 0).frames).toEqual([])
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926) // the standard CRC-32 check value
  })

  it('the buffer spools what the bus does not take in time, acknowledges it, and the spool replays it', async () => {
    const dir = await tmp()
    const bus = new SwitchableBus()
    const got = await collect(bus, 't')
    bus.down = true
    const spool = new DiskSpool({ dir, maxBytes: 1e6, bus, replayIntervalMs: 20 })
    await spool.open()
    const buffer = new ProduceBuffer({ bus, maxBytes: 1e6, maxBatchBytes: 1e6, concurrency: 1, retryAfterS: 5, spool: { sink: spool, afterMs: 30 } })
    // The bus fails every call; after spool.afterMs the waiting records go to disk and are acknowledged from there.
    const acks = await Promise.all(['a', 'b', 'c'].map((k) => buffer.submit('t', [rec(k)], 14)))
    expect(acks).toEqual(['spooled', 'spooled', 'spooled'])
    expect(spool.bytes).toBeGreaterThan(0)
    expect(got).toEqual([])
    bus.down = false
    await until(() => got.length === 3)
    await new Promise((r) => setTimeout(r, 100))
    expect(got.map((r) => r.key).sort()).toEqual(['a', 'b', 'c']) // each exactly once
    await until(() => spool.bytes === 0)
    await buffer.drain()
    await spool.close()
    expect((await readdir(dir)).filter((f) => f.endsWith('.spool'))).toEqual([])
  })

  it('records spooled before a restart are replayed on start, once; a torn tail is dropped', async () => {
    const dir = await tmp()
    const down = new SwitchableBus()
    down.down = true
    const first = new DiskSpool({ dir, maxBytes: 1e6, bus: down, replayIntervalMs: 60_000 })
    await first.open()
    await first.append('t', [rec('x1'), rec('x2')])
    await first.append('t', [rec('x3')])
    await first.close()
    // A crash in the middle of an append (never acknowledged) leaves half a frame at the end.
    const [seg] = (await readdir(dir)).filter((f) => f.endsWith('.spool'))
    await appendFile(path.join(dir, seg!), encodeFrame('t', [rec('torn')]).subarray(0, 12))

    const bus = new SwitchableBus()
    const got = await collect(bus, 't')
    const second = new DiskSpool({ dir, maxBytes: 1e6, bus, replayIntervalMs: 20 })
    await second.open()
    await until(() => got.length === 3)
    await until(() => second.bytes === 0)
    await second.close()
    await new Promise((r) => setTimeout(r, 100))
    expect(got.map((r) => r.key).sort()).toEqual(['x1', 'x2', 'x3'])
  })

  it('resumes a replay from its progress file instead of re-sending produced frames', async () => {
    const dir = await tmp()
    const seg = path.join(dir, 'seg-000000000007.spool')
    const f1 = encodeFrame('t', [rec('done')])
    const f2 = encodeFrame('t', [rec('todo')])
    await writeFile(seg, Buffer.concat([f1, f2]))
    await writeFile(`${seg}.pos`, String(f1.length))
    const bus = new SwitchableBus()
    const got = await collect(bus, 't')
    const spool = new DiskSpool({ dir, maxBytes: 1e6, bus, replayIntervalMs: 20 })
    await spool.open()
    await until(() => got.length === 1)
    await until(() => spool.bytes === 0)
    await spool.close()
    expect(got.map((r) => r.key)).toEqual(['todo'])
  })

  it('refuses appends past maxBytes', async () => {
    const dir = await tmp()
    const spool = new DiskSpool({ dir, maxBytes: 100, bus: new SwitchableBus(), replayIntervalMs: 60_000 })
    await spool.open()
    await expect(spool.append('t', [rec('big', 200)])).rejects.toThrow(/spool is full/)
    await spool.close()
  })
})
