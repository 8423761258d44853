/**
 * A ClickHouse server as a replica, over its HTTP interface with a keep-alive agent. The response is streamed: the
 * first `bufferBytes` are held back so that a small result (nearly all dashboard queries) arrives whole before
 * anything reaches the caller, which is what makes it cacheable and safely retriable elsewhere; a larger one is
 * passed through as it arrives.
 */
import { Agent, request, type IncomingMessage } from 'node:http'
import type { HealthResult } from '../../../lib/bus/types.js'
import { quoteString } from '../../../lib/store/sql.js'
import type { Tier } from '../../../lib/routing/tiers.js'
import { ReplicaUnavailableError, type Replica, type ReplicaRequest, type ReplicaResponse } from './types.js'

export interface HttpReplicaOptions {
  name: string
  tiers: readonly Tier[]
  url: string
  username: string
  password: string
  /** Connect + time to response headers. */
  timeoutMs: number
  maxSockets?: number
}

const PASS_HEADERS = ['content-type', 'x-clickhouse-format', 'x-clickhouse-timezone', 'x-clickhouse-summary', 'x-clickhouse-exception-code']

export class HttpReplica implements Replica {
  readonly kind = 'http' as const
  readonly name: string
  readonly tiers: readonly Tier[]
  private readonly agent: Agent
  private readonly base: URL
  /** Authorization headers by user, built once (per-tenant replica users are few and fixed by configuration). */
  private readonly authHeaders = new Map<string, string>()

  constructor(private readonly opts: HttpReplicaOptions) {
    this.name = opts.name
    this.tiers = opts.tiers
    this.base = new URL(opts.url)
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 128, keepAliveMsecs: 1000 })
  }

  async execute(req: ReplicaRequest): Promise<ReplicaResponse> {
    const search = new URLSearchParams({ query_id: req.queryId, database: req.database })
    for (const [k, v] of Object.entries(req.settings)) search.set(k, v)
    for (const [k, v] of Object.entries(req.params)) search.set(`param_${k}`, v)
    const body = `${req.sql}\nFORMAT ${req.format}`
    const res = await this.send('POST', `/?${search}`, body, req.auth, req.signal)
    return collect(res, req.bufferBytes, this.name)
  }

  async ping(): Promise<HealthResult> {
    try {
      const res = await this.send('GET', '/ping', undefined, undefined, AbortSignal.timeout(Math.min(this.opts.timeoutMs, 2000)))
      const text = await readAll(res)
      return res.statusCode === 200 && text.startsWith('Ok.') ? { ok: true } : { ok: false, error: `HTTP ${res.statusCode}: ${text.slice(0, 120)}` }
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) }
    }
  }

  async kill(queryId: string): Promise<void> {
    try {
      const res = await this.send('POST', '/', `KILL QUERY WHERE query_id = ${quoteString(queryId)} ASYNC`, undefined, AbortSignal.timeout(5000))
      await readAll(res)
    } catch {
      // The replica is gone or the query already ended: either way it no longer runs here.
    }
  }

  async close(): Promise<void> {
    this.agent.destroy()
  }

  private authHeader(auth: ReplicaRequest['auth']): string {
    const user = auth?.username ?? this.opts.username
    const password = auth?.password ?? this.opts.password
    const k = `${user}\0${password}`
    let h = this.authHeaders.get(k)
    if (h === undefined) {
      h = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
      if (this.authHeaders.size < 1000) this.authHeaders.set(k, h)
    }
    return h
  }

  private send(method: string, path: string, body: string | undefined, auth: ReplicaRequest['auth'], signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r = request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path,
          method,
          agent: this.agent,
          signal,
          headers: {
            authorization: this.authHeader(auth),
            ...(body === undefined ? {} : { 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(body) }),
          },
        },
        resolve,
      )
      r.setTimeout(this.opts.timeoutMs, () => r.destroy(new Error(`no response within ${this.opts.timeoutMs}ms`)))
      r.once('error', (err) => reject(new ReplicaUnavailableError(this.name, err.message, { cause: err })))
      r.end(body)
    })
  }
}

/**
 * Reads up to `limit` bytes; the response is complete when it ended within them. Events, not an async iterator:
 * this runs on every miss, and a result of a few KiB arrives in one or two chunks.
 */
function collect(res: IncomingMessage, limit: number, name: string): Promise<ReplicaResponse> {
  // Headers are in: the response timeout no longer applies (a long query is bounded by max_execution_time).
  res.socket?.setTimeout(0)
  const headers: Record<string, string> = {}
  for (const h of PASS_HEADERS) {
    const v = res.headers[h]
    if (typeof v === 'string') headers[h] = v
  }
  const status = res.statusCode ?? 500
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    if (!res.complete) res.destroy()
  }
  return new Promise<ReplicaResponse>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = (): void => {
      res.off('data', onData)
      res.off('end', onEnd)
      res.off('error', onError)
      res.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      size += chunk.length
      if (size <= limit) return
      // Over the buffer: hand over what came so far; the rest is read by whoever streams the response on.
      stop()
      res.pause()
      resolve({ status, headers, head: Buffer.concat(chunks, size), complete: false, rest: restOf(res, release), release })
    }
    const onEnd = (): void => {
      stop()
      release()
      resolve({ status, headers, head: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), complete: true, rest: undefined, release })
    }
    const onError = (err: Error): void => {
      stop()
      release()
      reject(new ReplicaUnavailableError(name, `response broke off: ${err.message}`, { cause: err }))
    }
    // Closed without 'end' or an error: aborted (it will never end), unless the body had fully arrived.
    const onClose = (): void => (res.complete ? onEnd() : onError(new Error('closed before the end of the response')))
    res.on('data', onData)
    res.once('end', onEnd)
    res.once('error', onError)
    res.once('close', onClose)
  })
}

/** The remainder of a response past the buffer; iterating it to the end (or leaving early) releases it. */
function restOf(res: IncomingMessage, release: () => void): AsyncIterable<Buffer> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const chunk of res) yield chunk as Buffer
      } finally {
        release()
      }
    },
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
