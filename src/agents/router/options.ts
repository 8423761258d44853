/**
 * Configuration → the router's parts: the database tenants read, the replicas (router.replicas, or the configured
 * store as the one replica of every tier) and the tenant directory (keys, tenants file, open mode).
 */
import type { AiopsConfig } from '../../lib/config/index.js'
import { ConfigError } from '../../lib/errors.js'
import { TIERS, type Tier } from '../../lib/routing/tiers.js'
import type { Store } from '../../lib/store/types.js'
import { HttpReplica } from './replicas/http.js'
import { StoreReplica } from './replicas/store.js'
import type { Replica } from './replicas/types.js'
import { readTenantsFile, TenantDirectory } from './tenants.js'

export function routerDatabase(config: AiopsConfig): string {
  if (config.router.database) return config.router.database
  return config.store.backend === 'chdb' ? config.store.chdb.database : config.store.clickhouse.database
}

/** `tier=url` entries; without any, the store the host opened serves every tier. */
export function buildReplicas(config: AiopsConfig, store: Store): Replica[] {
  const rc = config.router
  if (rc.replicas.length === 0) {
    if (store.kind === 'chdb') return [new StoreReplica(store, 'embedded', TIERS)]
    const c = config.store.clickhouse
    return [new HttpReplica({ name: hostPort(c.url, 'store.clickhouse.url'), tiers: TIERS, url: c.url, username: c.username, password: c.password, timeoutMs: rc.replicaTimeoutMs })]
  }
  const seen = new Map<string, number>()
  return rc.replicas.map((entry) => {
    const i = entry.indexOf('=')
    const tier = entry.slice(0, i) as Tier
    const url = entry.slice(i + 1)
    if (i <= 0 || !TIERS.includes(tier)) {
      throw new ConfigError('router.replicas', `router.replicas entry ${JSON.stringify(entry)} must be tier=url with tier hot, warm or cold`, {
        suggestions: ['e.g. hot=http://ch-1:8123,cold=http://ch-archive:8123'],
      })
    }
    const base = `${tier}/${hostPort(url, 'router.replicas')}`
    const n = (seen.get(base) ?? 0) + 1
    seen.set(base, n)
    return new HttpReplica({
      name: n === 1 ? base : `${base}#${n}`,
      tiers: [tier],
      url,
      username: rc.replicaUsername,
      password: rc.replicaPassword,
      timeoutMs: rc.replicaTimeoutMs,
    })
  })
}

function hostPort(url: string, field: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new ConfigError(field, `${field}: ${JSON.stringify(url)} is not a URL`, { suggestions: ['write it as http://host:8123'] })
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(field, `${field}: ${url} must be an http(s) URL`)
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`
}

export interface AuthSetup {
  directory: TenantDirectory
  mode: 'keys' | 'open'
}

export async function buildTenants(config: AiopsConfig): Promise<AuthSetup> {
  const a = config.router.auth
  const l = config.router.limits
  const defaults = { maxConcurrent: l.maxConcurrent, queriesPerMinute: l.queriesPerMinute, maxExecutionS: l.maxExecutionS, maxResultRows: l.maxResultRows, maxResultBytes: l.maxResultBytes }
  const entries = a.tenantsFile ? await readTenantsFile(a.tenantsFile) : []
  const anyKey = a.keys.length > 0 || entries.some((e) => (e.keys ?? []).length > 0)
  const mode = a.mode === 'auto' ? (anyKey ? 'keys' : 'open') : a.mode
  if (mode === 'open' && !a.openTenant) {
    throw new ConfigError('router.auth.openTenant', 'open mode needs router.auth.openTenant (the tenant of requests without a key)')
  }
  if (mode === 'keys' && !anyKey) {
    throw new ConfigError('router.auth.mode', 'router.auth.mode is keys but no key is configured', {
      suggestions: ['add router.auth.keys (KEY=TENANT) or a router.auth.tenantsFile, or use mode auto/open'],
    })
  }
  const directory = new TenantDirectory(defaults, mode === 'open' ? a.openTenant : undefined)
  directory.addFileEntries(entries, a.tenantsFile)
  directory.addKeys(a.keys)
  return { directory, mode }
}
