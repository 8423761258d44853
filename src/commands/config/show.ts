import { BaseCommand } from '../../lib/cli/base-command.js'
import { leaves, redact, configSchema, type ValueSource } from '../../lib/config/index.js'

export interface ConfigShowResult {
  file: string | null
  warnings: string[]
  fields: Array<{ path: string; value: unknown; source: ValueSource['kind']; from?: string; env: string }>
}

export default class ConfigShow extends BaseCommand<typeof ConfigShow> {
  static summary = 'Print the resolved configuration and where each value came from.'
  static description = 'Precedence: flags > AIOPS_* environment > config file > defaults. Secrets are printed as ***.'
  static examples = [
    '<%= config.bin %> config show',
    'AIOPS_BUS_BACKEND=kafka <%= config.bin %> config show --json',
    '<%= config.bin %> config show --config ./prod.aiops.yaml',
  ]

  async run(): Promise<ConfigShowResult> {
    const { config, sources, file, warnings } = await this.loadConfig()
    const flat = flatten(redact(config))
    const fields = leaves(configSchema).map((l) => ({
      path: l.path,
      value: flat[l.path],
      source: sources[l.path]?.kind ?? 'default',
      ...(sources[l.path]?.detail ? { from: sources[l.path]!.detail } : {}),
      env: l.env,
    }))
    if (!this.jsonEnabled()) {
      this.log(`config file: ${file ?? '(none found; defaults apply)'}`)
      const width = Math.max(...fields.map((f) => f.path.length))
      for (const f of fields) {
        const from = f.source === 'default' ? 'default' : `${f.source}: ${f.from}`
        this.log(`${f.path.padEnd(width)}  ${JSON.stringify(f.value)}  (${from})`)
      }
    }
    return { file: file ?? null, warnings, fields }
  }
}

function flatten(obj: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else out[prefix] = obj
  return out
}
