import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../lib/cli/base-command.js'
import { paramList, queryDirect, queryOverHttp, render, type QueryFormat, type QueryResult } from '../lib/query/index.js'

export default class Query extends BaseCommand<typeof Query> {
  static summary = 'Run a SQL query against the stored telemetry (spans, metric_points, logs, anomalies, incidents).'
  static description =
    'Speaks the ClickHouse HTTP interface to --url: by default the aiops router that `aiops up` serves on ' +
    '127.0.0.1:8124, or any ClickHouse server. --direct opens the configured store in this process instead (a ' +
    'ClickHouse server, or the embedded chDB when no `aiops up` holds it). Placeholders {name:Type} take --param ' +
    'name=value. Tables live in --database (default: the configured store database). Exit 2 when the server ' +
    'refuses the SQL, 1 when it cannot be reached.'
  static examples = [
    '<%= config.bin %> query "SELECT service, count() FROM spans GROUP BY service ORDER BY 2 DESC"',
    '<%= config.bin %> query "SELECT name, duration_ns FROM spans WHERE service = {svc:String} LIMIT 10" --param svc=checkout',
    '<%= config.bin %> query "SHOW TABLES" --url http://clickhouse:8123 --user default --json',
    'AIOPS_STORE_BACKEND=clickhouse AIOPS_STORE_CLICKHOUSE_URL=http://ch:8123 <%= config.bin %> query --direct "SELECT count() FROM logs"',
  ]

  static args = {
    sql: Args.string({ description: 'The SQL (ClickHouse dialect). Quote it for the shell.', required: true }),
  }

  static flags = {
    url: Flags.string({ summary: 'ClickHouse HTTP endpoint: the router or a server.', default: 'http://127.0.0.1:8124', env: 'AIOPS_QUERY_URL' }),
    direct: Flags.boolean({ summary: 'Open the configured store in-process instead of using --url.', default: false }),
    param: Flags.string({ char: 'p', summary: 'Value of a {name:Type} placeholder, as name=value (repeatable).', multiple: true, multipleNonGreedy: true, default: [] }),
    format: Flags.string({ char: 'f', summary: 'Human output format (--json prints the full result object).', options: ['table', 'json', 'tsv'], default: 'table' }),
    database: Flags.string({ char: 'd', summary: 'Database of unqualified table names (default: the configured store database).' }),
    user: Flags.string({ summary: 'User for --url (basic auth).', env: 'AIOPS_QUERY_USER' }),
    password: Flags.string({ summary: 'Password for --url.', env: 'AIOPS_QUERY_PASSWORD' }),
    limit: Flags.integer({ summary: 'Most rows to return; the rest is cut (the result says so).', default: 1000, min: 1 }),
    timeout: Flags.integer({ summary: 'Milliseconds to wait for the answer.', default: 30_000, min: 100 }),
  }

  async run(): Promise<QueryResult> {
    const { args, flags } = await this.parse(Query)
    const { config } = await this.loadConfig()
    const database = flags.database ?? (config.store.backend === 'chdb' ? config.store.chdb.database : config.store.clickhouse.database)
    const req = { sql: args.sql, params: paramList(flags.param), database, limit: flags.limit, timeoutMs: flags.timeout }
    const result = flags.direct
      ? await queryDirect(config, req)
      : await queryOverHttp({ url: flags.url, ...(flags.user ? { username: flags.user } : {}), ...(flags.password ? { password: flags.password } : {}) }, req)
    if (!this.jsonEnabled()) this.log(render(result, flags.format as QueryFormat))
    return result
  }
}
