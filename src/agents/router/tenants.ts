/**
 * Who is asking, and how much they may ask: API key → tenant, and per-tenant limits (concurrent queries on
 * replicas, requests per minute). Keys come from `router.auth.keys` (tenant:key) and/or a tenants file that can also
 * set per-tenant limits and the replica credentials the router uses for that tenant (database-level enforcement).
 */
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from '../../lib/errors.js'
import { QueryRefusedError } from '../../lib/routing/errors.js'
import { TENANT_ID } from '../../lib/routing/policy.js'
import { systemClock, type Clock } from '../../lib/resilience/clock.js'

export interface TenantLimits {
  maxConcurrent: number
  queriesPerMinute: number
  maxExecutionS: number
  maxResultRows: number
  maxResultBytes: number
}

export interface Tenant {
  id: string
  limits: TenantLimits
  /** Replica credentials for this tenant (a user whose profile and quota the database enforces too). */
  replicaAuth?: { username: string; password: string }
}

export interface Credentials {
  /** From the API key header, a Bearer token, or the password of the ClickHouse door. */
  key?: string
  /** The ClickHouse user, when one was sent: it must be the key's tenant (or `default`, which many tools send). */
  user?: string
}

export interface TenantFileEntry {
  id: string
  keys?: string[]
  limits?: Partial<TenantLimits>
  replica?: { username: string; password?: string }
}

export class TenantDirectory {
  private readonly byKey = new Map<string, Tenant>()
  private readonly tenants = new Map<string, Tenant>()

  constructor(
    private readonly defaults: TenantLimits,
    private readonly open: string | undefined,
  ) {}

  /** `KEY=TENANT` entries from router.auth.keys (the same form as gateway.apiKeys). */
  addKeys(entries: readonly string[]): void {
    for (const entry of entries) {
      const i = entry.lastIndexOf('=')
      if (i <= 0 || i === entry.length - 1) {
        throw new ConfigError('router.auth.keys', 'router.auth.keys entries must be KEY=TENANT (e.g. k-123=acme)', {
          suggestions: ['write each entry as KEY=TENANT; put many in a list or comma-separate them in AIOPS_ROUTER_AUTH_KEYS'],
        })
      }
      this.addKey(this.tenant({ id: entry.slice(i + 1) }, 'router.auth.keys'), entry.slice(0, i), 'router.auth.keys')
    }
  }

  addFileEntries(entries: readonly TenantFileEntry[], file: string): void {
    for (const e of entries) {
      const t = this.tenant(e, file)
      for (const k of e.keys ?? []) this.addKey(t, k, file)
    }
  }

  get size(): number {
    return this.byKey.size
  }

  get tenantIds(): string[] {
    return [...new Set([...this.tenants.keys(), ...(this.open ? [this.open] : [])])]
  }

  /** The tenant of a request, or a 401-mapped refusal that says what to send. */
  authenticate(c: Credentials): Tenant {
    if (c.key !== undefined && c.key !== '') {
      const t = this.lookup(c.key)
      if (!t) throw unauthorized('the API key is not known')
      if (c.user !== undefined && c.user !== '' && c.user !== 'default' && c.user !== t.id) {
        throw unauthorized(`user ${c.user} does not match the key's tenant`)
      }
      return t
    }
    if (this.open !== undefined) return this.tenants.get(this.open) ?? this.tenant({ id: this.open }, 'router.auth.openTenant')
    throw unauthorized('no API key was sent')
  }

  private lookup(key: string): Tenant | undefined {
    // A hash lookup: its time depends on the key's hash, not on how many leading characters match a real key.
    return this.byKey.get(key)
  }

