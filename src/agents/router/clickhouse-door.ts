/**
 * The ClickHouse HTTP protocol, as ClickHouse serves it on :8123, so @clickhouse/client, curl and Grafana's
 * ClickHouse data source work when pointed at the router:
 * - `GET /ping` (and `GET /` without a query) → `Ok.\n`;
 * - the query in the `query` parameter (GET or POST) and/or the POST body (ClickHouse joins them with a newline);
 *   `Content-Encoding: gzip|deflate` bodies;
 * - `default_format`, a FORMAT clause, `database`, `query_id`, `param_*`, settings as URL parameters;
 * - credentials as X-ClickHouse-User/X-ClickHouse-Key, `user`/`password` parameters, or basic auth (the password
 *   is the API key), or the API key header (router.auth.apiKeyHeader) / a Bearer token;
 * - `enable_http_compression=1` with Accept-Encoding gzip/deflate compresses the response;
 * - errors as ClickHouse writes them (`Code: N. DB::Exception: … (NAME)` and X-ClickHouse-Exception-Code).
 * Refused: sessions (`session_id`: state across requests would escape the per-request checks) and ClickHouse's
 * native block compression (`compress`/`decompress`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createGunzip, createInflate, gzipSync, deflateSync } from 'node:zlib'
import { QueryRefusedError } from '../../lib/routing/errors.js'
import { HTTP_ONLY_PARAMS, type RouterPolicy } from '../../lib/routing/policy.js'
import type { Logger } from '../../lib/telemetry/index.js'
import { flatHeaders } from './cache.js'
import type { QueryExecutor, QueryResponse } from './executor.js'
import type { RequestTallies, RouterMetrics } from './metrics.js'
import type { Credentials, TenantDirectory } from './tenants.js'

/** ClickHouse's default max_query_size is 256 KiB; a little more room for parameters in the body. */
const MAX_BODY_BYTES = 1024 * 1024
const QUERY_ID = /^[\x21-\x7e]{1,128}$/

export interface DoorDeps {
  /** Lower-case name of the API key header. */
  apiKeyHeader: string
  executor: QueryExecutor
  tenants: TenantDirectory
  policy: RouterPolicy
  metrics: RouterMetrics
  /** aiops_router_requests_total, tallied (metrics.ts). */
  tallies: RequestTallies
  logger: Logger
}

export function credentialsOf(req: IncomingMessage, params: URLSearchParams, apiKeyHeader: string): Credentials {
  const h = req.headers
  const apiKey = header(h[apiKeyHeader])
  const auth = header(h.authorization) ?? ''
  if (apiKey) return { key: apiKey }
  if (/^bearer /i.test(auth)) return { key: auth.slice(7).trim() }
  let user = header(h['x-clickhouse-user']) ?? params.get('user') ?? undefined
  let key = header(h['x-clickhouse-key']) ?? params.get('password') ?? undefined
  if (/^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8')
    const i = decoded.indexOf(':')
    user ??= i < 0 ? decoded : decoded.slice(0, i)
    key ??= i < 0 ? '' : decoded.slice(i + 1)
  }
  return { ...(key ? { key } : {}), ...(user ? { user } : {}) }
}

