/**
 * A minimal protocol-buffers writer: just what encoding onnx.proto messages needs (varints, 32-bit floats,
 * length-delimited strings/bytes/sub-messages, packed repeated scalars). Writing ONNX ourselves means the
 * project builds its model with no Python, no protobuf runtime and nothing downloaded.
 *
 * Wire format reference: https://protobuf.dev/programming-guides/encoding/
 */

const WIRE_VARINT = 0
const WIRE_LEN = 2
const WIRE_I32 = 5

/** Collects encoded fields of one message; `finish()` concatenates them. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = []

  /** int32/int64/uint64/enum/bool field (non-negative values only: ONNX never needs negative varints here). */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT)
    this.parts.push(encodeVarint(value))
    return this
  }

  /** A signed int64 that may be negative (e.g. shape -1): two's complement over 10 bytes, as protobuf does. */
  int64(field: number, value: number | bigint): this {
    const v = BigInt(value)
    return this.varint(field, v < 0n ? (1n << 64n) + v : v)
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_I32)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.parts.push(b)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN)
    this.parts.push(encodeVarint(value.length), value)
    return this
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter()
    build(w)
    return this.bytes(field, w.finish())
  }

  /** Packed repeated int64 (proto3 default for repeated scalars). */
  packedInt64(field: number, values: ReadonlyArray<number | bigint>): this {
    const w = new ProtoWriter()
    for (const v of values) {
      const b = BigInt(v)
      w.parts.push(encodeVarint(b < 0n ? (1n << 64n) + b : b))
    }
    return this.bytes(field, w.finish())
  }

  finish(): Uint8Array {
    let n = 0
    for (const p of this.parts) n += p.length
    const out = new Uint8Array(n)
    let o = 0
    for (const p of this.parts) {
      out.set(p, o)
      o += p.length
    }
    return out
  }

  private tag(field: number, wire: number): void {
    this.parts.push(encodeVarint((field << 3) | wire))
  }
}

export function encodeVarint(value: number | bigint): Uint8Array {
  let v = BigInt(value)
  if (v < 0n) throw new RangeError(`varint must be non-negative, got ${v}`)
  const bytes: number[] = []
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) byte |= 0x80
    bytes.push(byte)
  } while (v > 0n)
  return Uint8Array.from(bytes)
}

/** Reads one varint at `offset`; returns the value and the offset after it (used by tests and the model check). */
export function decodeVarint(buf: Uint8Array, offset: number): { value: bigint; next: number } {
  let result = 0n
  let shift = 0n
  let i = offset
  for (;;) {
    const byte = buf[i++]
    if (byte === undefined) throw new RangeError('truncated varint')
    result |= BigInt(byte & 0x7f) << shift
    if ((byte & 0x80) === 0) return { value: result, next: i }
    shift += 7n
  }
}
