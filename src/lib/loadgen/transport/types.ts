/**
 * How requests reach the target. The dispatcher owns concurrency (a fixed number of slots, each one request at a
 * time, like wrk's connections); a transport only moves one request over one slot.
 */

export interface PreparedRequest {
  method: string
  /** Path and query, e.g. `/v1/traces`. */
  path: string
  headers: Record<string, string>
  body?: Buffer
  /** What the request is, for per-kind counts: `traces`, `sql-hot`, `GET`… */
  tag: string
  /** Telemetry items carried (spans + points + log records), for throughput in events/s; 0 for queries. */
  events: number
  /** The raw transport's serialized bytes, cached on requests that are sent many times. */
  wire?: Buffer
}

export interface TargetAddress {
  protocol: 'http:' | 'https:'
  host: string
  port: number
  /** `host:port` as sent in the Host header. */
  hostHeader: string
  /** Base path of the target URL, prefixed to relative request paths. */
  basePath: string
}

/** status is the HTTP status, or 0 when no response arrived (connection refused, reset, timeout). */
export type SendCallback = (status: number, bytes: number, error?: string) => void

export interface Transport {
  readonly name: TransportName
  send(slot: number, req: PreparedRequest, cb: SendCallback): void
  /** Gives up on the slot's request (timeout): its callback fires with an error, the slot is usable again. */
  abort(slot: number, reason: string): void
  close(): void
}

export type TransportName = 'raw' | 'http' | 'fetch'
export const TRANSPORTS: readonly TransportName[] = ['raw', 'http', 'fetch']

export function parseTarget(url: string): TargetAddress {
  const u = new URL(url)
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`unsupported protocol ${u.protocol}`)
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80
  return {
    protocol: u.protocol,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    hostHeader: u.host,
    basePath: u.pathname === '/' ? '' : u.pathname.replace(/\/$/, ''),
  }
}
