/**
 * The router's one listener: the ClickHouse HTTP protocol on `/` (plus `/ping` and `/replicas_status` as ClickHouse
 * answers them) and the JSON API under `/api/`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { UsageError } from '../../lib/errors.js'
import type { Logger } from '../../lib/telemetry/index.js'
import { handleApi, type ApiDeps } from './api.js'
import { handleClickHouse, writeError, type DoorDeps } from './clickhouse-door.js'

export interface RouterServer {
  url: string
  port: number
  /** Stops accepting, lets requests in flight finish, then closes idle keep-alive connections. Safe to call twice. */
  close(): Promise<void>
}

export interface RouterServerOptions {
  host: string
  port: number
  door: DoorDeps
  api: ApiDeps
  /** How many replicas are usable now (for /replicas_status). */
  available: () => number
  logger: Logger
}

export async function startRouterServer(o: RouterServerOptions): Promise<RouterServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://router')
    if (url.pathname === '/ping') return text(req, res, 200, 'Ok.\n')
    if (url.pathname === '/replicas_status') {
      return o.available() > 0 ? text(req, res, 200, 'Ok.\n') : text(req, res, 503, 'No replica is available.\n')
    }
    if (url.pathname.startsWith('/api/')) return handleApi(req, res, url, o.api)
    if (url.pathname === '/') return handleClickHouse(req, res, url.searchParams, o.door)
    return text(req, res, 404, `There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\nOr /api/v1/... for the JSON API.\n`)
  }
  // handleClickHouse answers every error itself; this only logs a bug in that.
  const onDoorBug = (err: unknown): void => o.logger.error('router door failed', { err })
  const server = createServer((req, res) => {
    const target = req.url ?? '/'
    // The door's requests (`/` or `/?…`), nearly all of them, skip the full URL parse: the query string is all they need.
    if (target === '/' || target.startsWith('/?')) {
      handleClickHouse(req, res, new URLSearchParams(target.slice(2)), o.door).catch(onDoorBug)
      return
    }
    handle(req, res).catch((err: unknown) => writeError(res, err, o.logger))
  })
  // Dashboards keep connections open between refreshes; ClickHouse's own keep-alive timeout is 10 s by default.
  server.keepAliveTimeout = 10_000
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port, o.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    throw new UsageError(`router cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`, {
      code: 'AIOPS_ROUTER_LISTEN',
      cause: err,
      suggestions: ['choose another router.port (0 picks a free one) or stop the process that holds it'],
    })
  }
  const port = (server.address() as AddressInfo).port
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`
  let closing: Promise<void> | undefined
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      return closing
    },
  }
}

function text(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': String(Buffer.byteLength(body)) })
  res.end(req.method === 'HEAD' ? undefined : body)
}
