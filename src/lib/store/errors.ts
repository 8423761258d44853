/**
 * Failures of either store backend → DependencyError. Retriable means "the same call may succeed later":
 * network errors, timeouts and server overload. A query the server understood and refused (syntax, unknown
 * table, type mismatch, bad credentials) fails the same way every time, so it is not retriable, and the
 * message keeps ClickHouse's own explanation so the caller can see what to fix.
 */
import { AiopsError, DependencyError, InterruptedError } from '../errors.js'

/** ClickHouse error codes that describe a transient condition. Every other server-reported code is permanent. */
const RETRIABLE_CODES = new Set([
  3, // UNEXPECTED_END_OF_FILE (connection cut mid-body)
  32, // ATTEMPT_TO_READ_AFTER_EOF
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY (replica lost its keeper session)
  252, // TOO_MANY_PARTS (inserts faster than merges: back off)
  279, // ALL_CONNECTION_TRIES_FAILED
  285, // TOO_FEW_LIVE_REPLICAS
  319, // UNKNOWN_STATUS_OF_INSERT
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
])

const SCHEMA_CODES = new Set([60, 81]) // UNKNOWN_TABLE, UNKNOWN_DATABASE
const AUTH_CODES = new Set([192, 193, 194, 516]) // UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE',
])
const NETWORK_TEXT = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|other side closed|Timeout error|timed out/i

/** The ClickHouse error code in a message: "Code: 62. DB::Exception" (new) or "Code: 62, e.displayText()" (18.x). */
export function clickhouseCode(err: unknown): number | undefined {
  if (err && typeof err === 'object') {
    const c = (err as { clickhouseCode?: unknown }).clickhouseCode
    if (typeof c === 'number') return c
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code)
  }
  const m = /Code: (\d+)[.,]/.exec(messageOf(err))
  return m ? Number(m[1]) : undefined
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** ClickHouse's explanation without the wrapping ("Code: n, e.displayText() = DB::Exception: ...", version tails). */
export function cleanMessage(msg: string): string {
  const i = msg.lastIndexOf('DB::Exception: ')
  let s = i >= 0 ? msg.slice(i + 'DB::Exception: '.length) : msg
  s = s.replace(/,? e\.what\(\) = DB::Exception\s*$/s, '').replace(/\s*\(version [^)]*\)\s*$/s, '').trim()
  return s.length > 600 ? s.slice(0, 600) + '…' : s
}

export function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code
  }
  const m = NETWORK_TEXT.exec(messageOf(err))
  return m ? m[0] : undefined
}

/** "ECONNREFUSED 127.0.0.1:8123": the network code first, once, without Node's "connect " prefix. */
export function networkSummary(err: unknown): string {
  const code = networkCode(err)
  const msg = messageOf(err).replace(/^connect /, '')
  return code === undefined || msg.includes(code) ? msg : `${code} ${msg}`
}

export interface StoreErrorContext {
  dependency: 'clickhouse' | 'chdb'
  /** What was being done, e.g. "insert into aiops.spans". */
  op: string
  /** Config field that locates the store, for suggestions ("store.clickhouse.url"). */
  locationHint: string
}

export function toStoreError(err: unknown, ctx: StoreErrorContext): AiopsError {
  if (err instanceof AiopsError) return err
  const raw = messageOf(err)
  const code = clickhouseCode(err)
  const net = code === undefined ? networkCode(err) : undefined
  const details: Record<string, unknown> = { op: ctx.op, ...(code === undefined ? {} : { clickhouseCode: code }) }
  if (net !== undefined) {
    return new DependencyError(ctx.dependency, `${ctx.dependency} unreachable during ${ctx.op}: ${networkSummary(err)}`, {
      retriable: true,
      cause: err,
      details,
      suggestions: [`check ${ctx.locationHint} and that the server is running and reachable`],
    })
  }
  if (code === undefined) {
    // No server code and no network code: an HTTP-level failure (proxy 502/503) or an engine hiccup. Presume
    // transient, as the shared retry policy does for unknown I/O errors.
    return new DependencyError(ctx.dependency, `${ctx.dependency} failed during ${ctx.op}: ${raw}`, {
      retriable: true,
      cause: err,
      details,
      suggestions: [`check ${ctx.locationHint}`],
    })
  }
  const retriable = RETRIABLE_CODES.has(code)
  const suggestions = retriable
    ? [`${ctx.dependency} is overloaded or restarting; the call can be retried with backoff`]
    : SCHEMA_CODES.has(code)
      ? ['run `aiops schema apply` to create the tables', `check the database name configured for ${ctx.dependency}`]
      : AUTH_CODES.has(code)
        ? ['check store.clickhouse.username and store.clickhouse.password']
        : ['the server refused this statement; fix the SQL or the rows (retrying cannot help)']
  return new DependencyError(ctx.dependency, `${ctx.dependency} refused ${ctx.op} (code ${code}): ${cleanMessage(raw)}`, {
    retriable,
    cause: err,
    details,
    suggestions,
  })
}

/**
 * A call whose signal fired fails with InterruptedError (not retriable: the caller asked to stop), whatever
 * the backend threw while being torn down.
 */
export function abortReason(signal: AbortSignal | undefined): AiopsError | undefined {
  if (!signal?.aborted) return undefined
  const r: unknown = signal.reason
  return new InterruptedError(r instanceof Error ? `store call aborted: ${r.message}` : 'store call aborted')
}
