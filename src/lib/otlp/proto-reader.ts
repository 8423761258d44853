/**
 * A protobuf wire-format reader: varints, fixed-width numbers, length-delimited fields, unknown-field skipping.
 * Every read is checked against the current message's end (`limit`), so a truncated or lying length fails with an
 * OtlpDecodeError instead of reading past the message, and every loop consumes at least one byte per step, so no
 * input can make decoding spin. Hand-written (no protobufjs): the gateway decodes ~50K spans per second per core.
 *
 * 64-bit integers come out as exact decimal strings (the canonical OTLP/JSON form); a value that fits in 2^53 takes a
 * number fast path, larger ones (nanosecond timestamps) go through BigInt.
 */
import { MAX_NESTING, OtlpDecodeError } from './errors.js'
/** Node's Buffer has these undocumented but long-stable per-encoding methods; toString(enc, a, b) ends up in them. */
type NativeSlices = Buffer & { utf8Slice(start: number, end: number): string; hexSlice(start: number, end: number): string }

export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_LEN = 2
export const WIRE_START_GROUP = 3
export const WIRE_END_GROUP = 4
export const WIRE_FIXED32 = 5

/** wireTable markers: field unknown; repeated fixed64/double (packed or not); repeated varint (packed or not). */
const NONE = 255
export const PACKED_FIXED64 = 8
export const PACKED_VARINT = 9

/** Expected wire type per field number of a message: `wireTable({1: WIRE_LEN, 7: WIRE_FIXED64})`. */
export function wireTable(fields: Record<number, number>): Uint8Array {
  const max = Math.max(...Object.keys(fields).map(Number))
  const t = new Uint8Array(max + 1).fill(NONE)
  for (const [f, w] of Object.entries(fields)) t[Number(f)] = w
  return t
}

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'invalid (6)', 'invalid (7)']
const TWO_32 = 4294967296

export class ProtoReader {
  pos = 0
  /** End of the message being read; nested messages narrow it (enter/leave). */
  limit: number
  /** Last varint / fixed64 read, as two unsigned 32-bit halves. */
  lo = 0
  hi = 0
  /** Wire type of the last field read by next(). */
  wire = 0

  constructor(readonly buf: Buffer) {
    this.limit = buf.length
  }

  fail(message: string, at = this.pos): never {
    throw new OtlpDecodeError('protobuf', `${message} (at byte ${at})`, at)
  }

  private truncated(what: string): never {
    this.fail(`truncated input while reading ${what}`)
  }