/** The ClickHouse door; `p` is the request's query string (server.ts parses no more of the URL than that). */
export async function handleClickHouse(req: IncomingMessage, res: ServerResponse, p: URLSearchParams, deps: DoorDeps): Promise<void> {
  const t0 = performance.now()
  let cache: CacheLabel = 'none'
  let status = 500
  try {
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
      throw new QueryRefusedError(`HTTP method ${req.method} is not supported; use GET or POST`, 'BAD_ARGUMENTS')
    }
    const body = req.method === 'POST' ? await readBody(req) : ''
    const q = p.get('query')
    const sql = q !== null && body ? `${q}\n${body}` : (q ?? body)
    if (sql.trim() === '' && req.method !== 'POST') {
      status = 200
      return send(res, 200, { 'content-type': 'text/html; charset=UTF-8' }, Buffer.from('Ok.\n'), req.method === 'HEAD')
    }
    const tenant = deps.tenants.authenticate(credentialsOf(req, p, deps.apiKeyHeader))
    if (sql.trim() === '') throw new QueryRefusedError('Empty query', 'SYNTAX_ERROR')
    if (p.size > 0) {
      for (const banned of BANNED_PARAMS) {
        if (p.has(banned) && !(banned.endsWith('compress') && p.get(banned) === '0')) {
          throw new QueryRefusedError(`parameter ${banned} is not supported by the router (sessions and native compression are off)`, 'BAD_ARGUMENTS')
        }
      }
    }
    const db = p.get('database') ?? header(req.headers['x-clickhouse-database'])
    if (db && db !== 'default' && db !== deps.policy.database) {
      throw new QueryRefusedError(`database ${db} is not readable; tenants read ${deps.policy.database}`, 'ACCESS_DENIED')
    }
    const queryId = p.get('query_id') || undefined
    if (queryId !== undefined && !QUERY_ID.test(queryId)) throw new QueryRefusedError('query_id must be 1-128 printable characters', 'BAD_ARGUMENTS')
    const settings: Record<string, string> = {}
    const params: Record<string, string> = {}
    if (p.size > 0) {
      for (const [k, v] of p) {
        if (k.startsWith('param_')) params[k.slice(6)] = v
        else if (!HTTP_ONLY_PARAMS.has(k)) settings[k] = v
      }
    }
    const r = await deps.executor.run({
      tenant,
      sql,
      format: p.get('default_format') ?? header(req.headers['x-clickhouse-format']) ?? undefined,
      settings,
      params,
      queryId,
      watchCaller: (fn) => watchClose(res, fn),
    })
    cache = r.cache === 'HIT-L1' ? 'hit_l1' : r.cache === 'HIT-L2' ? 'hit_l2' : 'miss'
    status = r.status
    const written = writeResult(req, res, r, p.get('enable_http_compression') === '1')
    if (written) await written
  } catch (err) {
    status = writeError(res, err, deps.logger)
  } finally {
    countRequest(deps, status, cache, (performance.now() - t0) / 1000)
  }
}

type CacheLabel = 'none' | 'hit_l1' | 'hit_l2' | 'miss'
const BANNED_PARAMS = ['session_id', 'session_timeout', 'session_check', 'compress', 'decompress']

const durationLabels = {
  none: { door: 'clickhouse', cache: 'none' },
  hit_l1: { door: 'clickhouse', cache: 'hit_l1' },
  hit_l2: { door: 'clickhouse', cache: 'hit_l2' },
  miss: { door: 'clickhouse', cache: 'miss' },
} as const

function countRequest(deps: DoorDeps, status: number, cache: CacheLabel, seconds: number): void {
  deps.tallies.of('clickhouse', cache, status).n++
  deps.metrics.requestSeconds.observe(durationLabels[cache], seconds)
}

