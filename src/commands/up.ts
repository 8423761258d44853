import { Flags } from '@oclif/core'
import { allAgents } from '../agents/all.js'
import { BaseCommand, flagValue } from '../lib/cli/base-command.js'
import { runAgents, type AgentRunResult } from '../lib/cli/run-agent.js'

export interface UpResult extends AgentRunResult {
  dataDir: string
}

export default class Up extends BaseCommand<typeof Up> {
  static summary = 'Run the whole pipeline in one process on embedded defaults (memory bus, chDB store, memory cache).'
  static description =
    'No servers to install. Data lives under --data-dir. Health and metrics are served on the telemetry port ' +
    '(/healthz, /readyz, /metrics). Ctrl-C (SIGINT) or SIGTERM stops intake, flushes and exits 0; a second Ctrl-C forces exit 130.'
  static examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up --data-dir /var/lib/aiops --telemetry-port 9464',
    'AIOPS_STORE_BACKEND=clickhouse AIOPS_STORE_CLICKHOUSE_URL=http://ch:8123 <%= config.bin %> up',
  ]

  static flags = {
    'data-dir': Flags.string({ summary: 'Where embedded backends keep their data (dataDir).' }),
    'telemetry-host': Flags.string({ summary: 'Address of /healthz, /readyz, /metrics (telemetry.host).' }),
    'telemetry-port': Flags.integer({ summary: 'Port of /healthz, /readyz, /metrics; 0 picks a free one (telemetry.port).' }),
    'shutdown-deadline': Flags.integer({ summary: 'Milliseconds to drain on SIGTERM before a forced exit 130 (shutdown.deadlineMs).' }),
  }

  async run(): Promise<UpResult> {
    const resolved = await this.loadConfig({
      dataDir: flagValue(this.flags['data-dir'], '--data-dir'),
      'telemetry.host': flagValue(this.flags['telemetry-host'], '--telemetry-host'),
      'telemetry.port': flagValue(this.flags['telemetry-port'], '--telemetry-port'),
      'shutdown.deadlineMs': flagValue(this.flags['shutdown-deadline'], '--shutdown-deadline'),
    })
    const run = await runAgents({
      resolved,
      agents: allAgents(resolved.config),
      name: 'aiops-up',
      onReady: (url) => {
        if (!this.jsonEnabled()) this.logToStderr(`aiops is up: health and metrics on ${url} (/healthz /readyz /metrics); Ctrl-C to stop`)
      },
    })
    const result: UpResult = { ...run, dataDir: resolved.config.dataDir }
    if (!this.jsonEnabled()) this.logToStderr(`stopped after ${run.uptimeS}s (exit ${run.exitCode})`)
    if (run.exitCode !== 0) {
      if (this.jsonEnabled()) this.logJson(result)
      this.exit(run.exitCode)
    }
    return result
  }
}
