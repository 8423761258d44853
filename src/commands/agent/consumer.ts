import { Flags } from '@oclif/core'
import { ConsumerAgent } from '../../agents/consumer/index.js'
import { BaseCommand, flagValue } from '../../lib/cli/base-command.js'
import { runAgents, type AgentRunResult } from '../../lib/cli/run-agent.js'

export default class AgentConsumer extends BaseCommand<typeof AgentConsumer> {
  static summary = 'Run the consumer: traces, metrics and logs topics → validated batches → the store, each row exactly once.'
  static description =
    'Reads bus.topics.traces/metrics/logs with one consumer group per topic (<consumer.group>.traces, .metrics, .logs), ' +
    'batches rows by consumer.batch.* (default 50,000 rows or 1 s), inserts them with dedup tokens recorded as ' +
    'write-ahead intents, and commits offsets only after the rows are stored: a crash replays without duplicates. ' +
    'Undecodable or invalid records go to bus.topics.deadLetter with the reason. While the store is down batches are ' +
    'held and retried (consumption pauses); nothing is skipped. Health and metrics on the telemetry port ' +
    '(/healthz, /readyz, /metrics). SIGTERM stops fetching, stores what was taken, commits and exits 0.'
  static examples = [
    'AIOPS_BUS_BACKEND=kafka AIOPS_BUS_KAFKA_BROKERS=kafka:9092 AIOPS_STORE_BACKEND=clickhouse AIOPS_STORE_CLICKHOUSE_URL=http://ch:8123 <%= config.bin %> agent consumer',
    '<%= config.bin %> agent consumer --group aiops-consumer-eu --max-batch-rows 100000 --telemetry-port 9465',
    '<%= config.bin %> agent consumer --config /etc/aiops/aiops.config.yaml --json',
  ]

  static flags = {
    group: Flags.string({ summary: 'Consumer group name prefix (consumer.group).' }),
    'max-batch-rows': Flags.integer({ summary: 'Insert once a batch holds this many rows (consumer.batch.maxRows).' }),
    'max-wait-ms': Flags.integer({ summary: 'Insert at the latest this long after a batch began (consumer.batch.maxWaitMs).' }),
    'telemetry-host': Flags.string({ summary: 'Address of /healthz, /readyz, /metrics (telemetry.host).' }),
    'telemetry-port': Flags.integer({ summary: 'Port of /healthz, /readyz, /metrics; 0 picks a free one (telemetry.port).' }),
    'shutdown-deadline': Flags.integer({ summary: 'Milliseconds to drain on SIGTERM before a forced exit 130 (shutdown.deadlineMs).' }),
  }

  async run(): Promise<AgentRunResult> {
    const resolved = await this.loadConfig({
      'consumer.group': flagValue(this.flags.group, '--group'),
      'consumer.batch.maxRows': flagValue(this.flags['max-batch-rows'], '--max-batch-rows'),
      'consumer.batch.maxWaitMs': flagValue(this.flags['max-wait-ms'], '--max-wait-ms'),
      'telemetry.host': flagValue(this.flags['telemetry-host'], '--telemetry-host'),
      'telemetry.port': flagValue(this.flags['telemetry-port'], '--telemetry-port'),
      'shutdown.deadlineMs': flagValue(this.flags['shutdown-deadline'], '--shutdown-deadline'),
    })
    const run = await runAgents({
      resolved,
      agents: [new ConsumerAgent()],
      name: 'aiops-consumer',
      onReady: (url) => {
        if (!this.jsonEnabled()) this.logToStderr(`consumer running: health and metrics on ${url}; SIGTERM or Ctrl-C to stop`)
      },
    })
    if (!this.jsonEnabled()) this.logToStderr(`consumer stopped after ${run.uptimeS}s (exit ${run.exitCode})`)
    if (run.exitCode !== 0) {
      if (this.jsonEnabled()) this.logJson(run)
      this.exit(run.exitCode)
    }
    return run
  }
}
