/**
 * Node's global fetch (undici inside Node 20): kept for comparison with the other transports; it pays for WHATWG
 * streams and Headers objects on every request, which bench/loadtest/vs-wrk.ts shows.
 */
import type { PreparedRequest, SendCallback, TargetAddress, Transport } from './types.js'

export class FetchTransport implements Transport {
  readonly name = 'fetch' as const
  private readonly controllers = new Map<number, AbortController>()
  private readonly base: string

  constructor(target: TargetAddress) {
    this.base = `${target.protocol}//${target.hostHeader}${target.basePath}`
  }

  send(slot: number, req: PreparedRequest, cb: SendCallback): void {
    const ac = new AbortController()
    this.controllers.set(slot, ac)
    const finish = (status: number, bytes: number, error?: string): void => {
      if (this.controllers.get(slot) === ac) this.controllers.delete(slot)
      cb(status, bytes, error)
    }
    fetch(this.base + req.path, { method: req.method, headers: req.headers, body: req.body, signal: ac.signal })
      .then(async (res) => {
        const body = await res.arrayBuffer()
        finish(res.status, body.byteLength)
      })
      .catch((err: Error & { cause?: { code?: string } }) => finish(0, 0, err.cause?.code ?? err.message))
  }

  abort(slot: number, reason: string): void {
    this.controllers.get(slot)?.abort(new Error(reason))
  }

  close(): void {
    for (const ac of this.controllers.values()) ac.abort()
  }
}
