/**
 * What the executor derives from a request before anything else: the URL settings it forwards (each checked against
 * the tenant's limits) and a query id when the client sent none. Kept cheap: this runs on every cache hit.
 */
import { randomBytes } from 'node:crypto'
import { checkSetting, type SettingLimits } from '../../lib/routing/policy.js'
import type { Tenant } from './tenants.js'

/**
 * Query ids for requests that sent none: 32 random hex digits cut from a pooled random buffer (formatting a
 * randomUUID per request cost as much as the rest of a cache hit's bookkeeping). Unguessable, like ClickHouse's own.
 */
let idPool = randomBytes(4096)
let idAt = 0
export function newQueryId(): string {
  if (idAt + 16 > idPool.length) {
    idPool = randomBytes(4096)
    idAt = 0
  }
  idAt += 16
  return idPool.toString('hex', idAt - 16, idAt)
}

export function isEmpty(o: Record<string, string>): boolean {
  for (const _ in o) return false
  return true
}

/** The URL settings to forward, each checked against the tenant's limits (most requests carry none). */
export function forwardedSettings(settings: Record<string, string>, tenant: Tenant): Record<string, string> {
  let out: Record<string, string> | undefined
  for (const k in settings) {
    const value = checkSetting(k, settings[k] as string, settingLimits(tenant))
    if (value !== undefined) (out ??= {})[k] = value
  }
  return out ?? {}
}

export function settingLimits(t: Tenant): SettingLimits {
  return { max_execution_time: t.limits.maxExecutionS, max_result_rows: t.limits.maxResultRows, max_result_bytes: t.limits.maxResultBytes }
}
