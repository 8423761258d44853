import { Flags } from '@oclif/core'
import { RouterAgent } from '../../agents/router/index.js'
import { BaseCommand, flagValue } from '../../lib/cli/base-command.js'
import { runAgents, type AgentRunResult } from '../../lib/cli/run-agent.js'

export interface RouterRunResult extends AgentRunResult {
  /** Where the ClickHouse HTTP protocol and the JSON API were served, e.g. http://127.0.0.1:8124. */
  routerUrl: string
}

export default class AgentRouter extends BaseCommand<typeof AgentRouter> {
  static summary = 'Run the query router: ClickHouse HTTP protocol and a JSON API, tenant isolation, two cache layers, tiered replicas.'
  static description =
    'Point ClickHouse clients (@clickhouse/client, curl, Grafana) at it instead of ClickHouse: GET /ping answers Ok., queries go ' +
    'in the query parameter or the POST body, credentials as ClickHouse sends them (the password is the API key; ' +
    'router.auth.keys="KEY=TENANT,..."; with no keys it runs open on router.auth.openTenant). Every query is confined to the ' +
    "tenant's rows, read-only, without table functions that reach outside, system tables beyond an allow-list, or settings " +
    'that lift limits. Per tenant: concurrent queries and queries per minute (429 + Retry-After), execution time (killed on ' +
    'the replica). Results of ranges that ended over a minute ago are cached in process (L1) and in Redis (L2, ' +
    'cache.backend=redis) with a TTL by data age; X-Cache says HIT-L1, HIT-L2 or MISS. Replicas: router.replicas="hot=URL,' +
    'cold=URL" (default: the configured store). JSON API under /api/v1 (see docs/router.md). Health and metrics on the ' +
    'telemetry port. SIGTERM: stop accepting, finish queries in flight, exit 0.'
  static examples = [
    '<%= config.bin %> agent router',
    'AIOPS_STORE_BACKEND=clickhouse AIOPS_CACHE_BACKEND=redis AIOPS_ROUTER_REPLICAS="hot=http://ch-1:8123,hot=http://ch-2:8123,cold=http://ch-3:8123" <%= config.bin %> agent router --host 0.0.0.0',
    'AIOPS_ROUTER_AUTH_KEYS="k_acme=acme,k_globex=globex" <%= config.bin %> agent router --port 18124 --json',
    'curl "http://127.0.0.1:8124/?query=SELECT+count()+FROM+spans" -H "X-Api-Key: k_acme"',
  ]

  static flags = {
    port: Flags.integer({ summary: 'Router port; 0 picks a free one (router.port).' }),
    host: Flags.string({ summary: 'Address the router binds, 0.0.0.0 for all (router.host).' }),
    replica: Flags.string({ summary: 'A replica as tier=url (repeatable; router.replicas).', multiple: true }),
    'open-tenant': Flags.string({ summary: 'Tenant of requests without an API key in open mode (router.auth.openTenant).' }),
    'telemetry-host': Flags.string({ summary: 'Address of /healthz, /readyz, /metrics (telemetry.host).' }),
    'telemetry-port': Flags.integer({ summary: 'Port of /healthz, /readyz, /metrics; 0 picks a free one (telemetry.port).' }),
    'shutdown-deadline': Flags.integer({ summary: 'Milliseconds to drain on SIGTERM before a forced exit 130 (shutdown.deadlineMs).' }),
  }

  async run(): Promise<RouterRunResult> {
    const resolved = await this.loadConfig({
      'router.port': flagValue(this.flags.port, '--port'),
      'router.host': flagValue(this.flags.host, '--host'),
      'router.replicas': flagValue(this.flags.replica, '--replica'),
      'router.auth.openTenant': flagValue(this.flags['open-tenant'], '--open-tenant'),
      'telemetry.host': flagValue(this.flags['telemetry-host'], '--telemetry-host'),
      'telemetry.port': flagValue(this.flags['telemetry-port'], '--telemetry-port'),
      'shutdown.deadlineMs': flagValue(this.flags['shutdown-deadline'], '--shutdown-deadline'),
    })
    const router = new RouterAgent()
    let routerUrl = ''
    const run = await runAgents({
      resolved,
      agents: [router],
      name: 'aiops-router',
      onReady: (url) => {
        routerUrl = router.url
        if (!this.jsonEnabled()) this.logToStderr(`router serving ClickHouse HTTP and /api/v1 on ${routerUrl}; health and metrics on ${url}; Ctrl-C to stop`)
      },
    })
    const result: RouterRunResult = { ...run, routerUrl }
    if (!this.jsonEnabled()) this.logToStderr(`router stopped after ${run.uptimeS}s (exit ${run.exitCode})`)
    if (run.exitCode !== 0) {
      if (this.jsonEnabled()) this.logJson(result)
      this.exit(run.exitCode)
    }
    return result
  }
}
