/** What `aiops query` returns, whichever way it reached the data. */

export interface QueryColumn {
  name: string
  /** ClickHouse type; empty when the source does not say (direct mode reads rows without metadata). */
  type: string
}

export interface QueryResult {
  columns: QueryColumn[]
  rows: Array<Record<string, unknown>>
  rowCount: number
  /** True when the result was cut at the row limit (--limit). */
  truncated: boolean
  elapsedMs: number
  /** `url`: over the ClickHouse HTTP interface (the router or a server); `direct`: the configured store in-process. */
  source: 'url' | 'direct'
  /** The URL (password redacted) or the store backend and where it lives. */
  target: string
}

export interface QueryRequest {
  sql: string
  /** Values for {name:Type} placeholders, as given on the command line. */
  params: Record<string, string>
  database: string
  /** Most rows returned. */
  limit: number
  timeoutMs: number
}
