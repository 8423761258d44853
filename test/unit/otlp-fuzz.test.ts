/**
 * Fuzzing the decoders with random mutations of valid payloads (seeded, so a failure names a reproducible case):
 * whatever the bytes, a decoder either returns a request or throws OtlpDecodeError — never another error, never a
 * hang (a spinning decoder would hit the test timeout) — and whatever decodes also converts to rows without throwing,
 * with every item counted as a row or a rejection.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { OtlpDecodeError, SIGNAL_CODECS, type OtlpEncoding } from '../../src/lib/otlp/index.js'
import type { Signal } from '../../src/lib/otlp/envelope.js'
import { encodeExportLogsRequest, encodeExportMetricsRequest, encodeExportTraceRequest } from '../../src/lib/otlp/encode.js'

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/otlp/${name}`, import.meta.url), 'utf8')

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
}

const richTrace = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }, { key: 'b', value: { bytesValue: 'AAEC' } }] },
      scopeSpans: [
        {
          scope: { name: 'lib', version: '1' },
          spans: [
            {
              traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', parentSpanId: '1112131415161718', name: 'op', kind: 2,
              startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000',
              attributes: [
                { key: 'i', value: { intValue: -5 } }, { key: 'd', value: { doubleValue: 1.25 } }, { key: 'ok', value: { boolValue: true } },
                { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'x' }, { kvlistValue: { values: [{ key: 'k', value: { intValue: 1 } }] } }] } } },
              ],
              events: [{ timeUnixNano: '1700000000050000000', name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'E' } }] }],
              links: [{ traceId: '0102030405060708090a0b0c0d0e0f11', spanId: '0102030405060709' }],
              status: { code: 2, message: 'bad' },
            },
          ],
        },
      ],
    },
  ],
}

const seeds: Array<{ signal: Signal; json: string; proto: Uint8Array }> = [
  { signal: 'traces', json: JSON.stringify(richTrace), proto: encodeExportTraceRequest(richTrace) },
  { signal: 'traces', json: fixture('trace.json'), proto: encodeExportTraceRequest(JSON.parse(fixture('trace.json'))) },
  { signal: 'metrics', json: fixture('metrics-exponential.json'), proto: encodeExportMetricsRequest(JSON.parse(fixture('metrics-exponential.json'))) },
  { signal: 'logs', json: fixture('logs.json'), proto: encodeExportLogsRequest(JSON.parse(fixture('logs.json'))) },
]

function mutateBytes(input: Uint8Array, r: () => number): Uint8Array {
  const b = [...input]
  const n = 1 + Math.floor(r() * 4)
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * Math.max(1, b.length))
    switch (Math.floor(r() * 7)) {
      case 0: b[at] = Math.floor(r() * 256); break // random byte
      case 1: b[at] = (b[at] ?? 0) ^ (1 << Math.floor(r() * 8)); break // bit flip
      case 2: b.splice(at, 1 + Math.floor(r() * 8)); break // delete a run
      case 3: b.splice(at, 0, ...Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256))); break // insert junk
      case 4: b.length = at; break // truncate
      case 5: b[at] = [0x80, 0xff, 0x7f, 0x00][Math.floor(r() * 4)]!; break // varint edge bytes
      default: b.splice(at, 0, ...b.slice(at, at + 1 + Math.floor(r() * 16))) // duplicate a slice
    }
  }
  return new Uint8Array(b)
}

const WEIRD: unknown[] = [null, 0, -1, 1.5, 2 ** 64, -(2 ** 63), '', 'x', 'NaN', '-1', '18446744073709551616', '1e400', true, [], {}, [1, 'a'], { a: 1 }, '0'.repeat(40)]

/** Replaces one random value somewhere in the parsed JSON with a value of a random (often wrong) type. */
function mutateJson(value: unknown, r: () => number): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown
  const slots: Array<[Record<string, unknown> | unknown[], string | number]> = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        slots.push([v, i])
        walk(x)
      })
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        slots.push([v as Record<string, unknown>, k])
        walk(x)
      }
    }
  }
  walk(copy)
  const n = 1 + Math.floor(r() * 3)
  for (let i = 0; i < n && slots.length > 0; i++) {
    const [holder, key] = slots[Math.floor(r() * slots.length)]!
    ;(holder as Record<string | number, unknown>)[key] = WEIRD[Math.floor(r() * WEIRD.length)]
  }
  return copy
}

function check(signal: Signal, encoding: OtlpEncoding, body: Uint8Array, what: string): 'ok' | 'refused' {
  const codec = SIGNAL_CODECS[signal]
  let decoded
  try {
    decoded = codec.decode(body, encoding)
  } catch (err) {
    if (err instanceof OtlpDecodeError) return 'refused'
    throw new Error(`${what}: decoder threw ${String(err)} instead of OtlpDecodeError`, { cause: err })
  }
  let converted
  try {
    converted = codec.rows(decoded, { tenant: 't', nowNs: '1' })
  } catch (err) {
    throw new Error(`${what}: rows() threw on a decodable request: ${String(err)}`, { cause: err })
  }
  expect(converted.rows.length + converted.rejected, what).toBe(converted.received)
  expect(codec.count(decoded), what).toBe(converted.received)
  return 'ok'
}

describe('decoder fuzzing', () => {
  it('protobuf: 6,000 mutated payloads decode or fail with OtlpDecodeError only', () => {
    const outcomes = { ok: 0, refused: 0 }
    for (let i = 0; i < 6000; i++) {
      const seed = seeds[i % seeds.length]!
      const r = rng(1000 + i)
      outcomes[check(seed.signal, 'protobuf', mutateBytes(seed.proto, r), `protobuf case ${i} (${seed.signal})`)]++
    }
    // Both paths were exercised: some mutations still decode, others are refused.
    expect(outcomes.ok).toBeGreaterThan(100)
    expect(outcomes.refused).toBeGreaterThan(100)
  })

  it('protobuf: 1,000 random byte strings', () => {
    for (let i = 0; i < 1000; i++) {
      const r = rng(5000 + i)
      const bytes = new Uint8Array(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)))
      for (const signal of ['traces', 'metrics', 'logs'] as const) check(signal, 'protobuf', bytes, `random case ${i} (${signal})`)
    }
  })

  it('JSON: 3,000 byte-mutated and 3,000 value-mutated payloads', () => {
    const outcomes = { ok: 0, refused: 0 }
    for (let i = 0; i < 3000; i++) {
      const seed = seeds[i % seeds.length]!
      const r = rng(9000 + i)
      outcomes[check(seed.signal, 'json', mutateBytes(Buffer.from(seed.json), r), `json bytes case ${i}`)]++
      const mutated = Buffer.from(JSON.stringify(mutateJson(JSON.parse(seed.json), r)))
      outcomes[check(seed.signal, 'json', mutated, `json value case ${i}: ${mutated.toString().slice(0, 200)}`)]++
    }
    expect(outcomes.ok).toBeGreaterThan(100)
    expect(outcomes.refused).toBeGreaterThan(100)
  })

  it('JSON nested far past the parser limit is refused, not a crash', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000)
    expect(() => SIGNAL_CODECS.traces.decode(Buffer.from(`{"resourceSpans":${deep}}`), 'json')).toThrow(OtlpDecodeError)
  })
})
