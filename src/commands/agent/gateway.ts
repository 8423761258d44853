import { Flags } from '@oclif/core'
import { GatewayAgent } from '../../agents/gateway/index.js'
import { BaseCommand, flagValue } from '../../lib/cli/base-command.js'
import { runAgents, type AgentRunResult } from '../../lib/cli/run-agent.js'

export interface GatewayRunResult extends AgentRunResult {
  /** Where OTLP/HTTP was served, e.g. http://127.0.0.1:4318. */
  otlpUrl: string
}

export default class AgentGateway extends BaseCommand<typeof AgentGateway> {
  static summary = 'Run the gateway: OTLP/HTTP (protobuf or JSON, optionally gzip) on /v1/traces, /v1/metrics, /v1/logs → the bus.'
  static description =
    'Answers per the OTLP/HTTP spec: 200 (with partial_success when some items are invalid), 400 undecodable, 401 unknown ' +
    'API key, 413 over gateway.maxBodyBytes (after decompression), 415 wrong content type, 429 tenant over its rate, ' +
    '503 over the memory limit, buffer full or shutting down (429/503 carry Retry-After). A request is acknowledged only ' +
    'once its records are on the bus (or in the disk spool, --spool). Tenants come from API keys (gateway.apiKeys, ' +
    'AIOPS_GATEWAY_API_KEYS="key=tenant:tier,..."); with no keys the gateway runs open, stamping gateway.openTenant. ' +
    'Under backpressure (consumer lag, insert queue) ordinary items are sampled by trace id; errors and slow spans are ' +
    'always kept. Health and metrics on the telemetry port (/healthz, /readyz, /metrics). SIGTERM: stop accepting, ' +
    'finish and produce what was accepted, exit 0.'
  static examples = [
    '<%= config.bin %> agent gateway',
    'AIOPS_BUS_BACKEND=kafka AIOPS_BUS_KAFKA_BROKERS=kafka:9092 AIOPS_GATEWAY_API_KEYS="k_live_1=acme:medium,k_live_2=globex:large" <%= config.bin %> agent gateway --host 0.0.0.0',
    '<%= config.bin %> agent gateway --port 14318 --telemetry-port 9465 --spool --json',
  ]

  static flags = {
    port: Flags.integer({ summary: 'OTLP/HTTP port; 0 picks a free one (gateway.port).' }),
    host: Flags.string({ summary: 'Address the OTLP/HTTP listener binds, 0.0.0.0 for all (gateway.host).' }),
    'open-tenant': Flags.string({ summary: 'Tenant stamped on every request when no API keys are configured (gateway.openTenant).' }),
    'max-body-bytes': Flags.integer({ summary: 'Largest request body after decompression (gateway.maxBodyBytes).' }),
    spool: Flags.boolean({ summary: 'Spool records to disk when the bus is down, and replay them (gateway.spool.enabled).', allowNo: true }),
    'telemetry-host': Flags.string({ summary: 'Address of /healthz, /readyz, /metrics (telemetry.host).' }),
    'telemetry-port': Flags.integer({ summary: 'Port of /healthz, /readyz, /metrics; 0 picks a free one (telemetry.port).' }),
    'shutdown-deadline': Flags.integer({ summary: 'Milliseconds to drain on SIGTERM before a forced exit 130 (shutdown.deadlineMs).' }),
  }

  async run(): Promise<GatewayRunResult> {
    const resolved = await this.loadConfig({
      'gateway.port': flagValue(this.flags.port, '--port'),
      'gateway.host': flagValue(this.flags.host, '--host'),
      'gateway.openTenant': flagValue(this.flags['open-tenant'], '--open-tenant'),
      'gateway.maxBodyBytes': flagValue(this.flags['max-body-bytes'], '--max-body-bytes'),
      'gateway.spool.enabled': flagValue(this.flags.spool, '--spool'),
      'telemetry.host': flagValue(this.flags['telemetry-host'], '--telemetry-host'),
      'telemetry.port': flagValue(this.flags['telemetry-port'], '--telemetry-port'),
      'shutdown.deadlineMs': flagValue(this.flags['shutdown-deadline'], '--shutdown-deadline'),
    })
    const gateway = new GatewayAgent()
    let otlpUrl = ''
    const run = await runAgents({
      resolved,
      agents: [gateway],
      name: 'aiops-gateway',
      onReady: (url) => {
        otlpUrl = gateway.url
        if (!this.jsonEnabled()) this.logToStderr(`gateway serving OTLP/HTTP on ${otlpUrl} (/v1/traces /v1/metrics /v1/logs); health and metrics on ${url}; Ctrl-C to stop`)
      },
    })
    const result: GatewayRunResult = { ...run, otlpUrl }
    if (!this.jsonEnabled()) this.logToStderr(`gateway stopped after ${run.uptimeS}s (exit ${run.exitCode})`)
    if (run.exitCode !== 0) {
      if (this.jsonEnabled()) this.logJson(result)
      this.exit(run.exitCode)
    }
    return result
  }
}
