/**
 * The spool's frame format (see spool.ts): `[u32 payload length][u32 crc32(payload)][payload]`, payload =
 * `[u16 topic length][topic][u32 record count]` then per record `[u32 key length][key][u32 value length][value]`,
 * little-endian, UTF-8 strings. Decoding stops at the first frame that is short or fails its checksum.
 */
import type { BusRecord } from '../../lib/bus/types.js'

const CRC_TABLE = (() => {
  const t = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c
  }
  return t
})()

/** CRC-32 (IEEE 802.3), as zlib computes it. */
export function crc32(buf: Uint8Array): number {
  let c = -1
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

export function encodeFrame(topic: string, records: BusRecord[]): Buffer {
  const t = Buffer.from(topic, 'utf8')
  const keys = records.map((r) => Buffer.from(r.key, 'utf8'))
  let size = 2 + t.length + 4
  records.forEach((r, i) => (size += 8 + keys[i]!.length + r.value.length))
  const frame = Buffer.allocUnsafe(8 + size)
  let p = 8
  frame.writeUInt16LE(t.length, p)
  p += 2
  p += t.copy(frame, p)
  frame.writeUInt32LE(records.length, p)
  p += 4
  records.forEach((r, i) => {
    frame.writeUInt32LE(keys[i]!.length, p)
    p += 4
    p += keys[i]!.copy(frame, p)
    frame.writeUInt32LE(r.value.length, p)
    p += 4
    p += r.value.copy(frame, p)
  })
  frame.writeUInt32LE(size, 0)
  frame.writeUInt32LE(crc32(frame.subarray(8)), 4)
  return frame
}

export interface DecodedFrame {
  topic: string
  records: BusRecord[]
  /** Offset just after this frame (replay progress). */
  next: number
}

/** Frames from `from` on; `end` is where decoding stopped (data.length when every frame was whole and intact). */
export function decodeFrames(data: Buffer, from: number): { frames: DecodedFrame[]; end: number } {
  const frames: DecodedFrame[] = []
  let p = from
  while (p + 8 <= data.length) {
    const size = data.readUInt32LE(p)
    const crc = data.readUInt32LE(p + 4)
    if (p + 8 + size > data.length) break
    const payload = data.subarray(p + 8, p + 8 + size)
    if (crc32(payload) !== crc) break
    const frame = parsePayload(payload)
    if (!frame) break
    p += 8 + size
    frames.push({ ...frame, next: p })
  }
  return { frames, end: p }
}

function parsePayload(b: Buffer): { topic: string; records: BusRecord[] } | undefined {
  try {
    let p = 0
    const tl = b.readUInt16LE(p)
    p += 2
    const topic = b.toString('utf8', p, p + tl)
    p += tl
    const count = b.readUInt32LE(p)
    p += 4
    const records: BusRecord[] = []
    for (let i = 0; i < count; i++) {
      const kl = b.readUInt32LE(p)
      p += 4
      const key = b.toString('utf8', p, p + kl)
      p += kl
      const vl = b.readUInt32LE(p)
      p += 4
      if (p + vl > b.length) return undefined
      records.push({ key, value: Buffer.from(b.subarray(p, p + vl)) })
      p += vl
    }
    return p === b.length ? { topic, records } : undefined
  } catch {
    return undefined // a length field pointing past the payload: damaged
  }
}