  /** Reads a varint into lo/hi. At most 10 bytes; bits beyond 64 are ignored as protobuf parsers do. */
  varint(): void {
    const buf = this.buf
    let pos = this.pos
    if (pos >= this.limit) this.truncated('a varint')
    let b = buf[pos++]!
    if (b < 0x80) {
      this.lo = b
      this.hi = 0
      this.pos = pos
      return
    }
    let lo = b & 0x7f
    let hi = 0
    for (let shift = 7; shift < 28; shift += 7) {
      if (pos >= this.limit) this.truncated('a varint')
      b = buf[pos++]!
      lo |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.lo = lo >>> 0
        this.hi = 0
        this.pos = pos
        return
      }
    }
    // Byte 5 carries bits 28..34: 4 for lo, 3 for hi.
    if (pos >= this.limit) this.truncated('a varint')
    b = buf[pos++]!
    lo |= (b & 0x0f) << 28
    hi = (b & 0x7f) >> 4
    if (b >= 0x80) {
      let shift = 3
      for (let i = 0; ; i++) {
        if (i >= 5) this.fail('varint longer than 10 bytes', pos)
        if (pos >= this.limit) this.truncated('a varint')
        b = buf[pos++]!
        if (shift < 32) hi |= (b & 0x7f) << shift
        shift += 7
        if (b < 0x80) break
      }
    }
    this.lo = lo >>> 0
    this.hi = hi >>> 0
    this.pos = pos
  }

  /** A tag: field number << 3 | wire type. Field 0 is invalid. */
  tag(): number {
    const buf = this.buf
    // Fast path: one-byte tags (fields 1..15) are nearly all of them.
    if (this.pos < this.limit && buf[this.pos]! < 0x80) {
      const t = buf[this.pos++]!
      if (t >>> 3 === 0) this.fail('field number 0 is invalid', this.pos - 1)
      return t
    }
    const at = this.pos
    this.varint()
    if (this.hi !== 0 || this.lo >>> 3 === 0) this.fail('invalid field tag', at)
    return this.lo
  }

  /**
   * Reads the next tag. Returns the field number when `wires` (expected wire type by field number, see wireTable)
   * knows the field and its wire type matches; otherwise skips the field and returns 0 (unknown fields are ignored).
   */
  next(message: string, wires: Uint8Array): number {
    const t = this.tag()
    const field = t >>> 3
    const wire = t & 7
    this.wire = wire
    const expected = field < wires.length ? wires[field]! : NONE
    if (expected === NONE) {
      this.skip(wire, field)
      return 0
    }
    if (wire === expected || (wire === WIRE_LEN && (expected === PACKED_FIXED64 || expected === PACKED_VARINT))) return field
    if ((expected === PACKED_FIXED64 && wire === WIRE_FIXED64) || (expected === PACKED_VARINT && wire === WIRE_VARINT)) return field
    const want = expected === PACKED_FIXED64 ? WIRE_FIXED64 : expected === PACKED_VARINT ? WIRE_VARINT : expected
    this.fail(`${message} field ${field} has ${WIRE_NAMES[wire]} wire type, expected ${WIRE_NAMES[want]}`)
  }

  uint32(): number {
    this.varint()
    return this.lo
  }

  /** int32 / enum: the low 32 bits, signed (negative values are sent as 10-byte varints). */
  int32(): number {
    this.varint()
    return this.lo | 0
  }

  sint32(): number {
    this.varint()
    return (this.lo >>> 1) ^ -(this.lo & 1)
  }

  bool(): boolean {
    this.varint()
    return this.lo !== 0 || this.hi !== 0
  }

  /** int64 varint as a decimal string. */
  int64(): string {
    this.varint()
    return int64String(this.lo, this.hi, true)
  }

  /** uint64 varint as a decimal string. */
  uint64(): string {
    this.varint()
    return int64String(this.lo, this.hi, false)
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.limit) this.truncated(what)
  }

  fixed32(): number {
    this.need(4, 'a fixed32')
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }

  private fixed64Parts(what: string): void {
    this.need(8, what)
    this.lo = this.buf.readUInt32LE(this.pos)
    this.hi = this.buf.readUInt32LE(this.pos + 4)
    this.pos += 8
  }

  /** fixed64 as a decimal string. */
  fixed64(): string {
    this.fixed64Parts('a fixed64')
    return int64String(this.lo, this.hi, false)
  }

  sfixed64(): string {
    this.fixed64Parts('an sfixed64')
    return int64String(this.lo, this.hi, true)
  }

  double(): number {
    this.need(8, 'a double')
    const v = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return v
  }

  /** Length prefix of a length-delimited field; checked against the current limit. */
  length(): number {
    const at = this.pos
    this.varint()
    if (this.hi !== 0 || this.pos + this.lo > this.limit) {
      this.fail(`length ${this.hi === 0 ? this.lo : '≥ 2^32'} runs past the end of the enclosing message`, at)
    }
    return this.lo
  }

  /** Decoded by the native utf8 decoder, called directly (utf8Slice skips Buffer#toString's encoding dispatch). */
  string(): string {
    const n = this.length()
    const s = n === 0 ? '' : (this.buf as NativeSlices).utf8Slice(this.pos, this.pos + n)
    this.pos += n
    return s
  }

  /** bytes as lowercase hex (trace and span ids). */
  hex(): string {
    const n = this.length()
    const s = n === 0 ? '' : (this.buf as NativeSlices).hexSlice(this.pos, this.pos + n)
    this.pos += n
    return s
  }

  base64(): string {
    const n = this.length()
    const s = n === 0 ? '' : this.buf.toString('base64', this.pos, this.pos + n)
    this.pos += n
    return s
  }

  /** Narrows the limit to a nested message of `length()` bytes; returns the outer limit for leave(). */
  enter(): number {
    const n = this.length()
    const outer = this.limit
    this.limit = this.pos + n
    return outer
  }

  leave(outer: number): void {
    // Decoders loop while pos < limit and every read is bounded by limit, so pos === limit here.
    this.limit = outer
  }

  /** Skips a field of the given wire type (unknown fields must be ignored). */
  skip(wire: number, field: number, depth = 0): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint()
        return
      case WIRE_FIXED64:
        this.need(8, 'a fixed64')
        this.pos += 8
        return
      case WIRE_LEN: {
        // Not `this.pos += this.length()`: that reads pos before length() has moved it past the prefix.
        const n = this.length()
        this.pos += n
        return
      }
      case WIRE_FIXED32:
        this.need(4, 'a fixed32')
        this.pos += 4
        return
      case WIRE_START_GROUP: {
        if (depth >= MAX_NESTING) this.fail(`groups nested deeper than ${MAX_NESTING}`)
        for (;;) {
          if (this.pos >= this.limit) this.truncated(`group ${field}`)
          const t = this.tag()
          if ((t & 7) === WIRE_END_GROUP) {
            if (t >>> 3 !== field) this.fail(`end-group tag ${t >>> 3} does not close group ${field}`)
            return
          }
          this.skip(t & 7, t >>> 3, depth + 1)
        }
      }
      default:
        this.fail(`field ${field} has ${WIRE_NAMES[wire]} wire type`)
    }
  }

  /**
   * Reads a repeated number field into `out`: packed (one length-delimited run, what SDKs send) or one value per tag,
   * as the protobuf spec requires parsers to accept. `width` is 8 for fixed64/double runs, 0 for varints.
   */
  repeated<T>(out: T[], width: 0 | 8, read: () => T): void {
    if (this.wire !== WIRE_LEN) {
      out.push(read())
      return
    }
    const at = this.pos
    const outer = this.enter()
    if (width === 8 && (this.limit - this.pos) % 8 !== 0) this.fail('packed fixed64 run is not a multiple of 8 bytes', at)
    while (this.pos < this.limit) out.push(read())
    this.leave(outer)
  }
}

/** Two uint32 halves → exact decimal string, signed (two's complement) or not. */
export function int64String(lo: number, hi: number, signed: boolean): string {
  if (hi < 0x200000) return String(hi * TWO_32 + lo)
  if (signed && hi >= 0x80000000) {
    // Negative: magnitude = 2^64 - value. Small magnitudes (the common -1, -42) stay on the number path.
    if (hi === 0xffffffff && lo !== 0) return String(-(TWO_32 - lo))
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString()
  }
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString()
}
