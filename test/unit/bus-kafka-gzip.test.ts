import { gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { gzipCodec, SYNC_MAX_BYTES } from '../../src/lib/bus/kafka-gzip.js'

describe('kafka gzip codec', () => {
  const codec = gzipCodec(1)
  it.each([0, 100, SYNC_MAX_BYTES, SYNC_MAX_BYTES + 1, 4 * SYNC_MAX_BYTES])('round-trips %i bytes (event loop or thread pool by size)', async (n) => {
    const input = Buffer.from(Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join(''))
    const packed = await codec.compress({ buffer: input })
    expect(gunzipSync(packed).equals(input)).toBe(true) // plain gzip any Kafka client reads
    expect((await codec.decompress(packed)).equals(input)).toBe(true)
  })
  it('reads gzip written by other producers at any level', async () => {
    const input = Buffer.from('x'.repeat(5000))
    for (const level of [1, 6, 9]) expect((await codec.decompress(gzipSync(input, { level }))).equals(input)).toBe(true)
  })
  it('compresses telemetry-like JSON at level 1', async () => {
    const input = Buffer.from(JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ service: 'checkout', span: i, route: '/api/users/:id' }))))
    const l1 = await gzipCodec(1).compress({ buffer: input })
    expect(l1.length).toBeLessThan(input.length / 4)
  })
})
