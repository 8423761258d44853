/** `aiops query`: read stored data over the ClickHouse HTTP interface (router or server) or the store in-process. */
export { queryOverHttp, type HttpTarget } from './http.js'
export { queryDirect } from './direct.js'
export { paramList, parseParams } from './params.js'
export { render, renderJson, renderTable, renderTsv, type QueryFormat } from './format.js'
export type { QueryColumn, QueryRequest, QueryResult } from './types.js'
