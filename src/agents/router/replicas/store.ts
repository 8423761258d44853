/**
 * The in-process store as a replica (`aiops up`: chDB). The store hands back rows, so the router writes the
 * requested ClickHouse format itself (src/lib/routing/formats.ts) from ClickHouse's own
 * JSONCompactEachRowWithNamesAndTypes output, which carries exact names, types and 64-bit values. Settings are
 * applied by wrapping the query (`SELECT * FROM (…) SETTINGS …`), because the store's session is shared with the
 * ingest path and must not be changed with SET.
 * A chDB query cannot be killed by id: max_execution_time is what stops a long one here.
 */
import type { HealthResult } from '../../../lib/bus/types.js'
import { QueryRefusedError } from '../../../lib/routing/errors.js'
import { canonicalFormat, formatResult, ROW_FORMATS } from '../../../lib/routing/formats.js'
import type { Tier } from '../../../lib/routing/tiers.js'
import { messageOf } from '../../../lib/store/errors.js'
import type { Store } from '../../../lib/store/types.js'
import { ReplicaUnavailableError, type Replica, type ReplicaRequest, type ReplicaResponse } from './types.js'

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export class StoreReplica implements Replica {
  readonly kind = 'embedded' as const
  constructor(
    private readonly store: Store,
    readonly name: string,
    readonly tiers: readonly Tier[],
  ) {}

  async execute(req: ReplicaRequest): Promise<ReplicaResponse> {
    const format = canonicalFormat(req.format)
    if (format === undefined) {
      throw new QueryRefusedError(
        `format ${req.format} is not available from the embedded store (${ROW_FORMATS.join(', ')}); point router.replicas at a ClickHouse server for others`,
        'UNKNOWN_FORMAT',
      )
    }
    const settings = Object.entries(req.settings).filter(([k]) => SETTING_NAME.test(k) && k !== 'enable_optimize_predicate_expression')
    const quote64 = req.settings.output_format_json_quote_64bit_integers
    const clause = settings.map(([k, v]) => `${k} = ${/^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`}`).join(', ')
    const sql = req.kind === 'select' && clause ? `SELECT * FROM (${req.sql}) SETTINGS ${clause}` : req.sql
    const t0 = performance.now()
    let lines: unknown[][]
    try {
      lines = await this.store.query<unknown[]>(`${sql}\nFORMAT JSONCompactEachRowWithNamesAndTypes`, {
        signal: req.signal,
        ...(Object.keys(req.params).length > 0 ? { params: req.params } : {}),
      })
    } catch (err) {
      const e = err as { retriable?: boolean; details?: { clickhouseCode?: number } }
      // Unreachable store: let the pool try elsewhere. A query the engine refused: answer as ClickHouse would.
      if (e.details?.clickhouseCode === undefined && e.retriable !== false) throw new ReplicaUnavailableError(this.name, messageOf(err), { cause: err })
      return errorResponse(e.details?.clickhouseCode ?? 1002, messageOf(err))
    }
    const [names = [], types = [], ...rows] = lines
    const out = formatResult(format, { names: names as string[], types: types as string[], rows }, {
      quote64: quote64 === '1' || quote64 === 'true',
      elapsedS: (performance.now() - t0) / 1000,
    })
    return {
      status: 200,
      headers: { 'content-type': out.contentType, 'x-clickhouse-format': format, 'x-clickhouse-timezone': 'UTC' },
      head: out.body,
      complete: true,
      rest: undefined,
      release: () => {},
    }
  }

  ping(): Promise<HealthResult> {
    return this.store.ping()
  }

  async kill(_queryId: string): Promise<void> {
    // No handle on a running chDB query: max_execution_time (sent with every query) ends it.
  }

  async close(): Promise<void> {
    // The store belongs to the host; it closes it.
  }
}

function errorResponse(code: number, message: string): ReplicaResponse {
  const status = code === 60 || code === 81 ? 404 : code === 62 ? 400 : code === 159 ? 504 : 500
  const body = Buffer.from(`Code: ${code}. DB::Exception: ${message.replace(/^chdb refused [^:]*: /, '')}\n`)
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-exception-code': String(code) },
    head: body,
    complete: true,
    rest: undefined,
    release: () => {},
  }
}
