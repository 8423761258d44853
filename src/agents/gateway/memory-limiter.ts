/**
 * The memory limiter (the OTel collector's memory_limiter, for Node): memory in use is sampled on a timer (a
 * process.memoryUsage() per request would cost more than it protects) and compared with two limits:
 * - above soft: new requests are refused with 503 + Retry-After before their body is read;
 * - above hard: bodies still being read are cut off with 503 too, since finishing them would push further.
 * Nothing already accepted is dropped: requests past decoding run to their answer. "In use" is the V8 heap plus
 * ArrayBuffers (request bodies, Kafka batches) — what this process's own work allocates — rather than RSS, which in
 * `aiops up` also holds the embedded ClickHouse.
 */
export type MemoryLevel = 'ok' | 'soft' | 'hard'

export interface MemoryLimiterOptions {
  softBytes: number
  hardBytes: number
  /** Default: heapUsed + arrayBuffers from process.memoryUsage(). */
  read?: () => number
  /** How often to sample (default 100 ms). 0 samples only when check() is called (tests). */
  intervalMs?: number
  /** Called with every reading (the memory gauge). */
  onSample?: (bytes: number) => void
}

export function processMemoryInUse(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

export class MemoryLimiter {
  private used = 0
  private timer: NodeJS.Timeout | undefined
  private readonly read: () => number

  constructor(private readonly opts: MemoryLimiterOptions) {
    this.read = opts.read ?? processMemoryInUse
    this.sample()
  }

  start(): void {
    const every = this.opts.intervalMs ?? 100
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => this.sample(), every)
      this.timer.unref()
    }
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Takes a fresh reading now and returns the level. */
  sample(): MemoryLevel {
    this.used = this.read()
    this.opts.onSample?.(this.used)
    return this.level
  }

  get level(): MemoryLevel {
    return this.used >= this.opts.hardBytes ? 'hard' : this.used >= this.opts.softBytes ? 'soft' : 'ok'
  }

  get bytesInUse(): number {
    return this.used
  }
}
