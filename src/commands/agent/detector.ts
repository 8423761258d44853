import { Flags } from '@oclif/core'
import { DetectorAgent } from '../../agents/detector/index.js'
import { BaseCommand, flagValue } from '../../lib/cli/base-command.js'
import { runAgents, type AgentRunResult } from '../../lib/cli/run-agent.js'

export default class AgentDetector extends BaseCommand<typeof AgentDetector> {
  static summary = 'Run the detector: metric points → anomaly scores (basic, agile or robust tier) → anomaly records on the bus and in the store.'
  static description =
    'Joins consumer group detector.group on bus.topics.metrics (instances share partitions). Each series is scored ' +
    'by the tier detector.tiers gives it (default detector.defaultTier): basic (robust streaming statistics), agile ' +
    '(seasonality-aware) or robust (an ONNX spectral-residual model behind a dynamic batcher: 64 windows or 50 ms). ' +
    'Scores share one calibrated 0–1 scale; an anomaly opens at detector.openScore and then updates (no alert ' +
    'storms). If the model is missing or its ml_inference breaker opens, the statistical tier scores instead; if ' +
    'that fails, the static detector.rules. The degradation level (0 full … 4 emergency) is on every record, in ' +
    '/readyz and in /metrics (aiops_detector_degradation_level). --device cuda uses the CUDA execution provider ' +
    'when installed (see docs/detector.md), else CPU with one log line saying why.'
  static examples = [
    '<%= config.bin %> agent detector',
    '<%= config.bin %> agent detector --default-tier robust --device cuda --telemetry-port 9466',
    'AIOPS_DETECTOR_TIERS="acme/http.*=robust,*.queue.depth=agile" AIOPS_BUS_BACKEND=kafka AIOPS_BUS_KAFKA_BROKERS=kafka:9092 <%= config.bin %> agent detector',
  ]

  static flags = {
    group: Flags.string({ summary: 'Consumer group (detector.group).' }),
    'default-tier': Flags.string({ summary: 'Tier for series no detector.tiers entry matches (detector.defaultTier).', options: ['basic', 'agile', 'robust'] }),
    device: Flags.string({ summary: 'Execution provider of the robust tier (detector.robust.device).', options: ['cpu', 'cuda'] }),
    model: Flags.string({ summary: 'ONNX model file of the robust tier (detector.robust.modelPath).' }),
    'telemetry-host': Flags.string({ summary: 'Address of /healthz, /readyz, /metrics (telemetry.host).' }),
    'telemetry-port': Flags.integer({ summary: 'Port of /healthz, /readyz, /metrics; 0 picks a free one (telemetry.port).' }),
    'shutdown-deadline': Flags.integer({ summary: 'Milliseconds to drain on SIGTERM before a forced exit 130 (shutdown.deadlineMs).' }),
  }

  async run(): Promise<AgentRunResult> {
    const resolved = await this.loadConfig({
      'detector.group': flagValue(this.flags.group, '--group'),
      'detector.defaultTier': flagValue(this.flags['default-tier'], '--default-tier'),
      'detector.robust.device': flagValue(this.flags.device, '--device'),
      'detector.robust.modelPath': flagValue(this.flags.model, '--model'),
      'telemetry.host': flagValue(this.flags['telemetry-host'], '--telemetry-host'),
      'telemetry.port': flagValue(this.flags['telemetry-port'], '--telemetry-port'),
      'shutdown.deadlineMs': flagValue(this.flags['shutdown-deadline'], '--shutdown-deadline'),
    })
    const run = await runAgents({
      resolved,
      agents: [new DetectorAgent()],
      name: 'aiops-detector',
      onReady: (url) => {
        if (!this.jsonEnabled()) this.logToStderr(`detector running: health and metrics on ${url}; SIGTERM or Ctrl-C to stop`)
      },
    })
    if (!this.jsonEnabled()) this.logToStderr(`detector stopped after ${run.uptimeS}s (exit ${run.exitCode})`)
    if (run.exitCode !== 0) {
      if (this.jsonEnabled()) this.logJson(run)
      this.exit(run.exitCode)
    }
    return run
  }
}
