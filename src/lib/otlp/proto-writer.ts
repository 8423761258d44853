/**
 * A protobuf wire-format writer for the encoder (load generator, tests) and the gateway's responses. Nested messages
 * are written in place after a one-byte length placeholder; when a message turns out to be 128 bytes or longer its
 * body is shifted right to make room for the longer varint (cheap: bodies are copied once per nesting level).
 */
import { UsageError } from '../errors.js'
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-reader.js'

const TWO_32 = 4294967296

export class ProtoWriter {
  private buf: Buffer
  pos = 0
  private readonly starts: number[] = []

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial)
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  tag(field: number, wire: number): void {
    this.varint32(((field << 3) | wire) >>> 0)
  }

  varint32(v: number): void {
    this.ensure(5)
    v >>>= 0
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    this.buf[this.pos++] = v
  }

  /** A 64-bit varint from two uint32 halves. */
  varint64(lo: number, hi: number): void {
    if (hi === 0) return this.varint32(lo)
    this.ensure(10)
    while (hi !== 0 || lo > 0x7f) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80
      lo = ((lo >>> 7) | (hi << 25)) >>> 0
      hi >>>= 7
    }
    this.buf[this.pos++] = lo
  }

  /** int32 / enum: negative values are sign-extended to 10 bytes, as protobuf requires. */
  int32(v: number): void {
    if (v >= 0) this.varint32(v)
    else this.varint64(v >>> 0, 0xffffffff)
  }

  sint32(v: number): void {
    this.varint32(((v << 1) ^ (v >> 31)) >>> 0)
  }

  fixed32(v: number): void {
    this.ensure(4)
    this.buf.writeUInt32LE(v >>> 0, this.pos)
    this.pos += 4
  }

  fixed64(lo: number, hi: number): void {
    this.ensure(8)
    this.buf.writeUInt32LE(lo >>> 0, this.pos)
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4)
    this.pos += 8
  }

  double(v: number): void {
    this.ensure(8)
    this.buf.writeDoubleLE(v, this.pos)
    this.pos += 8
  }

  string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8')
    this.varint32(n)
    this.ensure(n)
    this.buf.write(s, this.pos, n, 'utf8')
    this.pos += n
  }

  bytes(b: Uint8Array): void {
    this.varint32(b.length)
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  /** Starts a nested message (after its tag). */
  fork(): void {
    this.ensure(1)
    this.starts.push(this.pos)
    this.pos += 1
  }

  /** Ends the innermost nested message: writes its length, shifting the body when the length needs > 1 byte. */
  join(): void {
    const start = this.starts.pop()!
    const len = this.pos - start - 1
    if (len < 0x80) {
      this.buf[start] = len
      return
    }
    const extra = varintSize(len) - 1
    this.ensure(extra)
    this.buf.copyWithin(start + 1 + extra, start + 1, this.pos)
    this.pos += extra
    let p = start
    let v = len
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    this.buf[p] = v
  }

  /** The bytes written (a view of the writer's buffer: a writer encodes one message and is then dropped). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }

  // Field helpers: proto3 leaves default scalars off the wire.
  stringField(field: number, s: string | undefined): void {
    if (s) {
      this.tag(field, WIRE_LEN)
      this.string(s)
    }
  }
  uint32Field(field: number, v: number | undefined): void {
    if (v) {
      this.tag(field, WIRE_VARINT)
      this.varint32(v)
    }
  }
  enumField(field: number, v: number | undefined): void {
    if (v) {
      this.tag(field, WIRE_VARINT)
      this.int32(v)
    }
  }
  fixed32Field(field: number, v: number | undefined): void {
    if (v) {
      this.tag(field, WIRE_FIXED32)
      this.fixed32(v)
    }
  }
  bytesField(field: number, b: Uint8Array): void {
    if (b.length > 0) {
      this.tag(field, WIRE_LEN)
      this.bytes(b)
    }
  }
  fixed64Field(field: number, parts: [number, number]): void {
    if (parts[0] !== 0 || parts[1] !== 0) {
      this.tag(field, WIRE_FIXED64)
      this.fixed64(parts[0], parts[1])
    }
  }
}

function varintSize(v: number): number {
  let n = 1
  while (v > 0x7f) {
    v >>>= 7
    n++
  }
  return n
}

/**
 * An int64 as OTLP/JSON carries it (decimal string or number) → [lo, hi] uint32 halves, two's complement for
 * negatives. `field` names the value in the error for input that is not an integer.
 */
export function int64Parts(v: string | number | undefined, field: string, signed: boolean): [number, number] {
  if (v === undefined) return [0, 0]
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return [v % TWO_32, Math.floor(v / TWO_32)]
  let big: bigint
  try {
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new Error('not an integer')
      big = BigInt(v)
    } else {
      if (!/^-?\d+$/.test(v)) throw new Error('not an integer')
      big = BigInt(v)
    }
  } catch {
    throw new UsageError(`${field}: ${JSON.stringify(v)} is not an integer`, { suggestions: [`write ${field} as a decimal string, e.g. "1700000000000000000"`] })
  }
  const min = signed ? -(1n << 63n) : 0n
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n
  if (big < min || big > max) throw new UsageError(`${field}: ${String(v)} is out of range for a ${signed ? 'signed' : 'unsigned'} 64-bit integer`)
  const u = BigInt.asUintN(64, big)
  return [Number(u & 0xffffffffn), Number(u >> 32n)]
}

/** Hex id → bytes; any case; the empty string is an absent id. */
export function hexBytes(hex: string | undefined, field: string): Uint8Array {
  if (!hex) return new Uint8Array(0)
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw new UsageError(`${field}: ${JSON.stringify(hex)} is not an even-length hex string`, { suggestions: [`write ${field} as hex, e.g. 32 characters for a trace id`] })
  }
  return Buffer.from(hex, 'hex')
}

/** A double as OTLP/JSON allows it: a number, or "NaN", "Infinity", "-Infinity", or a numeric string. */
export function doubleValue(v: number | string | undefined, field: string): number {
  if (v === undefined) return 0
  if (typeof v === 'number') return v
  if (v === 'NaN') return NaN
  if (v === 'Infinity') return Infinity
  if (v === '-Infinity') return -Infinity
  const n = v.trim() === '' ? NaN : Number(v)
  if (Number.isNaN(n)) throw new UsageError(`${field}: ${JSON.stringify(v)} is not a number`)
  return n
}
