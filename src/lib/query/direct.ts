/**
 * `aiops query --direct`: opens the configured store in this process and runs the query there. For a ClickHouse
 * server it is the same as --url at the server, with the configured credentials. For chDB it only works while no
 * other process (a running `aiops up`) has the data directory open: chDB cannot share a directory between
 * processes, so that case is explained instead of surfacing the engine's error.
 */
import type { AiopsConfig } from '../config/index.js'
import { redactUrl } from '../config/redact.js'
import { AiopsError, DependencyError } from '../errors.js'
import { createStore } from '../store/index.js'
import { parseParams } from './params.js'
import type { QueryRequest, QueryResult } from './types.js'

export async function queryDirect(config: AiopsConfig, req: QueryRequest): Promise<QueryResult> {
  const s = config.store
  const target = s.backend === 'chdb' ? `chdb at ${s.chdb.path}` : `clickhouse at ${redactUrl(s.clickhouse.url)}`
  const store = await createStore({
    backend: s.backend,
    chdb: { path: s.chdb.path, database: req.database },
    clickhouse: { ...s.clickhouse, database: req.database, requestTimeoutMs: req.timeoutMs },
  })
  const t0 = performance.now()
  try {
    const params = Object.keys(req.params).length > 0 ? { params: parseParams(req.params) } : {}
    const rows = await store.query<Record<string, unknown>>(req.sql, params)
    const truncated = rows.length > req.limit
    const kept = truncated ? rows.slice(0, req.limit) : rows
    return {
      columns: Object.keys(kept[0] ?? {}).map((name) => ({ name, type: '' })),
      rows: kept,
      rowCount: kept.length,
      truncated,
      elapsedMs: Math.round(performance.now() - t0),
      source: 'direct',
      target,
    }
  } catch (err) {
    throw s.backend === 'chdb' ? explainChdb(err, s.chdb.path) : err
  } finally {
    await store.close().catch(() => {})
  }
}

/** chDB refusing the directory almost always means `aiops up` holds it. */
function explainChdb(err: unknown, path: string): unknown {
  const msg = err instanceof Error ? err.message : String(err)
  const code = err instanceof AiopsError ? err.details.chdbCode : undefined
  if (code !== 'CHDB_CONNECTION' && !/create connection|cannot lock|already running/i.test(msg)) return err
  return new DependencyError('chdb', `the embedded store at ${path} is in use by another process (is \`aiops up\` running?)`, {
    retriable: false,
    cause: err,
    suggestions: [
      'query the running pipeline over HTTP instead: aiops query "SQL" (default --url http://127.0.0.1:8124)',
      'or stop `aiops up` first, then use --direct',
    ],
  })
}
