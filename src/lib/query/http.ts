/**
 * `aiops query` over the ClickHouse HTTP interface: what the router serves for `aiops up` (default
 * http://127.0.0.1:8124) and what any ClickHouse server speaks (18.16 onwards). Only the basic protocol is used —
 * POST the SQL, `database` and `default_format=JSON` in the URL, basic auth — so it works through proxies too.
 * Placeholders are bound here (store/sql.ts bindParams) rather than sent as param_x: servers before 19.11 have no
 * query parameters, and a typed literal works everywhere.
 *
 * The row limit is applied here, not with max_result_rows: that setting is also checked for subqueries, and with
 * result_overflow_mode=break it would silently cut a subquery short and return a wrong answer.
 */
import { DependencyError, UsageError } from '../errors.js'
import { redactUrl } from '../config/redact.js'
import { cleanMessage, clickhouseCode, networkSummary, toStoreError } from '../store/errors.js'
import { bindParams } from '../store/sql.js'
import { parseParams } from './params.js'
import type { QueryColumn, QueryRequest, QueryResult } from './types.js'

/** A result larger than this is refused rather than held in memory: the SQL needs a LIMIT. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024

export interface HttpTarget {
  url: string
  username?: string
  password?: string
}

interface JsonFormat {
  meta?: QueryColumn[]
  data?: Array<Record<string, unknown>>
}

export async function queryOverHttp(target: HttpTarget, req: QueryRequest): Promise<QueryResult> {
  let endpoint: URL
  try {
    endpoint = new URL(target.url)
  } catch {
    throw new UsageError(`--url ${JSON.stringify(target.url)} is not a URL`, { suggestions: ['e.g. --url http://127.0.0.1:8124'] })
  }
  const shown = redactUrl(target.url)
  const sql = Object.keys(req.params).length > 0 ? bindParams(req.sql, parseParams(req.params)) : req.sql
  endpoint.searchParams.set('database', req.database)
  endpoint.searchParams.set('default_format', 'JSON')
  // 64-bit integers as exact strings (the default on 18.16, not on 26.x): UInt64 nanoseconds stay exact.
  endpoint.searchParams.set('output_format_json_quote_64bit_integers', '1')
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' }
  const user = target.username ?? (endpoint.username ? decodeURIComponent(endpoint.username) : undefined)
  const pass = target.password ?? (endpoint.password ? decodeURIComponent(endpoint.password) : '')
  endpoint.username = ''
  endpoint.password = ''
  if (user) headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

  const t0 = performance.now()
  let res: Response
  try {
    res = await fetch(endpoint, { method: 'POST', body: sql, headers, signal: AbortSignal.timeout(req.timeoutMs) })
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
    throw new DependencyError('query', timedOut
      ? `no answer from ${shown} within ${req.timeoutMs} ms (--timeout)`
      : `nothing answers at ${shown} (--url): ${networkSummary((err as { cause?: unknown }).cause ?? err)}`, {
      retriable: true,
      cause: err,
      details: { url: shown },
      suggestions: timedOut
        ? ['raise --timeout, or narrow the query (WHERE on the time column, LIMIT)']
        : [
            'start the pipeline with `aiops up`: it serves this ClickHouse HTTP interface on 127.0.0.1:8124',
            'or read the configured store in-process with --direct (a ClickHouse server, or chDB when no `aiops up` is running)',
            'or point --url at a ClickHouse server, e.g. --url http://clickhouse:8123',
          ],
    })
  }
  const body = await readCapped(res, shown)
  if (!res.ok) throw refusal(res.status, body, shown)
  const elapsedMs = Math.round(performance.now() - t0)
  const { columns, rows } = parseBody(body)
  const truncated = rows.length > req.limit
  return { columns, rows: truncated ? rows.slice(0, req.limit) : rows, rowCount: Math.min(rows.length, req.limit), truncated, elapsedMs, source: 'url', target: shown }
}

async function readCapped(res: Response, shown: string): Promise<string> {
  if (!res.body) return ''
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length
    if (size > MAX_RESPONSE_BYTES) {
      throw new UsageError(`the result from ${shown} is larger than ${MAX_RESPONSE_BYTES >> 20} MiB`, {
        suggestions: ['add a LIMIT, or aggregate (count(), GROUP BY) instead of selecting raw rows'],
      })
    }
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * A ClickHouse refusal of the query itself (syntax, unknown table or column, type mismatch, no rights) is the
 * query's fault: exit 2, whatever HTTP status the server chose (18.16 answers most of them with 500). Overload,
 * timeouts and answers without a ClickHouse error code are the endpoint's: exit 1.
 */
function refusal(status: number, body: string, shown: string): Error {
  const code = clickhouseCode(body)
  const message = cleanMessage(body.trim()) || `HTTP ${status}`
  const transient = code === undefined || toStoreError(new Error(body), { dependency: 'clickhouse', op: 'query', locationHint: '--url' }).retriable
  if (!transient) {
    return new UsageError(`the server refused the query (code ${code}): ${message}`, {
      details: { clickhouseCode: code, status },
      suggestions: code === 60 || code === 81
        ? ['list what exists with: aiops query "SHOW TABLES"', 'the database is --database (default: the configured store database)']
        : code === 516 || code === 192 || code === 193 || code === 194
          ? ['pass --user and --password (or AIOPS_QUERY_PASSWORD)']
          : ['check the SQL; ClickHouse syntax, e.g. SELECT count() FROM spans WHERE start_time > now() - INTERVAL 1 HOUR'],
    })
  }
  return new DependencyError('query', `${shown} answered HTTP ${status}: ${message}`, {
    retriable: true,
    details: { status, ...(code === undefined ? {} : { clickhouseCode: code }) },
    suggestions: code === undefined
      ? [`check that ${shown} is a ClickHouse HTTP endpoint (the aiops router or a ClickHouse server)`]
      : ['the server is overloaded or restarting; try again shortly'],
  })
}

/** JSON format output; a statement without result gives an empty body; SQL with its own FORMAT gives lines. */
function parseBody(body: string): { columns: QueryColumn[]; rows: Array<Record<string, unknown>> } {
  if (body.trim() === '') return { columns: [], rows: [] }
  try {
    const j = JSON.parse(body) as JsonFormat
    if (j && Array.isArray(j.data)) return { columns: j.meta ?? [], rows: j.data }
  } catch {
    // not our JSON: the statement chose its own output format
  }
  const lines = body.replace(/\n$/, '').split('\n')
  return { columns: [{ name: 'result', type: 'String' }], rows: lines.map((result) => ({ result })) }
}
