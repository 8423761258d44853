import { BaseCommand } from '../../lib/cli/base-command.js'
import { openBackends } from '../../lib/backends.js'
import { applySchema } from '../../lib/store/index.js'

export interface SchemaApplyResult {
  backend: string
  database: string
  serverVersion: string
  applied: string[]
}

export default class SchemaApply extends BaseCommand<typeof SchemaApply> {
  static summary = 'Create or migrate the aiops tables in the configured store (idempotent).'
  static description = 'Agents do this on start; run it yourself when agents run without DDL rights. Applied migrations are recorded in schema_migrations.'
  static examples = ['<%= config.bin %> schema apply', 'AIOPS_STORE_BACKEND=clickhouse AIOPS_STORE_CLICKHOUSE_URL=http://ch:8123 <%= config.bin %> schema apply --json']

  async run(): Promise<SchemaApplyResult> {
    const { config } = await this.loadConfig()
    const b = await openBackends(config)
    try {
      const r = await applySchema(b.store, { database: b.database })
      if (!this.jsonEnabled()) {
        this.log(`${b.store.kind} ${r.version.version}, database ${b.database}: ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'up to date'}`)
      }
      return { backend: b.store.kind, database: b.database, serverVersion: r.version.version, applied: r.applied }
    } finally {
      await Promise.allSettled([b.bus.close(), b.store.close(), b.cache.close()])
    }
  }
}
