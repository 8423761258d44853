import { describe, expect, it } from 'vitest'
import { DedupWindow, dropDuplicates } from '../../src/agents/consumer/dedup-window.js'
import { planUnits, type InsertUnit, type Intent } from '../../src/agents/consumer/units.js'
import { decodeRecord, type DecodedRecord } from '../../src/agents/consumer/validate.js'
import { nextEnvelopeId } from '../../src/agents/gateway/envelopes.js'
import { decodeEnvelope, encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { spanRow } from '../../bench/lib/consumer-data.js'

const NS = 1_700_000_000_000_000_000n

/** One record per entry at consecutive offsets from `from`; an entry is the envelope's id (null: no id), 2 spans each. */
function records(from: number, ids: Array<string | null>): DecodedRecord[] {
  return ids.map((id, i) => {
    const o = from + i
    const rows = [spanRow(o * 10, 'r', 'acme', NS), spanRow(o * 10 + 1, 'r', 'acme', NS)]
    const value = encodeEnvelope({ ...(id === null ? {} : { id }), signal: 'traces', tenant: 'acme', rows })
    return decodeRecord({ topic: 'tr', partition: 0, offset: String(o), key: 'k', value, timestampMs: 0 })
  })
}

const limits = { maxRows: 1_000, maxBytes: 1 << 30 }
function plan(decoded: DecodedRecord[], intents: Intent[] = []): InsertUnit[] {
  const r = planUnits({ group: 'g', topic: 'tr', partition: 0, decoded, intents, limits, nonce: 'n' })
  if (!r.ok) throw new Error('short replay')
  return r.units
}
const offsets = (u: InsertUnit): number[] => u.records.map((r) => Number(r.record.offset))

describe('dedup window', () => {
  it('remembers the last `capacity` distinct ids and evicts the oldest first', () => {
    const w = new DedupWindow(3)
    for (const id of ['a', 'b', 'c']) w.add(id)
    w.add('b') // already present: no eviction, no reordering
    expect([w.has('a'), w.has('b'), w.has('c'), w.size]).toEqual([true, true, true, 3])
    w.add('d')
    expect([w.has('a'), w.has('b'), w.has('d'), w.size]).toEqual([false, true, true, 3])
    w.add('e')
    w.add('f')
    expect(['b', 'c', 'd', 'e', 'f'].map((id) => w.has(id))).toEqual([false, false, true, true, true])
    expect(() => new DedupWindow(0)).toThrow(RangeError)
  })

  it('drops a copy at a later offset, in the same unit or a later one, and counts it', () => {
    const w = new DedupWindow(100)
    const [u1] = plan(records(0, ['a', 'b', 'a', null]))
    expect(dropDuplicates(u1!, w)).toEqual({ seen: 1, intent: 0 })
    expect(offsets(u1!)).toEqual([0, 1, 3])
    expect([u1!.rows, u1!.ids]).toEqual([6, ['a', 'b']])
    const [u2] = plan(records(4, ['b', 'c', null]))
    expect(dropDuplicates(u2!, w)).toEqual({ seen: 1, intent: 0 })
    expect(offsets(u2!)).toEqual([5, 6])
    expect(u2!.bytes).toBe(u2!.records.reduce((n, r) => n + r.record.value.length, 0))
  })

  it('a copy older than the window is no longer recognised (the window is bounded)', () => {
    const w = new DedupWindow(2)
    dropDuplicates(plan(records(0, ['a', 'b', 'c']))[0]!, w)
    const [u] = plan(records(3, ['a', 'c']))
    expect(dropDuplicates(u!, w)).toEqual({ seen: 1, intent: 0 })
    expect(offsets(u!)).toEqual([3])
  })

  it('a replayed unit keeps exactly what its intent recorded, whatever the window holds now', () => {
    // First run: 'x' was stored before the unit, so the unit dropped its copy at offset 11.
    const first = new DedupWindow(100)
    first.add('x')
    const [orig] = plan(records(10, ['p', 'x', 'q']))
    dropDuplicates(orig!, first)
    expect(orig!.ids).toEqual(['p', 'q'])
    const intent: Intent = { first: orig!.first, last: orig!.last, token: orig!.token!, ids: orig!.ids! }
    // Restart with an empty window (its original fell out of the preload): the replay still drops offset 11 ...
    const [replay] = plan(records(10, ['p', 'x', 'q']), [intent])
    expect(replay!.replay).toBe(true)
    expect(dropDuplicates(replay!, new DedupWindow(100))).toEqual({ seen: 0, intent: 1 })
    expect(offsets(replay!)).toEqual(offsets(orig!))
    expect(replay!.rows).toBe(orig!.rows)
    // ... and a window already holding the unit's own ids (a preload that reached too far) does not drop them.
    const [again] = plan(records(10, ['p', 'x', 'q']), [intent])
    const w = new DedupWindow(100)
    for (const id of ['p', 'q']) w.add(id)
    dropDuplicates(again!, w)
    expect(offsets(again!)).toEqual([10, 12])
  })

  it('a replay of an intent recorded without ids falls back to the window', () => {
    const w = new DedupWindow(100)
    w.add('a')
    const [u] = plan(records(0, ['a', 'b']), [{ first: 0n, last: 1n, token: 't', ids: [] }])
    expect(dropDuplicates(u!, w)).toEqual({ seen: 1, intent: 0 })
    expect(offsets(u!)).toEqual([1])
  })

  it('gateway envelope ids are unique and survive the envelope round trip; envelopes without id still decode', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => nextEnvelopeId()))
    expect(ids.size).toBe(10_000)
    const id = nextEnvelopeId()
    expect(decodeEnvelope(encodeEnvelope({ id, signal: 'logs', tenant: 't', rows: [] })).id).toBe(id)
    expect(decodeEnvelope(Buffer.from('{"v":1,"signal":"logs","tenant":"t","rows":[]}')).id).toBeUndefined()
    expect(() => decodeEnvelope(Buffer.from('{"v":1,"id":7,"signal":"logs","tenant":"t","rows":[]}'))).toThrow(/id must be/)
  })
})
