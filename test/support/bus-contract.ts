import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Bus, BusRecord, ConsumedBatch, ConsumedRecord } from '../../src/lib/bus/types.js'
import { partitionForKey } from '../../src/lib/bus/partitioner.js'
import { randomName } from './names.js'

/**
 * The bus contract: the same tests, unchanged, against every backend (memory in unit tests, Kafka against the
 * mock cluster in integration tests). Anything an agent relies on belongs here, not in one backend's tests.
 */
export interface BusFixture {
  bus: Bus
  /** A fresh topic (random name) with about `partitions` partitions where the backend lets us choose. */
  topic: (partitions?: number) => Promise<string>
  cleanup: () => Promise<void>
}

export interface ContractOptions {
  /** How long to wait for deliveries (Kafka group joins alone take seconds on the mock). */
  waitMs?: number
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const rec = (key: string, body: unknown, headers?: Record<string, string>): BusRecord => ({
  key,
  value: Buffer.from(JSON.stringify(body)),
  ...(headers ? { headers } : {}),
})

export const body = <T = { k: string; seq: number }>(r: { value: Buffer }): T => JSON.parse(r.value.toString()) as T

/** Keyed records `{k, seq}` for `keys` keys × `perKey` sequence numbers, interleaved across keys. */
export function sequenced(keys: number, perKey: number, prefix = 'key'): BusRecord[] {
  const out: BusRecord[] = []
  for (let seq = 0; seq < perKey; seq++) for (let k = 0; k < keys; k++) out.push(rec(`${prefix}-${k}`, { k: `${prefix}-${k}`, seq }))
  return out
}

/** A handler that records every batch it is given. */
function collector(): { batches: ConsumedBatch[]; records: () => ConsumedRecord[]; handler: (b: ConsumedBatch) => Promise<void> } {
  const batches: ConsumedBatch[] = []
  return { batches, records: () => batches.flatMap((b) => b.records), handler: async (b) => void batches.push(b) }
}

export function busContract(name: string, make: () => Promise<BusFixture>, opts: ContractOptions = {}): void {
  const waitMs = opts.waitMs ?? 5_000
  describe(`bus contract: ${name}`, () => {
    let f: BusFixture
    beforeEach(async () => {
      f = await make()
    })
    afterEach(async () => {
      await f.cleanup()
    })

    it('round-trips keys, values, headers and timestamps; batches are one partition in offset order', async () => {
      const topic = await f.topic()
      await f.bus.produce(topic, [
        { ...rec('tenant-a|trace-1', { n: 1 }, { 'content-type': 'application/json', tenant: 'a' }), timestampMs: 1_700_000_000_123 },
        rec('tenant-b|trace-2', { n: 2 }),
        rec('tenant-a|trace-1', { n: 3 }),
      ])
      const c = collector()
      const h = await f.bus.consume(topic, randomName('g'), c.handler)
      await waitFor(() => c.records().length >= 3, waitMs, '3 records')
      await h.stop()
      const got = c.records().sort((a, b) => body<{ n: number }>(a).n - body<{ n: number }>(b).n)
      expect(got.map((r) => [r.key, body(r)])).toEqual([
        ['tenant-a|trace-1', { n: 1 }],
        ['tenant-b|trace-2', { n: 2 }],
        ['tenant-a|trace-1', { n: 3 }],
      ])
      expect(got[0]!.headers).toEqual({ 'content-type': 'application/json', tenant: 'a' })
      expect(got[0]!.timestampMs).toBe(1_700_000_000_123)
      expect(got[1]!.timestampMs).toBeGreaterThan(Date.now() - 60_000)
      expect(got.every((r) => r.topic === topic && /^\d+$/.test(r.offset))).toBe(true)
      for (const b of c.batches) {
        expect(b.records.every((r) => r.partition === b.partition)).toBe(true)
        expect(b.firstOffset).toBe(b.records[0]!.offset)
        expect(b.lastOffset).toBe(b.records[b.records.length - 1]!.offset)
        const offs = b.records.map((r) => Number(r.offset))
        expect(offs).toEqual([...offs].sort((x, y) => x - y))
      }
    })

    it('keeps per-key order across many keys and produce calls', async () => {
      const topic = await f.topic()
      const all = sequenced(40, 15)
      for (let i = 0; i < all.length; i += 50) await f.bus.produce(topic, all.slice(i, i + 50))
      const c = collector()
      const h = await f.bus.consume(topic, randomName('g'), c.handler)
      await waitFor(() => c.records().length >= all.length, waitMs, `${all.length} records`)
      await h.stop()
      const seqs = new Map<string, number[]>()
      for (const r of c.records()) seqs.set(r.key, [...(seqs.get(r.key) ?? []), body(r).seq])
      expect(seqs.size).toBe(40)
      for (const s of seqs.values()) expect(s).toEqual([...Array(15).keys()])
    })

    it('puts the same key on the same partition every time (Kafka default partitioner)', async () => {
      const topic = await f.topic()
      for (let round = 0; round < 3; round++) await f.bus.produce(topic, sequenced(20, 1, `r${round % 2}`))
      const partitions = (await f.bus.lag(topic, randomName('g'))).partitions.length
      const c = collector()
      const h = await f.bus.consume(topic, randomName('g'), c.handler)
      await waitFor(() => c.records().length >= 60, waitMs, '60 records')
      await h.stop()
      const seen = new Map<string, Set<number>>()
      for (const r of c.records()) seen.set(r.key, (seen.get(r.key) ?? new Set()).add(r.partition))
      for (const [key, ps] of seen) expect([...ps]).toEqual([partitionForKey(key, partitions)])
      expect(new Set([...seen.values()].map((s) => [...s][0])).size).toBeGreaterThan(1)
    })

    it('shares partitions between members of a group: every record once, none to both', async () => {
      const topic = await f.topic(4)
      const group = randomName('g')
      const a = collector()
      const b = collector()
      const ha = await f.bus.consume(topic, group, a.handler)
      const hb = await f.bus.consume(topic, group, b.handler)
      await Promise.all([ha.ready, hb.ready])
      const all = sequenced(60, 5)
      await f.bus.produce(topic, all)
      await waitFor(() => a.records().length + b.records().length >= all.length, waitMs, `${all.length} records`)
      await Promise.all([ha.stop(), hb.stop()])
      const ids = (c: ReturnType<typeof collector>): string[] => c.records().map((r) => `${r.key}#${body(r).seq}`)
      const inA = new Set(ids(a))
      expect(ids(b).filter((id) => inA.has(id))).toEqual([])
      expect(new Set([...ids(a), ...ids(b)]).size).toBe(all.length)
      expect(a.records().length).toBeGreaterThan(0)
      expect(b.records().length).toBeGreaterThan(0)
      const pa = new Set(a.records().map((r) => r.partition))
      expect(b.records().some((r) => pa.has(r.partition))).toBe(false)
    })

    it('commits only after the handler: a handler that throws gets the same batch again, nothing skipped', async () => {
      const topic = await f.topic()
      const all = sequenced(10, 4)
      await f.bus.produce(topic, all)
      const calls: ConsumedBatch[] = []
      let failed: ConsumedBatch | undefined
      const ok: ConsumedRecord[] = []
      const h = await f.bus.consume(topic, randomName('g'), async (batch) => {
        calls.push(batch)
        if (!failed) {
          failed = batch
          throw new Error('store insert failed')
        }
        ok.push(...batch.records)
      })
      await waitFor(() => ok.length >= all.length, waitMs, `${all.length} records after a failure`)
      await h.stop()
      const retried = calls.slice(1).find((b) => b.partition === failed!.partition)!
      expect(retried.firstOffset).toBe(failed!.firstOffset)
      // Same start, same records (a refetch may bring more or fewer, so compare the common prefix).
      const n = Math.min(retried.records.length, failed!.records.length)
      expect(retried.records.slice(0, n).map((r) => r.offset)).toEqual(failed!.records.slice(0, n).map((r) => r.offset))
      expect(new Set(ok.map((r) => `${r.key}#${body(r).seq}`)).size).toBe(all.length)
    })

    it('resumes after the last committed offset when a new member of the group starts', async () => {
      const topic = await f.topic()
      const group = randomName('g')
      await f.bus.produce(topic, sequenced(8, 2, 'first'))
      const first = collector()
      const h1 = await f.bus.consume(topic, group, first.handler)
      await waitFor(() => first.records().length >= 16, waitMs, 'first 16 records')
      await h1.stop()
      await f.bus.produce(topic, sequenced(8, 2, 'second'))
      const second = collector()
      const h2 = await f.bus.consume(topic, group, second.handler)
      await waitFor(() => second.records().length >= 16, waitMs, 'next 16 records')
      await new Promise((r) => setTimeout(r, 200)) // room for any wrongful redelivery to show up
      await h2.stop()
      expect(first.records().length).toBe(16)
      expect(second.records().map((r) => r.key.split('-')[0])).toEqual(Array(16).fill('second'))
    })

    it('reports lag before and after consumption', async () => {
      const topic = await f.topic()
      const group = randomName('g')
      await f.bus.produce(topic, sequenced(10, 2))
      const before = await f.bus.lag(topic, group)
      expect(before).toMatchObject({ topic, group, total: 20 })
      expect(before.partitions.every((p) => p.committed === '-1')).toBe(true)
      expect(before.partitions.reduce((n, p) => n + Number(p.high), 0)).toBe(20)
      const c = collector()
      const h = await f.bus.consume(topic, group, c.handler)
      await waitFor(() => c.records().length >= 20, waitMs, '20 records')
      await h.stop()
      const after = await f.bus.lag(topic, group)
      expect(after.total).toBe(0)
      for (const p of after.partitions) {
        expect(p.lag).toBe(0)
        if (p.high !== '0') expect(p.committed).toBe(p.high)
      }
    })

    it('answers ping, and close() twice is safe', async () => {
      expect(await f.bus.ping()).toEqual({ ok: true })
      await f.bus.close()
      await f.bus.close()
      const after = await f.bus.ping()
      expect(after.ok).toBe(false)
      await expect(f.bus.produce(await f.topic(), [rec('k', 1)])).rejects.toThrow(/closed/)
    })
  })
}
