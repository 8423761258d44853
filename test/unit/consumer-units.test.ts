import { describe, expect, it } from 'vitest'
import { planUnits, tableToken, unitToken, wholeBatchUnit, type Intent, type InsertUnit } from '../../src/agents/consumer/units.js'
import { decodeRecord, type DecodedRecord } from '../../src/agents/consumer/validate.js'
import { encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { spanRow } from '../../bench/lib/consumer-data.js'

const NS = 1_700_000_000_000_000_000n

/** Records at offsets from..to; each holds `rows` spans, except offsets in `bad`, which are not JSON. */
function records(from: number, to: number, rows = 2, bad: number[] = []): DecodedRecord[] {
  const out: DecodedRecord[] = []
  for (let o = from; o <= to; o++) {
    const value = bad.includes(o)
      ? Buffer.from('not json')
      : encodeEnvelope({ signal: 'traces', tenant: 'acme', rows: Array.from({ length: rows }, (_, i) => spanRow(o * 10 + i, 'r', 'acme', NS)) })
    out.push(decodeRecord({ topic: 'tr', partition: 3, offset: String(o), key: 'k', value, timestampMs: 0 }))
  }
  return out
}

const limits = { maxRows: 1_000, maxBytes: 1 << 30 }
const plan = (decoded: DecodedRecord[], intents: Intent[] = [], nonce = 'n1', allowPrefix = false) =>
  planUnits({ group: 'g.traces', topic: 'tr', partition: 3, decoded, intents, limits, nonce }, allowPrefix)
const ranges = (units: InsertUnit[]) => units.map((u) => [Number(u.first), Number(u.last), u.replay, u.rows])
const asIntents = (units: InsertUnit[]): Intent[] => units.map((u) => ({ first: u.first, last: u.last, token: u.token! }))

function ok(r: ReturnType<typeof planUnits>): InsertUnit[] {
  if (!r.ok) throw new Error(`unexpected short replay at ${r.intent.first}`)
  return r.units
}

describe('consumer insert units', () => {
  it('a fresh batch is one unit whose token names group, topic, partition and offset range', () => {
    const units = ok(plan(records(10, 19)))
    expect(ranges(units)).toEqual([[10, 19, false, 20]])
    expect(units[0]!.token).toBe('g.traces/tr/3/10-19~n1')
    expect(unitToken('g', 't', 0, 5n, 9n, 'ab')).toBe('g/t/0/5-9~ab')
    expect(tableToken('g/t/0/5-9~ab', 'spans')).toBe('g/t/0/5-9~ab/spans')
  })

  it('cuts a big batch at record boundaries so no unit exceeds maxRows (a lone big record excepted)', () => {
    const units = ok(planUnits({ group: 'g', topic: 'tr', partition: 3, decoded: records(0, 9, 3), intents: [], limits: { maxRows: 7, maxBytes: 1 << 30 }, nonce: 'n' }))
    expect(ranges(units)).toEqual([[0, 1, false, 6], [2, 3, false, 6], [4, 5, false, 6], [6, 7, false, 6], [8, 9, false, 6]])
    const big = ok(planUnits({ group: 'g', topic: 'tr', partition: 3, decoded: records(0, 1, 9), intents: [], limits: { maxRows: 7, maxBytes: 1 << 30 }, nonce: 'n' }))
    expect(ranges(big)).toEqual([[0, 0, false, 9], [1, 1, false, 9]])
  })

  it('covers rejected records in the range but stores only accepted rows', () => {
    const units = ok(plan(records(0, 4, 2, [0, 3])))
    expect(ranges(units)).toEqual([[0, 4, false, 6]])
    expect(units[0]!.records.map((r) => r.record.offset)).toEqual(['1', '2', '4'])
  })

  it('a replay delivered in different batch sizes re-forms the recorded units with their tokens (token determinism)', () => {
    // First run: batches [0-4] and [5-9] became units with tokens; then a crash before the commit of both.
    const original = [...ok(plan(records(0, 4))), ...ok(plan(records(5, 9)))]
    // The restarted consumer gets one bigger batch [0-13], and a nonce of its own for new units.
    const intents = asIntents(original)
    const replay = ok(plan(records(0, 13), intents, 'n2'))
    expect(ranges(replay)).toEqual([[0, 4, true, 10], [5, 9, true, 10], [10, 13, false, 8]])
    expect(replay.slice(0, 2).map((u) => u.token)).toEqual(original.map((u) => u.token))
    expect(replay[2]!.token).toBe('g.traces/tr/3/10-13~n2')
    expect(intents).toEqual([]) // consumed
    // Same records and intents → the same rows in the same order → what the token stands for is unchanged.
    expect(JSON.stringify(replay[0]!.records.map((r) => r.rows))).toBe(JSON.stringify(original[0]!.records.map((r) => r.rows)))
  })

  it('ends a new unit where a recorded intent starts, and drops intents the batch has moved past', () => {
    const intents: Intent[] = [
      { first: 2n, last: 3n, token: 'old-behind' },
      { first: 8n, last: 9n, token: 'recorded' },
    ]
    const units = ok(plan(records(5, 12), intents))
    expect(ranges(units)).toEqual([[5, 7, false, 6], [8, 9, true, 4], [10, 12, false, 6]])
    expect(units[1]!.token).toBe('recorded')
  })

  it('reports a redelivery that stops inside a recorded unit, or replays it as a prefix when told to', () => {
    const intents: Intent[] = [{ first: 0n, last: 9n, token: 'whole' }]
    const short = plan(records(0, 6), intents)
    expect(short).toEqual({ ok: false, intent: intents[0], deliveredLast: 6n })
    expect(intents.length).toBe(1) // kept for the next delivery
    const prefix = ok(plan(records(0, 6), intents, 'n', true))
    expect(ranges(prefix)).toEqual([[0, 6, true, 14]])
    expect(prefix[0]!.token).toBe('whole')
  })

  it('the memory bus takes a batch whole, without a token (its flush tokens the merged insert)', () => {
    const u = wholeBatchUnit('tr', 3, records(0, 3, 1, [2]))
    expect(u).toMatchObject({ first: 0n, last: 3n, replay: false, rows: 3 })
    expect(u.token).toBeUndefined()
  })
})
