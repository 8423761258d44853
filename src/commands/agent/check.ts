import { BaseCommand } from '../../lib/cli/base-command.js'
import { checkBackends, type BackendCheck } from '../../lib/doctor.js'
import { AiopsError } from '../../lib/errors.js'

export interface AgentCheckResult {
  ok: boolean
  checks: BackendCheck[]
}

export default class AgentCheck extends BaseCommand<typeof AgentCheck> {
  static summary = "Check that the configured bus, store and cache answer, as an agent's /readyz would."
  static description = 'Run it on a host before starting agents there (or as a Kubernetes init container). Exit 1 if any backend is down.'
  static examples = ['<%= config.bin %> agent check', 'AIOPS_BUS_BACKEND=kafka AIOPS_BUS_KAFKA_BROKERS=k1:9092 <%= config.bin %> agent check --json']

  async run(): Promise<AgentCheckResult> {
    const { config } = await this.loadConfig()
    const checks = await checkBackends(config)
    const ok = checks.every((c) => c.ok)
    if (!this.jsonEnabled()) {
      for (const c of checks) this.log(`${c.ok ? 'ok  ' : 'DOWN'}  ${c.role.padEnd(5)} ${c.backend.padEnd(10)} ${c.target}${c.ok ? '' : `  ${c.error}`}`)
    }
    if (!ok) {
      const down = checks.filter((c) => !c.ok)
      throw new AiopsError(`${down.map((c) => c.backend).join(', ')} unreachable`, {
        code: 'AIOPS_BACKEND_DOWN',
        retriable: true,
        details: { checks },
        suggestions: down.map((c) => `check ${c.field} (now ${c.target})`),
      })
    }
    return { ok, checks }
  }
}
