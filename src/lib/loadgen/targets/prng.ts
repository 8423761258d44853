/**
 * A small seeded PRNG (mulberry32) so `--seed` reproduces the same telemetry, the same query mix and the same ids:
 * two runs with one seed send the same requests in the same order (per worker), which makes regressions bisectable.
 */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  /** Log-normal around `median` (σ in log space): service latencies have long right tails. */
  lognormal(median: number, sigma: number): number {
    const u = Math.max(this.next(), 1e-12)
    const v = this.next()
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    return median * Math.exp(sigma * z)
  }

  /** `bytes` random bytes as lowercase hex (trace ids 16, span ids 8). */
  hex(bytes: number): string {
    let s = ''
    for (let i = 0; i < bytes; i += 4) s += (Math.floor(this.next() * 4294967296) >>> 0).toString(16).padStart(8, '0')
    return s.slice(0, bytes * 2)
  }
}

/** Epoch milliseconds (fractional) as the decimal nanosecond string OTLP/JSON uses for fixed64 times. */
export function nanos(epochMs: number): string {
  let whole = Math.floor(epochMs)
  let frac = Math.round((epochMs - whole) * 1e6)
  if (frac >= 1e6) {
    whole += 1
    frac -= 1e6
  }
  return `${whole}${String(frac).padStart(6, '0')}`
}
