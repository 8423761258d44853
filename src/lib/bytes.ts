/**
 * A growable byte buffer and its reader: the few primitives the RowBinary insert encoder (store/rowbinary.ts) and the
 * binary bus envelope (otlp/envelope-binary.ts) need. Little-endian, varints as in protobuf/ClickHouse (7 bits per
 * byte, low first).
 */

/** Written front to back; callers that keep one between uses reset `pos` (see take()). */
export class ByteWriter {
  buf: Buffer
  pos = 0

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size)
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** A non-negative integer up to 2^53 - 1. */
  varint(n: number): void {
    this.ensure(8)
    if (n < 0x80000000) {
      while (n >= 0x80) {
        this.buf[this.pos++] = (n & 0x7f) | 0x80
        n >>>= 7
      }
    } else {
      while (n >= 0x80) {
        this.buf[this.pos++] = (n % 128) | 0x80
        n = Math.floor(n / 128)
      }
    }
    this.buf[this.pos++] = n
  }

  u8(n: number): void {
    this.ensure(1)
    this.buf[this.pos++] = n
  }

  u16(n: number): void {
    this.ensure(2)
    this.buf[this.pos++] = n & 0xff
    this.buf[this.pos++] = n >>> 8
  }

  u32(n: number): void {
    this.ensure(4)
    this.buf.writeUInt32LE(n, this.pos)
    this.pos += 4
  }

  u64(lo: number, hi: number): void {
    this.ensure(8)
    this.buf.writeUInt32LE(lo, this.pos)
    this.buf.writeUInt32LE(hi, this.pos + 4)
    this.pos += 8
  }

  f64(v: number): void {
    this.ensure(8)
    this.buf.writeDoubleLE(v, this.pos)
    this.pos += 8
  }

  /** Short ASCII strings (ids, names, most attribute values) are copied char by char: a native call costs more. */
  str(s: string): void {
    const n = s.length
    if (n < 128) {
      this.ensure(n + 1)
      const buf = this.buf
      const start = this.pos
      let p = start + 1
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) return this.strUtf8(s)
        buf[p++] = c
      }
      buf[start] = n
      this.pos = p
      return
    }
    this.strUtf8(s)
  }

  private strUtf8(s: string): void {
    const len = Buffer.byteLength(s, 'utf8')
    this.varint(len)
    this.ensure(len)
    this.pos += this.buf.write(s, this.pos, len, 'utf8')
  }

  /** Raw bytes as they are. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos)) // a copy: the pooled buffer is reused by the next batch
    this.pos = 0
    return out
  }
}

/** Thrown by ByteReader on input that ends early or holds an impossible value; `at` is the byte offset. */
export class ByteReadError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(`${message} at byte ${at}`)
  }
}

/** Reads what ByteWriter writes, checking every length against the bytes that are left. */
export class ByteReader {
  pos: number

  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start
  }

  get left(): number {
    return this.buf.length - this.pos
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new ByteReadError('unexpected end', this.pos)
    return this.buf[this.pos++]!
  }

  /** Up to 2^53 - 1 (7 bytes of payload bits); longer varints are refused rather than rounded. */
  varint(): number {
    let n = 0
    let mul = 1
    for (let i = 0; i < 8; i++) {
      const b = this.u8()
      n += (b & 0x7f) * mul
      if (b < 0x80) {
        if (!Number.isSafeInteger(n)) break
        return n
      }
      mul *= 128
    }
    throw new ByteReadError('varint too long', this.pos)
  }

  f64(): number {
    if (this.left < 8) throw new ByteReadError('unexpected end', this.pos)
    const v = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return v
  }

  str(): string {
    const n = this.varint()
    if (n > this.left) throw new ByteReadError(`string of ${n} bytes past the end`, this.pos)
    // utf8Slice directly: Buffer#toString's encoding dispatch and range checks cost more than short strings do.
    const s = n === 0 ? '' : (this.buf as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(this.pos, this.pos + n)
    this.pos += n
    return s
  }
}
