/**
 * node:http with a keep-alive Agent (maxSockets = slots): the standard library client, kept for comparison and for
 * targets that need what only a full client does (redirect-free but fully spec-compliant framing, proxies via agents).
 */
import http from 'node:http'
import https from 'node:https'
import type { PreparedRequest, SendCallback, TargetAddress, Transport } from './types.js'

export class NodeHttpTransport implements Transport {
  readonly name = 'http' as const
  private readonly agent: http.Agent
  private readonly inFlight = new Map<number, http.ClientRequest>()

  constructor(
    private readonly target: TargetAddress,
    slots: number,
  ) {
    const Agent = target.protocol === 'https:' ? https.Agent : http.Agent
    this.agent = new Agent({ keepAlive: true, maxSockets: slots, maxFreeSockets: slots, scheduling: 'lifo' })
  }

  send(slot: number, req: PreparedRequest, cb: SendCallback): void {
    const mod = this.target.protocol === 'https:' ? https : http
    let done = false
    const finish = (status: number, bytes: number, error?: string): void => {
      if (done) return
      done = true
      this.inFlight.delete(slot)
      cb(status, bytes, error)
    }
    const headers: Record<string, string | number> = { ...req.headers }
    if (req.body) headers['content-length'] = req.body.length
    const r = mod.request(
      {
        host: this.target.host,
        port: this.target.port,
        method: req.method,
        path: this.target.basePath + req.path,
        headers,
        agent: this.agent,
      },
      (res) => {
        let bytes = 0
        res.on('data', (c: Buffer) => (bytes += c.length))
        res.on('end', () => finish(res.statusCode ?? 0, bytes))
        res.on('error', (err: NodeJS.ErrnoException) => finish(0, bytes, err.code ?? err.message))
      },
    )
    r.on('error', (err: NodeJS.ErrnoException) => finish(0, 0, err.code ?? err.message))
    this.inFlight.set(slot, r)
    r.end(req.body)
  }

  abort(slot: number, reason: string): void {
    this.inFlight.get(slot)?.destroy(new Error(reason))
  }

  close(): void {
    for (const r of this.inFlight.values()) r.destroy()
    this.agent.destroy()
  }
}