  private tenant(e: TenantFileEntry, where: string): Tenant {
    if (!TENANT_ID.test(e.id ?? '')) {
      throw new ConfigError('router.auth', `tenant id ${JSON.stringify(e.id)} in ${where} is not valid`, {
        suggestions: ['tenant ids are 1-64 letters, digits, _, . or -, starting with a letter or digit'],
      })
    }
    const existing = this.tenants.get(e.id)
    const limits = { ...(existing?.limits ?? this.defaults), ...(e.limits ?? {}) }
    for (const [k, v] of Object.entries(limits)) {
      if (!Number.isInteger(v) || v < 0 || (v === 0 && k !== 'maxResultRows' && k !== 'maxResultBytes')) {
        throw new ConfigError('router.auth.tenantsFile', `tenant ${e.id}: limits.${k} must be a positive integer (got ${v}) in ${where}`)
      }
    }
    const t: Tenant = {
      id: e.id,
      limits,
      ...(e.replica ? { replicaAuth: { username: e.replica.username, password: e.replica.password ?? '' } } : existing?.replicaAuth ? { replicaAuth: existing.replicaAuth } : {}),
    }
    this.tenants.set(e.id, t)
    for (const [k, v] of this.byKey) if (v.id === t.id) this.byKey.set(k, t)
    return t
  }

  private addKey(t: Tenant, key: string, where: string): void {
    const other = this.byKey.get(key)
    if (other && other.id !== t.id) {
      throw new ConfigError('router.auth', `the same API key is given to tenants ${other.id} and ${t.id} (${where})`, {
        suggestions: ['every key must belong to exactly one tenant'],
      })
    }
    this.byKey.set(key, t)
  }
}

export async function readTenantsFile(file: string): Promise<TenantFileEntry[]> {
  let doc: unknown
  try {
    doc = parseYaml(await readFile(file, 'utf8'))
  } catch (err) {
    throw new ConfigError('router.auth.tenantsFile', `cannot read tenants file ${file}: ${(err as Error).message}`, { cause: err })
  }
  const list = (doc as { tenants?: unknown } | null)?.tenants
  if (!Array.isArray(list)) {
    throw new ConfigError('router.auth.tenantsFile', `${file} must contain "tenants:" with a list of {id, keys, limits, replica}`, {
      suggestions: ['see docs/router.md for an example tenants file'],
    })
  }
  return list as TenantFileEntry[]
}

function unauthorized(why: string): QueryRefusedError {
  return new QueryRefusedError(
    `authentication failed: ${why}. Send the key in the API key header (router.auth.apiKeyHeader), as "Authorization: Bearer <key>", or as the ClickHouse password (user = tenant id or default)`,
    'AUTHENTICATION_FAILED',
  )
}

/**
 * Per-tenant admission: a token bucket of queriesPerMinute (refilled continuously, so a burst of a minute's worth
 * is allowed and then the steady rate) and a cap on queries running on replicas at once.
 */
export class TenantLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  private readonly running = new Map<string, number>()

  constructor(private readonly clock: Clock = systemClock) {}

  /** Takes one request token or throws 429 with the seconds until the next token. */
  admit(t: Tenant): void {
    const now = this.clock.now()
    const cap = t.limits.queriesPerMinute
    const b = this.buckets.get(t.id) ?? { tokens: cap, at: now }
    b.tokens = Math.min(cap, b.tokens + ((now - b.at) * cap) / 60_000)
    b.at = now
    this.buckets.set(t.id, b)
    if (b.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil(((1 - b.tokens) * 60) / cap))
      throw new QueryRefusedError(
        `tenant ${t.id} is over its limit of ${cap} queries per minute; retry in ${retryAfterS}s`,
        'QUOTA_EXCEEDED',
        { tenant: t.id, limit: cap },
        retryAfterS,
      )
    }
    b.tokens -= 1
  }

  /** Reserves a replica slot; the returned function releases it (call it exactly once). */
  acquire(t: Tenant): () => void {
    const n = this.running.get(t.id) ?? 0
    if (n >= t.limits.maxConcurrent) {
      throw new QueryRefusedError(
        `tenant ${t.id} already runs ${n} queries (limit ${t.limits.maxConcurrent}); retry when one finishes`,
        'TOO_MANY_SIMULTANEOUS_QUERIES',
        { tenant: t.id, limit: t.limits.maxConcurrent },
        1,
      )
    }
    this.running.set(t.id, n + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      this.running.set(t.id, (this.running.get(t.id) ?? 1) - 1)
    }
  }

  runningOf(tenant: string): number {
    return this.running.get(tenant) ?? 0
  }
}