/** Writes the answer; returns a promise only when the body is streamed (larger than the buffer). */
function writeResult(req: IncomingMessage, res: ServerResponse, r: QueryResponse, compress: boolean): Promise<void> | undefined {
  // A flat [name, value, …] list: node's writeHead takes it without walking an object per response.
  const headers = r.headerList ? r.headerList.slice() : flatHeaders(r.headers)
  headers.push('x-clickhouse-query-id', r.queryId, 'x-clickhouse-server-display-name', 'aiops-router', 'x-cache', r.cache)
  if (r.replica) headers.push('x-aiops-replica', r.replica)
  if (r.uncacheable) headers.push('x-aiops-uncacheable', r.uncacheable)
  if (r.rest === undefined) {
    const encoding = compress ? acceptedEncoding(header(req.headers['accept-encoding'])) : undefined
    const body = encoding === 'gzip' ? gzipSync(r.head) : encoding === 'deflate' ? deflateSync(r.head) : r.head
    if (encoding) headers.push('content-encoding', encoding)
    r.release()
    headers.push('content-length', String(body.length))
    res.writeHead(r.status, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
    return undefined
  }
  return streamResult(res, r, headers)
}

/** Larger than the buffer: the rest streams through as it arrives (no Content-Length, chunked), uncompressed. */
async function streamResult(res: ServerResponse, r: QueryResponse, headers: string[]): Promise<void> {
  res.writeHead(r.status, headers)
  try {
    if (!res.write(r.head)) await drained(res)
    for await (const chunk of r.rest as AsyncIterable<Buffer>) if (!res.write(chunk)) await drained(res)
    res.end()
  } catch {
    res.destroy() // the replica broke off mid-stream, or the caller left: end the response abnormally
  } finally {
    r.release()
  }
}

/** A refusal as ClickHouse writes one; anything else is a 500 with the message (and logged). */
export function writeError(res: ServerResponse, err: unknown, logger: Logger): number {
  if (res.headersSent) {
    res.destroy()
    return 500
  }
  if (err instanceof QueryRefusedError) {
    send(res, err.httpStatus, {
      'content-type': 'text/plain; charset=UTF-8',
      'x-clickhouse-exception-code': String(err.clickhouseCode),
      ...(err.retryAfterS !== undefined ? { 'retry-after': String(err.retryAfterS) } : {}),
    }, Buffer.from(err.clickhouseBody()), false)
    return err.httpStatus
  }
  logger.error('query failed in the router', { err })
  const msg = err instanceof Error ? err.message : String(err)
  send(res, 500, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-exception-code': '1002' }, Buffer.from(`Code: 1002. DB::Exception: ${msg}. (UNKNOWN_EXCEPTION) (version aiops-router)\n`), false)
  return 500
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer, head: boolean): void {
  res.writeHead(status, { ...headers, 'content-length': String(body.length) })
  res.end(head ? undefined : body)
}

function acceptedEncoding(accept: string | undefined): 'gzip' | 'deflate' | undefined {
  if (!accept) return undefined
  if (/\bgzip\b/i.test(accept)) return 'gzip'
  if (/\bdeflate\b/i.test(accept)) return 'deflate'
  return undefined
}

async function readBody(req: IncomingMessage): Promise<string> {
  const enc = header(req.headers['content-encoding'])?.toLowerCase()
  if (/^multipart\//i.test(header(req.headers['content-type']) ?? '')) {
    throw new QueryRefusedError('multipart request bodies are not supported; send the query as the body and parameters in the URL', 'BAD_ARGUMENTS')
  }
  const source = enc === 'gzip' ? req.pipe(createGunzip()) : enc === 'deflate' ? req.pipe(createInflate()) : req
  if (enc && enc !== 'gzip' && enc !== 'deflate' && enc !== 'identity') {
    throw new QueryRefusedError(`Content-Encoding ${enc} is not supported (gzip, deflate)`, 'BAD_ARGUMENTS')
  }
  // Events, not `for await`: this runs on every request, and the async iterator costs more than the read itself.
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    source.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY_BYTES) {
        source.removeAllListeners('data')
        reject(new QueryRefusedError(`the query is larger than ${MAX_BODY_BYTES} bytes`, 'BAD_ARGUMENTS'))
        req.resume()
        return
      }
      chunks.push(c)
    })
    source.once('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')))
    source.once('error', (err: Error) => reject(new QueryRefusedError(`the request body could not be read: ${err.message}`, 'BAD_ARGUMENTS')))
  })
}

/** Calls `fn` when the connection closes before the response finished; returns the unsubscribe. */
export function watchClose(res: ServerResponse, fn: () => void): () => void {
  const on = (): void => {
    if (!res.writableFinished) fn()
  }
  res.once('close', on)
  return () => res.off('close', on)
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => (res.off('close', onClose), resolve())
    const onClose = (): void => (res.off('drain', onDrain), reject(new Error('client closed')))
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
